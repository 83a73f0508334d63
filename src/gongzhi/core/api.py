from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from gongzhi.core.models import AuditLog

router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    node_code: str
    before: dict | None
    after: dict | None
    note: str


@router.get("", response=list[AuditOut], summary="The audit log within scope")
@paginate(PageNumberPagination)
def audit_list(request: HttpRequest, action: str | None = None, object_type: str | None = None):  # type: ignore[no-untyped-def]
    qs = AuditLog.objects.restrict(request.auth, "view")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs
