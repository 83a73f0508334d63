"""``{{ value|confidence }}``: a model's probability (0–1) as a whole percentage for people, never "100" for what is
not certain (0.996 reads "99", not "100") and never "0" for what is possible."""

from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def confidence(value: object) -> str:
    """The percentage as text ("" for what is not a number)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if math.isnan(number):
        return ""
    percent = round(number * 100)
    if number < 1 and percent >= 100:
        return "99"
    if number > 0 and percent <= 0:
        return "1"
    return str(max(0, min(100, percent)))
