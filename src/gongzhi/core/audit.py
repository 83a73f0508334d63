"""Writing the audit log. Services call :func:`record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from gongzhi.core.models import AuditLog


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-safe picture of a model instance's concrete fields (foreign keys as ids)."""
    data = model_to_dict(obj, fields=fields)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, list | tuple):
            value = [v.pk if isinstance(v, models.Model) else v for v in value]
        elif not isinstance(value, str | int | float | bool | dict | type(None)):
            value = str(value)
        out[key] = value
    return out


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    object_repr: str | None = None,
    node_code: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditLog:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr or str(obj)[:200]
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        node_code=node_code,
        before=before,
        after=after,
        note=note,
    )
