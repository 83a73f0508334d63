"""Notices API: send (once per household), read statistics on the caller's ground, who has not read, and a grid
worker's confirmation of reading. Residents read through their link's page (``/notices/r/<token>/``), not here."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from ninja import Router, Status
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.notices import selectors, services
from gongzhi.notices.models import Notice, NoticeDelivery
from gongzhi.notices.schemas import ConfirmIn, DeliveryOut, NoticeDetailOut, NoticeIn, NoticeOut, SendOut

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

router = Router(tags=["notices"])


def _detail(user: "User", notice_id: int) -> Any:
    """The notice with its senders and its read statistics on the user's ground, serialised by NoticeDetailOut."""
    notice: Any = selectors.notice_get(user=user, notice_id=notice_id)
    notice.sender_rows = selectors.notice_senders(notice=notice)
    notice.stats = selectors.delivery_stats(user=user, notice=notice)
    return notice


@router.get("", response=list[NoticeOut], summary="Notices in scope, newest first, with read counts on my ground")
@paginate(PageNumberPagination)
def notice_list(request: ApiRequest, q: str | None = None, area_id: Int64 | None = None) -> QuerySet[Notice]:
    return selectors.notice_list(user=request.auth, q=q, area_id=area_id)


@router.post(
    "",
    response={201: SendOut},
    summary="Send a notice to a place (or a tag group there), once per household",
    description=(
        "If the same notice (same title and text, last 30 days) already reached some of these households — e.g. a "
        "village committee and a community over the same ground — the caller joins it as a co-sender and only the "
        "households that have not had it get it."
    ),
)
def notice_send(request: ApiRequest, payload: NoticeIn) -> Status[dict[str, Any]]:
    result = services.deliver_notice(actor=request.auth, **payload.dict())
    return Status(
        201,
        {
            "notice": _detail(request.auth, result.notice.pk),
            "joined": result.joined,
            "households": result.households,
            "new_households": result.new_households,
            "already_delivered": result.already_delivered,
            "already_from": result.already_from,
        },
    )


@router.get(
    "/deliveries",
    response=list[DeliveryOut],
    summary="Deliveries I can confirm (a grid worker's households), unread by default",
)
@paginate(PageNumberPagination)
def my_deliveries(
    request: ApiRequest, notice_id: Int64 | None = None, unread: bool = True
) -> QuerySet[NoticeDelivery]:
    return selectors.worker_deliveries(user=request.auth, notice_id=notice_id, unread_only=unread)


@router.post(
    "/deliveries/{delivery_id}/confirm",
    response=DeliveryOut,
    summary="Confirm that a household has read the notice (in person or by phone)",
)
def delivery_confirm(request: ApiRequest, delivery_id: Int64, payload: ConfirmIn) -> Any:
    services.confirm_read(actor=request.auth, delivery_id=delivery_id, via=payload.via)
    return selectors.delivery_get(user=request.auth, delivery_id=delivery_id)


@router.get("/{notice_id}", response=NoticeDetailOut, summary="A notice with its senders and read statistics")
def notice_detail(request: ApiRequest, notice_id: Int64) -> Any:
    return _detail(request.auth, notice_id)


@router.get(
    "/{notice_id}/unread",
    response=list[DeliveryOut],
    summary="Households on my ground that have not read the notice (phones masked)",
)
@paginate(PageNumberPagination)
def notice_unread(
    request: ApiRequest, notice_id: Int64, within: str | None = None
) -> QuerySet[NoticeDelivery]:
    notice = selectors.notice_get(user=request.auth, notice_id=notice_id)
    return selectors.unread_list(user=request.auth, notice=notice, within_code=within)
