"""Writing the audit log. Services call :func:`record` inside their transaction, or :func:`record_many` for the
records of many rows written at once (a 12345 file's cases): the same records, one statement per thousands."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.forms.models import model_to_dict
from django.utils import timezone

from gongzhi.core import bulk, sql
from gongzhi.core.models import AuditLog

if TYPE_CHECKING:
    # django-stubs' placeholder for settings.AUTH_USER_MODEL (core knows no app, so not accounts' User by name)
    from django.contrib.auth.models import _User


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
    actor: _User | None,
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


@dataclass(slots=True)
class Entry:
    """One record for :func:`record_many`: what :func:`record` takes besides the actor (``obj`` given as its type,
    id and text)."""

    action: str
    object_type: str
    object_id: str | int | None = None
    object_repr: str = ""
    node_code: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str = ""


def record_many(*, actor: _User | None, entries: Iterable[Entry], at: datetime | None = None) -> int:
    """Write many audit records by one actor at once, each exactly as :func:`record` would write it (the same
    columns, ``object_repr`` cut at 200 characters, an actor without a primary key stored as none), in the caller's
    transaction: one ``COPY`` on PostgreSQL (``core.bulk``), ``bulk_create`` elsewhere. Returns how many."""
    at = at or timezone.now()
    actor_id = actor.pk if actor is not None and actor.pk else None
    if connection.vendor == "postgresql":
        dumps = json.dumps

        def rows() -> Iterable[tuple[Any, ...]]:
            for e in entries:
                yield (
                    at, actor_id, e.action, e.object_type, "" if e.object_id is None else str(e.object_id),
                    e.object_repr[:200], e.node_code, None if e.before is None else dumps(e.before),
                    None if e.after is None else dumps(e.after), e.note,
                )  # fmt: skip

        return bulk.copy_rows(AuditLog, bulk.columns_of(AuditLog, sql.AUDIT_COPY_COLUMNS), rows())
    objs = [
        AuditLog(
            at=at,
            actor_id=actor_id,
            action=e.action,
            object_type=e.object_type,
            object_id="" if e.object_id is None else str(e.object_id),
            object_repr=e.object_repr[:200],
            node_code=e.node_code,
            before=e.before,
            after=e.after,
            note=e.note,
        )
        for e in entries
    ]
    AuditLog.objects.bulk_create(objs, batch_size=500)
    return len(objs)
