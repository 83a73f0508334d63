"""Reads of service posts, claims and service; the claim rate (认领率) and the monthly report of on-duty members to
their home party organisation (在职党员回单位报告). Every read starts from ``restrict(user, action)``.

**Claim rate** = reported-in party members (双报到) with at least one active claim ÷ reported-in party members, over
the party members the user may see; grouped by community (where the member lives), by home party organisation
(the member's branch) and by work unit. Each number opens the list of the members behind it (:func:`rate_members`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from gongzhi.core.access import get_in_scope
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q
from gongzhi.registry import selectors as registry
from gongzhi.registry.choices import PartyMemberType, TagKind
from gongzhi.registry.models import PartyMember, Person, PersonTag
from gongzhi.service.choices import ClaimStatus
from gongzhi.service.models import (
    Activity,
    Claim,
    PersonAccount,
    PersonServed,
    Post,
    PostKind,
    Service,
    SignUp,
    Volunteer,
    VolunteerTeam,
)
from gongzhi.territory import selectors as territory
from gongzhi.territory.models import Body, Node, PartyOrg

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

COMMUNITY_CODE = 12
DIMENSIONS = ("community", "branch", "unit")


def offer_places(*, user: User, label: str, kinds: Iterable[str]) -> list[Node]:
    """The places ``user`` may offer a post, a team or an activity on (``label``): those of their ground, and for a
    co-building unit those under the community side of its agreements in force (it reaches no place directly)."""
    kinds = tuple(kinds)
    places = territory.places_for(user=user, label=label, action="add", kinds=kinds)
    ground = registry.partner_ground(user=user, label=label, action="add")
    if not ground:
        return places
    under = Q()
    for code in ground:
        under |= code_prefix_q("code", code)
    more = Node.objects.filter(under, kind__in=kinds).exclude(pk__in=[p.pk for p in places]).order_by("code")[:5000]
    return sorted([*places, *more], key=lambda node: node.code)


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


def tenths(value: Decimal | float | None) -> Decimal:
    """A sum of hours as people read it: tenths of an hour (SQLite sums decimals in floating point: 27.1000000000000
    would be shown), zero for none."""
    return Decimal(str(value or 0)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def confirmed_hours(*, user: User, place_code: str = "") -> Decimal:
    """Service hours confirmed by the posts' owners, at posts under ``place_code``."""
    qs = Service.objects.restrict(user, "view").filter(confirmed_at__isnull=False)
    if place_code:
        qs = qs.filter(code_prefix_q("claim__post__area__code", place_code))
    return tenths(qs.aggregate(h=Sum("hours"))["h"])


# --- volunteers, teams, activities -------------------------------------------------------------------------------


def team_list(*, user: User, place_code: str = "") -> ScopedQuerySet[VolunteerTeam]:
    qs = (
        VolunteerTeam.objects.restrict(user, "view")
        .select_related("area", "owner_body")
        .annotate(members=Count("volunteers", filter=Q(volunteers__is_active=True), distinct=True))
    )
    if place_code:
        qs = qs.filter(code_prefix_q("area__code", place_code))
    return qs.order_by("area__code", "name", "pk")


def team_get(*, user: User, team_id: int) -> VolunteerTeam:
    return get_in_scope(VolunteerTeam, user, team_id, "view", team_list(user=user))


def year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """The local year as aware datetimes: [1 January, 1 January next year)."""
    return _local(datetime.date(year, 1, 1)), _local(datetime.date(year + 1, 1, 1))


