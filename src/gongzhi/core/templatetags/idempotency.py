"""``{% new_idempotency_key as key %}``: a fresh key for a form that may be sent twice (core.idempotency)."""

from __future__ import annotations

import uuid

from django import template

register = template.Library()


@register.simple_tag
def new_idempotency_key() -> str:
    return str(uuid.uuid4())
