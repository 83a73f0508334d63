from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from ninja import Router, Schema
from ninja.pagination import paginate

from gongzhi.core import selectors
from gongzhi.core.http import ApiRequest
from gongzhi.core.models import AuditLog
from gongzhi.core.pagination import PageNumberPagination

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
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str


@router.get("", response=list[AuditOut], summary="The audit log within scope")
@paginate(PageNumberPagination)
def audit_list(request: ApiRequest, action: str | None = None, object_type: str | None = None) -> QuerySet[AuditLog]:
    return selectors.audit_list(user=request.auth, action=action, object_type=object_type)
