"""Reads of notices. Every function that serves a user starts from ``restrict(user, action)``.

What a user sees of a notice's deliveries is limited to their own ground: a community's staff see how their
community read a subdistrict-wide notice, the subdistrict sees every community. Phones of household members are
never read out raw: the rows carry them only so that the page or schema can mask them.

The households a notice reaches come from the registry (``registry.selectors.occupied_households``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr

from gongzhi.core.access import get_in_scope
from gongzhi.core.scope import CODE_LEVELS, ScopedQuerySet, code_prefix_q
from gongzhi.notices.models import Notice, NoticeDelivery, NoticeSender
from gongzhi.registry.models import Person
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

GRID_CODE = 15
COMMUNITY_CODE = 12
# Places a notice can be addressed to from the form (buildings and households only through the API).
SENDABLE_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)


# --- who a notice reaches -------------------------------------------------------------------------------------------


def sendable_areas(*, user: User) -> list[Node]:
    """The subdistricts, communities, villages and grids the user may send a notice to, in tree order."""
    return territory.places_for(user=user, label="notices.notice", action="add", kinds=SENDABLE_KINDS)


def may_send(*, user: User) -> bool:
    return not user.scope_for("notices.notice", "add").is_empty


# --- notices --------------------------------------------------------------------------------------------------------


def _with_counts(qs: ScopedQuerySet[Notice], user: User) -> ScopedQuerySet[Notice]:
    """Annotate ``delivered_count`` and ``read_count``: the deliveries on the user's ground."""
    mine = NoticeDelivery.objects.restrict(user, "view").filter(notice=OuterRef("pk"))
    delivered = mine.order_by().values("notice").annotate(n=Count("id")).values("n")
    read = mine.filter(read_at__isnull=False).order_by().values("notice").annotate(n=Count("id")).values("n")
    return qs.annotate(
        delivered_count=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0)),
        read_count=Coalesce(Subquery(read, output_field=IntegerField()), Value(0)),
    )


def notice_list(
    *,
    user: User,
    q: str | None = None,
    area_id: int | None = None,
    since: datetime.date | None = None,
) -> QuerySet[Notice]:
    """Notices in scope (sent to the user's ground, to a place above it, or by the user), newest first, each with
    ``delivered_count`` and ``read_count`` on the user's ground."""
    qs = Notice.objects.restrict(user, "view").select_related("area", "sender_body", "sender")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    if area_id is not None:
        area = get_in_scope(Node, user, area_id)
        qs = qs.filter(code_prefix_q("area__code", area.code))
    if since is not None:
        qs = qs.filter(published_at__date__gte=since)
    return _with_counts(qs, user).order_by("-published_at", "-id")


def notice_get(*, user: User, notice_id: int, action: str = "view") -> Notice:
    queryset = _with_counts(Notice.objects.select_related("area", "sender_body", "sender"), user)
    return get_in_scope(Notice, user, notice_id, action, queryset=queryset)


def notice_senders(*, notice: Notice) -> list[NoticeSender]:
    """Who sent the notice (the first sender and every co-sender), oldest first. Shown with the notice: whoever
    sees the notice sees who sent it."""
    return list(notice.senders.select_related("user", "body", "area").order_by("sent_at", "id"))


# --- read statistics ------------------------------------------------------------------------------------------------


@dataclass
class AreaStats:
    code: str
    name: str
    node_id: int | None
    delivered: int = 0
    read: int = 0

    @property
    def unread(self) -> int:
        return self.delivered - self.read

    @property
    def percent_read(self) -> float:
        return percent(self.read, self.delivered)


@dataclass
class NoticeStats:
    delivered: int = 0
    read: int = 0
    by_grid: list[AreaStats] = field(default_factory=list)
    by_community: list[AreaStats] = field(default_factory=list)
    by_via: dict[str, int] = field(default_factory=dict)

    @property
    def unread(self) -> int:
        return self.delivered - self.read

    @property
    def percent_read(self) -> float:
        return percent(self.read, self.delivered)


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _names(codes: set[str]) -> dict[str, tuple[str, int]]:
    """Names of places by code (context for a breakdown: a grid worker sees their community's name)."""
    rows = Node.objects.filter(code__in=codes).values_list("code", "name", "pk")
    return {code: (name, pk) for code, name, pk in rows}


