"""Reads of the audit log, within the caller's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from gongzhi.core.models import AuditLog

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


def audit_list(
    *, user: AbstractBaseUser | AnonymousUser | None, action: str | None = None, object_type: str | None = None
) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.restrict(user, "view")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs.order_by("-at", "-id")