def _local(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def confirmed_signups(*, user: User, year: int | None = None, place_code: str = "") -> QuerySet[SignUp]:
    """The sign-ups whose hours the organiser confirmed (the only hours that count), of activities the user may see
    (under ``place_code``: where the activity took place), in ``year`` (when the activity started)."""
    qs = SignUp.objects.restrict(user, "view").filter(confirmed_at__isnull=False, cancelled_at__isnull=True)
    if year is not None:
        start, end = year_bounds(year)
        qs = qs.filter(activity__starts_at__gte=start, activity__starts_at__lt=end)
    if place_code:
        qs = qs.filter(code_prefix_q("activity__area__code", place_code))
    return qs


def volunteer_list(
    *, user: User, q: str | None = None, team_id: int | None = None, active_only: bool = True, year: int | None = None
) -> ScopedQuerySet[Volunteer]:
    """The volunteers the user may see, with their confirmed hours in ``year`` (this year by default)."""
    start, end = year_bounds(year or timezone.localdate().year)
    in_year = Q(
        signups__confirmed_at__isnull=False,
        signups__cancelled_at__isnull=True,
        signups__activity__starts_at__gte=start,
        signups__activity__starts_at__lt=end,
    )
    qs = (
        Volunteer.objects.restrict(user, "view")
        .select_related("person__household", "team")
        .annotate(year_hours=Sum("signups__hours", filter=in_year), year_activities=Count("signups", filter=in_year))
    )
    if q:
        qs = qs.filter(Q(person__name__icontains=q) | Q(skills__icontains=q))
    if team_id:
        qs = qs.filter(team_id=team_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("person__name", "pk")


def volunteer_get(*, user: User, volunteer_id: int) -> Volunteer:
    return get_in_scope(Volunteer, user, volunteer_id, "view", volunteer_list(user=user, active_only=False))


@dataclass
class YearTotal:
    year: int
    hours: Decimal
    activities: int


def volunteer_years(*, volunteer: Volunteer) -> list[YearTotal]:
    """A volunteer's confirmed hours per year (the activity's year), newest first. The volunteer was read in scope;
    their hours are counted wherever they served, as a person's yearly total should be."""
    totals: dict[int, YearTotal] = {}
    rows = SignUp.objects.filter(volunteer=volunteer, confirmed_at__isnull=False, cancelled_at__isnull=True)
    for starts_at, hours in rows.values_list("activity__starts_at", "hours"):
        year = timezone.localtime(starts_at).year
        row = totals.setdefault(year, YearTotal(year, Decimal("0"), 0))
        row.hours += hours or Decimal("0")
        row.activities += 1
    return sorted(totals.values(), key=lambda r: -r.year)


def volunteer_signups(*, user: User, volunteer: Volunteer) -> QuerySet[SignUp]:
    return (
        SignUp.objects.restrict(user, "view")
        .filter(volunteer=volunteer)
        .select_related("activity__area")
        .order_by("-activity__starts_at", "-pk")
    )


def my_volunteer(*, user: User) -> Volunteer | None:
    """The user's own volunteer record (their account's person), if they are a volunteer."""
    link = PersonAccount.objects.filter(user=user).values_list("person_id", flat=True).first()
    if link is None:
        return None
    return volunteer_list(user=user).filter(person_id=link).first()


def my_signups(*, user: User) -> QuerySet[SignUp]:
    return (
        SignUp.objects.restrict(user, "view")
        .filter(volunteer__person__service_account__user=user)
        .select_related("activity__area")
        .order_by("-activity__starts_at", "-pk")
    )


def people_to_register(*, user: User, q: str) -> QuerySet[Person]:
    """Residents of the user's ground matching ``q`` (name), for the register form: at most 20."""
    if not q:
        return Person.objects.none()
    result: QuerySet[Person] = (
        Person.objects.restrict(user, "change")
        .filter(name__icontains=q, is_active=True)
        .select_related("household", "volunteer")
        .order_by("name", "pk")[:20]
    )
    return result


def activity_list(
    *,
    user: User,
    place_code: str = "",
    month: str = "",
    upcoming: bool = False,
    team_id: int | None = None,
    now: datetime.datetime | None = None,
) -> ScopedQuerySet[Activity]:
    """The activities the user may see, with their places taken; ``month`` (``YYYY-MM``, local) as the figures
    count them (cancelled ones left out)."""
    taken = Count("signups", filter=Q(signups__cancelled_at__isnull=True))
    qs = Activity.objects.restrict(user, "view").select_related("area", "team", "owner_body").annotate(taken=taken)
    if place_code:
        qs = qs.filter(code_prefix_q("area__code", place_code))
    if month:
        first, following = month_bounds(month)
        qs = qs.filter(starts_at__gte=_local(first), starts_at__lt=_local(following), is_cancelled=False)
    if upcoming:
        qs = qs.filter(ends_at__gt=now or timezone.now(), is_cancelled=False)
    if team_id:
        qs = qs.filter(team_id=team_id)
    return qs


def activity_get(*, user: User, activity_id: int) -> Activity:
    return get_in_scope(Activity, user, activity_id, "view", activity_list(user=user))


def may_organise(*, user: User, activity: Activity) -> bool:
    return Activity.objects.restrict(user, "change").filter(pk=activity.pk).exists()


def activity_signups(*, user: User, activity: Activity) -> QuerySet[SignUp]:
    """The sign-ups of an activity the user may see (the organiser: all; a volunteer: their own)."""
    return (
        SignUp.objects.restrict(user, "view")
        .filter(activity=activity)
        .select_related("volunteer__person", "confirmed_by")
        .order_by("cancelled_at", "signed_up_at", "pk")
    )


def activity_served(*, user: User, activity: Activity) -> QuerySet[PersonServed]:
    return PersonServed.objects.restrict(user, "view").filter(activity=activity).select_related("person", "volunteer")


def elderly_alone_ids(person_ids: list[int], on: datetime.date | None = None) -> set[int]:
    """Which of these people the registry tags as elderly living alone (独居老人) on a day."""
    on = on or timezone.localdate()
    tags = PersonTag.objects.filter(person_id__in=person_ids, tag=TagKind.ELDERLY_ALONE, since__lte=on).filter(
        Q(until__isnull=True) | Q(until__gte=on)
    )
    return set(tags.values_list("person_id", flat=True))


def signable_volunteers(*, user: User, activity: Activity) -> QuerySet[Volunteer]:
    """Volunteers the organiser may sign up (active, not signed up yet)."""
    signed = SignUp.objects.filter(activity=activity, cancelled_at__isnull=True).values("volunteer_id")
    result: QuerySet[Volunteer] = (
        Volunteer.objects.restrict(user, "view")
        .filter(is_active=True)
        .exclude(pk__in=signed)
        .select_related("person")
        .order_by("person__name")[:200]
    )
    return result


def servable_people(*, user: User, activity: Activity, q: str) -> QuerySet[Person]:
    """People of the user's ground matching ``q``, to record as served."""
    if not q:
        return Person.objects.none()
    result: QuerySet[Person] = (
        Person.objects.restrict(user, "view").filter(name__icontains=q, is_active=True).order_by("name", "pk")[:20]
    )
    return result


# --- volunteer figures (each number opens its list) ------------------------------------------------------------


@dataclass
class VolunteerFigures:
    year: int
    place_code: str
    active: int  # volunteers with confirmed hours in the year
    hours: Decimal
    members_active: int  # of them, party members
    member_hours: Decimal
    served: int  # people served (distinct)
    served_alone: int  # of them, elderly living alone
    months: list[tuple[str, int]]  # (YYYY-MM, activities)

    @property
    def hours_per_volunteer(self) -> Decimal | None:
        return _per(self.hours, self.active)

    @property
    def hours_per_member(self) -> Decimal | None:
        return _per(self.member_hours, self.members_active)

    @property
    def activities(self) -> int:
        return sum(n for _m, n in self.months)


def _per(hours: Decimal, people: int) -> Decimal | None:
    if not people:
        return None
    return (hours / people).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def volunteer_figures(*, user: User, year: int, place_code: str = "") -> VolunteerFigures:
    """Active volunteers, hours per volunteer and per party member, people served and activities per month, for
    the place (activities held there; people served living there) in a year. Each number is the length (or the
    sum) of the list that :func:`figure_volunteers`, :func:`served_people` and :func:`activity_list` give."""
    signups = confirmed_signups(user=user, year=year, place_code=place_code)
    member = Q(volunteer__person__party_membership__isnull=False)
    row = signups.aggregate(
        n_active=Count("volunteer", distinct=True),
        total_hours=Sum("hours"),
        n_members=Count("volunteer", filter=member, distinct=True),
        total_member_hours=Sum("hours", filter=member),
    )
    served = served_people(user=user, year=year, place_code=place_code)
    ids = list(served.values_list("pk", flat=True))
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    counts = activity_list(user=user, place_code=place_code).aggregate(
        **{
            key: Count(
                "pk",
                filter=Q(
                    is_cancelled=False,
                    starts_at__gte=_local(month_bounds(key)[0]),
                    starts_at__lt=_local(month_bounds(key)[1]),
                ),
            )
            for key in months
        }
    )
    return VolunteerFigures(
        year=year,
        place_code=place_code,
        active=row["n_active"],
        hours=tenths(row["total_hours"]),
        members_active=row["n_members"],
        member_hours=tenths(row["total_member_hours"]),
        served=len(ids),
        served_alone=len(elderly_alone_ids(ids)),
        months=[(key, counts[key]) for key in months],
    )


@dataclass
class VolunteerHours:
    volunteer_id: int
    name: str
    team: str
    party_member: bool
    hours: Decimal
    activities: int


def figure_volunteers(*, user: User, year: int, place_code: str = "", party: bool = False) -> list[VolunteerHours]:
    """The volunteers behind the figures: each with their confirmed hours in the year, most hours first (``party``:
    only party members)."""
    signups = confirmed_signups(user=user, year=year, place_code=place_code)
    if party:
        signups = signups.filter(volunteer__person__party_membership__isnull=False)
    rows = (
        signups.values("volunteer_id", "volunteer__person__name", "volunteer__team__name")
        .annotate(h=Sum("hours"), n=Count("pk"), pm=Count("volunteer__person__party_membership"))
        .order_by("-h", "volunteer__person__name")
    )
    return [
        VolunteerHours(
            volunteer_id=r["volunteer_id"],
            name=r["volunteer__person__name"],
            team=r["volunteer__team__name"] or "",
            party_member=bool(r["pm"]),
            hours=tenths(r["h"]),
            activities=r["n"],
        )
        for r in rows
    ]


def served_people(*, user: User, year: int, place_code: str = "", alone: bool = False) -> QuerySet[Person]:
    """The people served in a year (living under ``place_code``), each once, with how often they were served."""
    records = PersonServed.objects.restrict(user, "view").filter(served_on__year=year)
    if place_code:
        records = records.filter(code_prefix_q("person__household__code", place_code))
    qs = Person.objects.filter(pk__in=records.values("person_id"))
    if alone:
        qs = qs.filter(pk__in=elderly_alone_ids(list(qs.values_list("pk", flat=True))))
    times = Count("volunteer_services", filter=Q(volunteer_services__in=records))
    result: QuerySet[Person] = qs.annotate(times=times).select_related("household").order_by("name", "pk")
    return result
