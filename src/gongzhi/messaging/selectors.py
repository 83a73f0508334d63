"""Reads of the messaging app: one's own inbox (never another person's, admins included: 404), and the deliveries
staff may see (the failed ones, to resend)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, QuerySet

from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.models import Delivery, Message

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)


def inbox(*, user: User, kind: str | None = None, unread: bool = False) -> QuerySet[Message]:
    """The user's messages: unread first, then newest first."""
    qs = Message.objects.restrict(user, "view").filter(user=user)
    if kind:
        qs = qs.filter(kind=kind)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")


def unread_count(*, user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Message.objects.restrict(user, "view").filter(user=user, read_at__isnull=True).count()


def kinds(*, user: User) -> list[tuple[str, str]]:
    """The kinds of the user's messages, as (code, name) for the filter."""
    from gongzhi.messaging.kinds import label

    codes = set(Message.objects.restrict(user, "view").filter(user=user).values_list("kind", flat=True))
    return sorted(((code, label(code)) for code in codes), key=lambda pair: pair[1])


def failed_deliveries(*, user: User, state: str | None = None) -> QuerySet[Delivery]:
    """Deliveries that failed (retrying) or gave up, on the staff user's ground, newest first."""
    states = [state] if state in (DeliveryState.FAILED, DeliveryState.GAVE_UP) else [
        DeliveryState.FAILED, DeliveryState.GAVE_UP]  # fmt: skip
    return Delivery.objects.restrict(user, "change").filter(state__in=states).order_by("-created_at", "-id")
