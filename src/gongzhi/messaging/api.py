"""The inbox API: one's own messages (paged, unread first), the unread count, marking read; one's own preferences."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Router
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.messaging import selectors, services
from gongzhi.messaging.models import Message
from gongzhi.messaging.schemas import MessageOut, PreferenceIn, PreferenceOut, ReadAllOut, UnreadOut

router = Router(tags=["inbox"])


@router.get("", response=list[MessageOut], summary="My messages: unread first, then newest first")
@paginate(PageNumberPagination)
def inbox(request: ApiRequest, kind: str | None = None, unread: bool = False) -> QuerySet[Message]:
    return selectors.inbox(user=request.auth, kind=kind, unread=unread)


@router.get("/unread-count", response=UnreadOut, summary="How many of my messages are unread")
def unread_count(request: ApiRequest) -> dict[str, int]:
    return {"unread": selectors.unread_count(user=request.auth)}


@router.post("/read-all", response=ReadAllOut, summary="Mark all my messages read")
def read_all(request: ApiRequest) -> dict[str, int]:
    return {"marked": services.mark_all_read(actor=request.auth)}


@router.get("/preferences", response=PreferenceOut, summary="My channels, quiet hours and digest choice")
def preferences(request: ApiRequest) -> dict[str, Any]:
    return selectors.my_preferences(user=request.auth)


@router.put("/preferences", response=PreferenceOut, summary="Choose my channels, quiet hours and the daily digest")
def set_preferences(request: ApiRequest, payload: PreferenceIn) -> dict[str, Any]:
    services.save_preferences(actor=request.auth, **payload.dict())
    return selectors.my_preferences(user=request.auth)


@router.post("/{message_id}/read", response=MessageOut, summary="Mark one of my messages read")
def read(request: ApiRequest, message_id: Int64) -> Any:
    return services.mark_read(actor=request.auth, message_id=message_id)
