"""Small reads the dispute pages need beyond ``disputes.selectors``: the places a form offers, the bodies a
dispute can be referred to, whether a user sends police notices, the week of the mediator's desk.

Kept apart from ``selectors.py`` (the API's and the pages' shared reads) so that the pages can grow without touching
it; every read of rows a user may not see still starts from ``restrict()``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.territory.choices import BodyKind, NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

PLACE_KINDS = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
SUBDISTRICT_CODE_LENGTH = 9
SENDER_ROLES = (Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT)


def dispute_places(*, user: User) -> list[Any]:
    """Communities, villages and grids where the user may register a dispute (tree order)."""
    from gongzhi.territory import selectors as territory

    return territory.places_for(user=user, label="disputes.dispute", action="add", kinds=PLACE_KINDS)


def sender_bodies(*, user: User) -> list[Any]:
    """The bodies the user sends police notices for (the police station; a co-building unit)."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.territory.models import Body

    ids = RoleAssignment.objects.filter(
        user=user, is_active=True, role__in=SENDER_ROLES, body__isnull=False
    ).values_list("body_id", flat=True)
    if not ids.exists():
        return []
    scope = user.scope_for("disputes.policenotice", "add")
    if scope.is_empty:
        return []
    return list(Body.objects.filter(pk__in=list(ids)).select_related("node").order_by("name"))


def is_sender(*, user: User) -> bool:
    return bool(sender_bodies(user=user))


def notice_places(*, user: User) -> list[Any]:
    """The places a notice can be sent to: the communities, villages and grids of the sending body's subdistrict
    (the body's ground; a notice names where it happened, not a row the sender reads)."""
    from gongzhi.territory.models import Node

    homes = {b.node.code[:SUBDISTRICT_CODE_LENGTH] for b in sender_bodies(user=user) if b.node is not None}
    if not homes:
        return []
    qs = Node.objects.none()
    for home in sorted(homes):
        qs = qs | Node.objects.filter(code__startswith=home, kind__in=PLACE_KINDS)
    return list(qs.order_by("code"))


def referral_bodies(*, user: User) -> QuerySet[Any]:
    """The bodies a dispute can be referred to (派出所, 司法所, 人民法庭, arbitration): departments and courts."""
    from gongzhi.territory import selectors as territory

    return territory.body_list(user=user).filter(kind__in=[BodyKind.DEPARTMENT, BodyKind.COURT])


def week_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday, local time."""
    local = timezone.localtime(now or timezone.now())
    start = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=7)


def may_work_disputes(*, user: User) -> bool:
    """Does any of the user's roles register or mediate disputes somewhere?"""
    scope = user.scope_for("disputes.dispute", "view")
    return bool(scope.everything or scope.prefixes or scope.lead_bodies or scope.bodies or scope.user_id)
