"""Masking of personal data (ID numbers, phone numbers). Revealing is a service action, audited."""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; short or odd values keep at most their last two characters."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_id_number(value: str | None) -> str:
    """``320102199001011234`` → ``3201**********1234``."""
    if not value:
        return ""
    text = value.strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]
