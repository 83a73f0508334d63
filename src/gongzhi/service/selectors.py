"""Reads of service posts, claims and service; the claim rate (认领率) and the monthly report of on-duty members to
their home party organisation (在职党员回单位报告). Every read starts from ``restrict(user, action)``.

**Claim rate** = reported-in party members (双报到) with at least one active claim ÷ reported-in party members, over
the party members the user may see; grouped by community (where the member lives), by home party organisation
(the member's branch) and by work unit. Each number opens the list of the members behind it (:func:`rate_members`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr

from gongzhi.core.access import get_in_scope
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q
from gongzhi.registry.choices import PartyMemberType
from gongzhi.registry.models import PartyMember
from gongzhi.service.choices import ClaimStatus
from gongzhi.service.models import Claim, PersonAccount, Post, PostKind, Service
from gongzhi.territory.models import Body, Node, PartyOrg

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

COMMUNITY_CODE = 12
DIMENSIONS = ("community", "branch", "unit")


def kinds() -> QuerySet[PostKind]:
    return PostKind.objects.filter(is_active=True)


def post_list(
    *, user: User, q: str | None = None, kind_id: int | None = None, open_only: bool = False
) -> ScopedQuerySet[Post]:
    active = Count("claims", filter=Q(claims__status=ClaimStatus.ACTIVE))
    qs = Post.objects.restrict(user, "view").select_related("kind", "area", "owner_body").annotate(taken=active)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(kind__name__icontains=q))
    if kind_id:
        qs = qs.filter(kind_id=kind_id)
    if open_only:
        qs = qs.filter(is_open=True)
    return qs


def post_get(*, user: User, post_id: int) -> Post:
    return get_in_scope(Post, user, post_id, "view", post_list(user=user))


def post_claims(*, user: User, post: Post) -> QuerySet[Claim]:
    """The claims of a post the user may see (the owner: all; a claimant: their own)."""
    return (
        Claim.objects.restrict(user, "view")
        .filter(post=post)
        .select_related("person", "user")
        .prefetch_related("services")
        .order_by("status", "claimed_at")
    )


def may_manage(*, user: User, post: Post) -> bool:
    return Post.objects.restrict(user, "change").filter(pk=post.pk).exists()


def my_claims(*, user: User) -> QuerySet[Claim]:
    return (
        Claim.objects.restrict(user, "view")
        .filter(user=user)
        .select_related("post__kind", "post__area")
        .prefetch_related("services")
    )


def claim_get(*, user: User, claim_id: int) -> Claim:
    return get_in_scope(Claim, user, claim_id, "view", Claim.objects.select_related("post__area", "person"))


def service_get(*, user: User, service_id: int) -> Service:
    return get_in_scope(
        Service, user, service_id, "view", Service.objects.select_related("claim__post", "claim__person")
    )


def to_confirm(*, user: User) -> QuerySet[Service]:
    """Recorded service awaiting the owner's confirmation, on the user's ground."""
    return (
        Service.objects.restrict(user, "change")
        .filter(confirmed_at__isnull=True)
        .exclude(claim__user=user)
        .select_related("claim__post", "claim__person")
    )


def person_linked(*, user: User) -> bool:
    return PersonAccount.objects.filter(user=user).exists()


# --- claim rate -------------------------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal, half up (2,638 / 3,641 → 72.5)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class RateRow:
    key: str  # the value the drill-down filters on
    label: str
    reported_in: int
    claiming: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.claiming, self.reported_in)


def _reported_in(user: User) -> Any:  # PartyMembers annotated with ``claiming`` (the stubs cannot say so)
    active = Claim.objects.filter(person=OuterRef("person"), status=ClaimStatus.ACTIVE)
    return PartyMember.objects.restrict(user, "view").filter(reported_in=True).annotate(claiming=Exists(active))


def claim_rate(*, user: User, place_code: str = "") -> RateRow:
    """The claim rate over the reported-in members the user may see (living under ``place_code`` when given); its
    lists are :func:`rate_members` with ``dimension="community", key=place_code``."""
    qs = _reported_in(user)
    if place_code:
        qs = qs.filter(code_prefix_q("person__household__code", place_code))
    row = qs.aggregate(n=Count("id"), c=Count("id", filter=Q(claiming=True)))
    return RateRow(key=place_code, label="", reported_in=row["n"], claiming=row["c"])


def claim_rate_by(*, user: User, dimension: str) -> list[RateRow]:
    """The claim rate per community (of residence), home party organisation (branch) or work unit."""
    qs = _reported_in(user)
    grouped: Any
    if dimension == "community":
        grouped = qs.annotate(k=Substr("person__household__code", 1, COMMUNITY_CODE)).values("k")
    elif dimension == "branch":
        grouped = qs.values(k=F("branch_id"))
    elif dimension == "unit":
        grouped = qs.values(k=F("work_unit_id"))
    else:
        raise ValueError(dimension)
    rows = grouped.annotate(n=Count("id"), c=Count("id", filter=Q(claiming=True))).order_by("k")
    counts = [(str(r["k"] or ""), r["n"], r["c"]) for r in rows]
    names = _names(dimension, [k for k, _n, _c in counts if k])
    out = [RateRow(key=k, label=names.get(k, "") or "—", reported_in=n, claiming=c) for k, n, c in counts]
    return sorted(out, key=lambda r: (r.label == "—", r.label))


def _names(dimension: str, keys: list[str]) -> dict[str, str]:
    if dimension == "community":
        return dict(Node.objects.filter(code__in=keys).values_list("code", "name"))
    ids = [int(k) for k in keys]
    model: Any = PartyOrg if dimension == "branch" else Body
    return {str(pk): name for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")}


def rate_members(
    *, user: User, dimension: str = "", key: str = "", claiming: bool | None = None
) -> QuerySet[PartyMember]:
    """The reported-in members behind a number of the claim rate: of a community / branch / unit (``key``; empty:
    those without one), all of them or only those claiming (True) or not claiming (False)."""
    qs = _reported_in(user).select_related("person__household", "branch", "work_unit")
    if dimension == "community":
        qs = (
            qs.filter(code_prefix_q("person__household__code", key))
            if key
            else qs.filter(person__household__isnull=True)
        )
    elif dimension in ("branch", "unit"):
        field = "branch_id" if dimension == "branch" else "work_unit_id"
        qs = qs.filter(**{field: int(key)}) if key.isdigit() else qs.filter(**{f"{field}__isnull": True})
    if claiming is not None:
        qs = qs.filter(claiming=claiming)
    result: QuerySet[PartyMember] = qs.order_by("person__name", "pk")
    return result


# --- monthly report to the home party organisation ---------------------------------------------------------------


@dataclass
class ReportRow:
    member: PartyMember
    posts: str
    times: int
    hours: Decimal
    confirmed_hours: Decimal


def month_bounds(month: str) -> tuple[datetime.date, datetime.date]:
    """``YYYY-MM`` → (first day, first day of the next month). ValueError when malformed."""
    year, mon = (int(part) for part in month.split("-"))
    first = datetime.date(year, mon, 1)
    following = datetime.date(year + (mon == 12), mon % 12 + 1, 1)
    return first, following


def monthly_report(*, user: User, month: str, branch_id: int | None = None) -> list[ReportRow]:
    """Each on-duty, reported-in member the user may see, with what they served in the month: the posts, the
    number of times, the hours recorded and the hours the posts' owners confirmed; by home party organisation."""
    first, following = month_bounds(month)
    members = (
        PartyMember.objects.restrict(user, "view")
        .filter(reported_in=True, member_type=PartyMemberType.ON_DUTY)
        .select_related("person", "branch", "work_unit")
    )
    if branch_id:
        members = members.filter(branch_id=branch_id)
    members = members.order_by("branch__name", "person__name", "pk")
    # The members are read in scope; their service is read for them wherever they served (the home organisation
    # wants all of it), as the report's one purpose.
    services = (
        Service.objects.filter(
            served_on__gte=first, served_on__lt=following, claim__person__in=members.values("person")
        )
        .select_related("claim__post")
        .order_by("served_on")
    )
    by_person: dict[int, list[Service]] = {}
    for s in services:
        by_person.setdefault(s.claim.person_id, []).append(s)
    rows = []
    for m in members:
        done = by_person.get(m.person_id, [])
        titles = sorted({s.claim.post.title for s in done})
        rows.append(
            ReportRow(
                member=m,
                posts="、".join(titles),
                times=len(done),
                hours=sum((s.hours for s in done), Decimal("0")),
                confirmed_hours=sum((s.hours for s in done if s.confirmed_at), Decimal("0")),
            )
        )
    return rows


def report_branches(*, user: User) -> QuerySet[PartyOrg]:
    ids = PartyMember.objects.restrict(user, "view").filter(reported_in=True).values("branch_id")
    return PartyOrg.objects.filter(pk__in=ids).order_by("name")


def confirmed_hours(*, user: User, place_code: str = "") -> Decimal:
    """Service hours confirmed by the posts' owners, at posts under ``place_code``."""
    qs = Service.objects.restrict(user, "view").filter(confirmed_at__isnull=False)
    if place_code:
        qs = qs.filter(code_prefix_q("claim__post__area__code", place_code))
    total: Decimal | None = qs.aggregate(h=Sum("hours"))["h"]
    return total or Decimal("0")