def delivery_stats(*, user: User, notice: Notice) -> NoticeStats:
    """Delivered, read, unread and % read of a notice on the user's ground, per grid and per community (by the
    households' code prefixes)."""
    rows = (
        NoticeDelivery.objects.restrict(user, "view")
        .filter(notice=notice)
        .annotate(grid_code=Substr("household__code", 1, GRID_CODE))
        .order_by()
        .values("grid_code")
        .annotate(delivered=Count("id"), read=Count("id", filter=Q(read_at__isnull=False)))
    )
    grids: dict[str, AreaStats] = {}
    communities: dict[str, AreaStats] = {}
    raw = list(rows)
    codes = {r["grid_code"] for r in raw} | {r["grid_code"][:COMMUNITY_CODE] for r in raw}
    names = _names(codes)
    stats = NoticeStats()
    for r in raw:
        grid_code = r["grid_code"]
        name, pk = names.get(grid_code, (grid_code, None))
        grids[grid_code] = AreaStats(grid_code, name, pk, r["delivered"], r["read"])
        community_code = grid_code[:COMMUNITY_CODE]
        if community_code not in communities:
            cname, cpk = names.get(community_code, (community_code, None))
            communities[community_code] = AreaStats(community_code, cname, cpk)
        communities[community_code].delivered += r["delivered"]
        communities[community_code].read += r["read"]
        stats.delivered += r["delivered"]
        stats.read += r["read"]
    stats.by_grid = [grids[c] for c in sorted(grids)]
    stats.by_community = [communities[c] for c in sorted(communities)]
    via_rows = (
        NoticeDelivery.objects.restrict(user, "view")
        .filter(notice=notice, read_at__isnull=False)
        .order_by()
        .values("read_via")
        .annotate(n=Count("id"))
    )
    stats.by_via = {r["read_via"]: r["n"] for r in via_rows}
    return stats


# --- deliveries: who has not read -------------------------------------------------------------------------------------


def _place_name(length: int) -> Subquery:
    return Subquery(Node.objects.filter(code=Substr(OuterRef("household__code"), 1, length)).values("name")[:1])


def _with_household(qs: ScopedQuerySet[NoticeDelivery], user: User) -> ScopedQuerySet[NoticeDelivery]:
    """Annotate each delivery with its grid and community names and one household member the user may see (name and
    the *raw* phone as ``contact_phone_raw``: mask it before showing it — ``core.privacy.mask_phone``)."""
    members = Person.objects.restrict(user, "view").filter(household=OuterRef("household"), is_active=True)
    with_phone = members.exclude(phone="").order_by("id")
    return qs.select_related("household", "household__parent", "notice", "confirmed_by").annotate(
        grid_name=_place_name(GRID_CODE),
        community_name=_place_name(COMMUNITY_CODE),
        contact_name=Coalesce(
            Subquery(with_phone.values("name")[:1]), Subquery(members.order_by("id").values("name")[:1]), Value("")
        ),
        contact_phone_raw=Coalesce(Subquery(with_phone.values("phone")[:1]), Value("")),
    )


def unread_list(*, user: User, notice: Notice, within_code: str | None = None) -> QuerySet[NoticeDelivery]:
    """The households on the user's ground that have not read the notice yet, in address (code) order."""
    qs = NoticeDelivery.objects.restrict(user, "view").filter(notice=notice, read_at__isnull=True)
    if within_code:
        qs = qs.filter(code_prefix_q("household__code", within_code))
    return _with_household(qs, user).order_by("household__code", "id")


def worker_deliveries(
    *, user: User, notice_id: int | None = None, unread_only: bool = True
) -> QuerySet[NoticeDelivery]:
    """Deliveries a grid worker (or anyone who may confirm reading) can act on: on their grid, unread first by
    default; newest notice first."""
    qs = NoticeDelivery.objects.restrict(user, "change")
    if notice_id is not None:
        qs = qs.filter(notice_id=notice_id)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return _with_household(qs, user).order_by("-notice__published_at", "notice_id", "household__code", "id")


def confirmable_ids(*, user: User, delivery_ids: list[int]) -> set[int]:
    """Which of these deliveries the user may confirm as read (the buttons shown)."""
    if not delivery_ids:
        return set()
    return set(NoticeDelivery.objects.restrict(user, "change").filter(pk__in=delivery_ids).values_list("pk", flat=True))


def delivery_get(*, user: User, delivery_id: int, action: str = "view") -> NoticeDelivery:
    queryset = _with_household(NoticeDelivery.objects.all(), user)
    return get_in_scope(NoticeDelivery, user, delivery_id, action, queryset=queryset)


def common_area_code(a: str, b: str) -> str:
    """The code of the lowest place that holds both codes (their deepest common level)."""
    best = ""
    for length in CODE_LEVELS:
        if len(a) >= length and len(b) >= length and a[:length] == b[:length]:
            best = a[:length]
    return best
