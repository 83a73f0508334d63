"""Reads of the messaging app: one's own inbox (never another person's, admins included: 404), and the deliveries
staff may see (the failed ones, to resend)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def my_preferences(*, user: User) -> dict[str, Any]:
    """The user's own channels as they apply (their choice, else their roles' defaults), for the page and the API.
    Only ever one's own: there is no way to name another user's (admins included)."""
    from gongzhi.messaging import prefs
    from gongzhi.messaging.models import DutyGroup

    pref, chosen = prefs.effective([user.pk])[user.pk]
    groups = DutyGroup.objects.filter(
        is_active=True, body__role_assignments__user=user, body__role_assignments__is_active=True
    ).distinct()
    return {
        "in_app": True,
        "sms": pref.sms,
        "email": pref.email,
        "quiet_start": pref.quiet_start,
        "quiet_end": pref.quiet_end,
        "digest": pref.digest,
        "chosen": chosen,
        "phone_known": bool(str(getattr(user, "phone", "") or "").strip()),
        "email_known": bool(str(getattr(user, "email", "") or "").strip()),
        "duty_groups": sorted(str(name) for name in groups.values_list("body__name", flat=True)),
    }


def role_defaults(*, user: User) -> list[dict[str, Any]]:
    """The subdistricts whose role defaults the user may set, each with one row per role (its SMS and e-mail)."""
    from gongzhi.accounts.choices import Role
    from gongzhi.core.access import reaches
    from gongzhi.messaging.models import RoleDefault
    from gongzhi.territory.choices import NodeKind
    from gongzhi.territory.models import Node

    nodes = [n for n in Node.objects.restrict(user, "view").filter(kind=NodeKind.SUBDISTRICT).order_by("code")
             if reaches(user, "messaging.roledefault", "change", n)]  # fmt: skip
    out = []
    for node in nodes:
        saved = {d.role: d for d in RoleDefault.objects.restrict(user, "view").filter(node=node)}
        rows = [
            {"role": role, "label": label, "sms": saved[role].sms if role in saved else None,
             "email": saved[role].email if role in saved else None}
            for role, label in Role.choices if role != Role.ADMIN
        ]  # fmt: skip
        out.append({"node": node, "rows": rows})
    return out


def duty_groups(*, user: User) -> list[dict[str, Any]]:
    """The bodies whose WeCom duty group the user may configure, each with its group (the URL masked) or none."""
    from gongzhi.messaging.models import DutyGroup
    from gongzhi.messaging.services import may_set_duty_group
    from gongzhi.territory.models import Body

    groups = {g.body_id: g for g in DutyGroup.objects.restrict(user, "view")}
    bodies = Body.objects.restrict(user, "view").filter(is_active=True).select_related("node").order_by("kind", "name")
    out = []
    for body in bodies:
        group = groups.get(body.pk)
        if group is None and not may_set_duty_group(user, body):
            continue
        out.append({"body": body, "group": group, "masked": group.masked if group else ""})
    return out
