"""Reads for visits. Every function that serves a user starts from ``restrict(user, action)``.

Coverage = covered targets / targets, over the targets the user may see, grouped by the code prefix of a level
(a household's code begins with its grid's 15 digits and its community's 12). No targets → no percentage (None),
never 0 % or 100 %.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import code_prefix_q
from gongzhi.registry import selectors as registry
from gongzhi.registry.models import Person
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import CODE_LENGTH, NodeKind
from gongzhi.territory.models import Node
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

LEVELS = {
    "community": CODE_LENGTH[NodeKind.COMMUNITY],
    "grid": CODE_LENGTH[NodeKind.GRID],
    "building": CODE_LENGTH[NodeKind.BUILDING],
}


@dataclass(frozen=True)
class Coverage:
    code: str
    name: str
    targets: int
    covered: int

    @property
    def percent(self) -> float | None:
        return None if self.targets == 0 else round(100.0 * self.covered / self.targets, 1)

    @property
    def remaining(self) -> int:
        return self.targets - self.covered


def percent(covered: int, targets: int) -> float | None:
    return Coverage("", "", targets, covered).percent


def campaign_list(*, user: User, active_only: bool = False) -> QuerySet[Campaign]:
    qs = Campaign.objects.restrict(user, "view").select_related("area", "created_by")
    if active_only:
        today = timezone.localdate()
        qs = qs.filter(closed_at__isnull=True, starts__lte=today, ends__gte=today)
    return qs.order_by("-starts", "-id")


def campaign_get(*, user: User, campaign_id: int, action: str = "view") -> Campaign:
    return get_in_scope(
        Campaign, user, campaign_id, action, queryset=Campaign.objects.select_related("area", "created_by")
    )


def _targets(user: User, campaign: Campaign) -> QuerySet[CampaignTarget]:
    return CampaignTarget.objects.restrict(user, "view").filter(campaign=campaign)


def campaign_total(*, user: User, campaign: Campaign) -> Coverage:
    counts = _targets(user, campaign).aggregate(
        targets=Count("id"), covered=Count("id", filter=Q(covered_at__isnull=False))
    )
    return Coverage(campaign.area.code, campaign.area.name, counts["targets"], counts["covered"])


def coverage(*, user: User, campaign: Campaign, by: str = "grid") -> list[Coverage]:
    """Coverage per community, grid or building of the targets the user may see, ordered by code."""
    if by not in LEVELS:
        raise ValidationFailed(
            _("Coverage is counted per community, grid or building."),
            [ErrorDetail(field="by", message=fmt(_("expected one of %(values)s"), values=', '.join(LEVELS)))],
        )
    length = LEVELS[by]
    rows = list(
        _targets(user, campaign)
        .annotate(unit=Substr("household__code", 1, length))
        .values("unit")
        .annotate(targets=Count("id"), covered=Count("id", filter=Q(covered_at__isnull=False)))
        .order_by("unit")
    )
    names = dict(Node.objects.filter(code__in=[r["unit"] for r in rows]).values_list("code", "name"))
    return [Coverage(r["unit"], names.get(r["unit"], r["unit"]), r["targets"], r["covered"]) for r in rows]


def campaign_targets(
    *,
    user: User,
    campaign: Campaign,
    mine: bool = False,
    uncovered: bool = False,
    within_code: str | None = None,
) -> QuerySet[CampaignTarget]:
    qs = _targets(user, campaign).select_related("household", "household__parent", "assignee")
    if mine:
        qs = qs.filter(assignee_id=user.pk)
    if uncovered:
        qs = qs.filter(covered_at__isnull=True)
    if within_code:
        qs = qs.filter(code_prefix_q("household__code", within_code))
    return qs.order_by("household__code")


def visit_list(
    *,
    user: User,
    household_id: int | None = None,
    campaign_id: int | None = None,
    visitor_id: int | None = None,
    with_case: bool | None = None,
) -> QuerySet[Visit]:
    qs = Visit.objects.restrict(user, "view").select_related(
        "household", "household__parent", "visitor", "person", "campaign", "case"
    )
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    if visitor_id is not None:
        qs = qs.filter(visitor_id=visitor_id)
    if with_case is not None:
        qs = qs.filter(case__isnull=not with_case)
    return qs.order_by("-visited_at", "-id")


def visit_get(*, user: User, visit_id: int) -> Visit:
    return get_in_scope(
        Visit,
        user,
        visit_id,
        queryset=Visit.objects.select_related(
            "household", "household__parent", "visitor", "person", "campaign", "case"
        ),
    )


def care_plan_list(
    *, user: User, overdue_only: bool = False, mine: bool = False, today: datetime.date | None = None
) -> QuerySet[CarePlan]:
    qs = (
        CarePlan.objects.restrict(user, "view")
        .filter(is_active=True)
        .select_related("person", "person__household", "person__household__parent", "assignee")
    )
    if overdue_only:
        qs = qs.filter(next_due__lt=today or timezone.localdate())
    if mine:
        qs = qs.filter(assignee_id=user.pk)
    return qs.order_by("next_due", "id")


def care_plan_get(*, user: User, care_plan_id: int) -> CarePlan:
    return get_in_scope(
        CarePlan, user, care_plan_id, queryset=CarePlan.objects.select_related("person", "person__household")
    )


def days_overdue(plan: CarePlan, today: datetime.date | None = None) -> int:
    return max(0, ((today or timezone.localdate()) - plan.next_due).days)


# --- a grid worker's households --------------------------------------------------------------------------------


def my_households(
    *,
    user: User,
    q: str | None = None,
    todo_campaign_id: int | None = None,
    within_id: int | None = None,
) -> QuerySet[Node]:
    """Households in the user's scope, with how many live there and when they were last visited. With
    ``todo_campaign_id``, only the households that campaign still has to reach."""
    qs = Node.objects.restrict(user, "view").filter(kind=NodeKind.HOUSEHOLD).select_related("parent")
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("code", root.code))
    if todo_campaign_id is not None:
        campaign = campaign_get(user=user, campaign_id=todo_campaign_id)
        qs = qs.filter(campaign_targets__campaign=campaign, campaign_targets__covered_at__isnull=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(parent__name__icontains=q) | Q(residents__name__icontains=q))
    return (
        qs.annotate(
            people=Count("residents", filter=Q(residents__is_active=True), distinct=True),
            last_visit=Max("visits__visited_at"),
        )
        .distinct()
        .order_by("code")
    )


def household_get(*, user: User, household_id: int) -> Node:
    node = get_in_scope(Node, user, household_id, queryset=Node.objects.select_related("parent", "parent__parent"))
    if node.kind != NodeKind.HOUSEHOLD:
        raise NotFound(fmt(_("No household with id %(household_id)s."), household_id=household_id))
    return node


def household_people(*, user: User, household: Node) -> list[Person]:
    """Who lives there now (masked data: the templates and schemas mask ID numbers and phones)."""
    return list(registry.person_list(user=user, household_id=household.pk).order_by("birth_date", "id"))


def open_targets_of(*, user: User, household: Node) -> list[CampaignTarget]:
    today = timezone.localdate()
    return list(
        CampaignTarget.objects.restrict(user, "view")
        .filter(household=household, campaign__closed_at__isnull=True, campaign__starts__lte=today)
        .filter(campaign__ends__gte=today)
        .select_related("campaign")
        .order_by("campaign__starts")
    )


# --- for the pages -----------------------------------------------------------------------------------------------


def _open_campaign_filter(today: datetime.date) -> Q:
    return Q(campaign__closed_at__isnull=True, campaign__starts__lte=today, campaign__ends__gte=today)


def household_rows(
    *,
    user: User,
    q: str | None = None,
    todo_campaign_id: int | None = None,
    care_due: bool = False,
    today: datetime.date | None = None,
) -> QuerySet[Node]:
    """``my_households`` with what a row of the grid worker's list shows: ``campaign_pending`` (an open campaign
    still has to reach the household) and ``care_due`` (the earliest next visit of its active care plans). With
    ``care_due=True`` only the households whose care visit is due today or overdue."""
    today = today or timezone.localdate()
    pending = (
        CampaignTarget.objects.restrict(user, "view")
        .filter(_open_campaign_filter(today), household=OuterRef("pk"), covered_at__isnull=True)
        .values("pk")
    )
    first_due = (
        CarePlan.objects.restrict(user, "view")
        .filter(is_active=True, person__household=OuterRef("pk"))
        .order_by("next_due")
        .values("next_due")[:1]
    )
    qs = my_households(user=user, q=q, todo_campaign_id=todo_campaign_id).annotate(
        campaign_pending=Exists(pending), care_due=Subquery(first_due)
    )
    if care_due:
        qs = qs.filter(care_due__lte=today)
    return qs


def todo_counts(*, user: User, campaign_ids: list[int]) -> dict[int, int]:
    """Campaign id → how many of the user's households it still has to reach (the numbers on the filter chips)."""
    households = Node.objects.restrict(user, "view").filter(kind=NodeKind.HOUSEHOLD).values("pk")
    rows = (
        CampaignTarget.objects.restrict(user, "view")
        .filter(campaign_id__in=campaign_ids, covered_at__isnull=True, household__in=households)
        .values("campaign_id")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    )
    return {row["campaign_id"]: row["n"] for row in rows}


def care_due_count(*, user: User, today: datetime.date | None = None) -> int:
    """How many of the user's households have a care visit due today or overdue."""
    today = today or timezone.localdate()
    households = Node.objects.restrict(user, "view").filter(kind=NodeKind.HOUSEHOLD).values("pk")
    return (
        CarePlan.objects.restrict(user, "view")
        .filter(is_active=True, next_due__lte=today, person__household__in=households)
        .values("person__household_id")
        .distinct()
        .count()
    )


def household_care_plans(*, user: User, household: Node) -> list[CarePlan]:
    """The active care plans of the people living in a household, the next one due first."""
    return list(care_plan_list(user=user).filter(person__household=household))


def campaign_areas(*, user: User) -> list[Node]:
    """The places the user may run a visit campaign over (subdistricts, communities, villages, grids), by code."""
    kinds = [NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID]
    return territory.places_for(user=user, label=Campaign._meta.label_lower, action="add", kinds=kinds)


@dataclass(frozen=True)
class CareBoard:
    plans: QuerySet[CarePlan]
    overdue_total: int
    this_week_total: int
    later_total: int
    week_end: datetime.date


def care_board(*, user: User, mine: bool = False, today: datetime.date | None = None) -> CareBoard:
    """How many care visits are overdue, due in the next seven days and later (one query), and the plans in that
    order (overdue first, the longest first): the page reads one page of ``plans`` and heads its rows by section."""
    today = today or timezone.localdate()
    week_end = today + datetime.timedelta(days=6)
    plans = care_plan_list(user=user, mine=mine)
    totals = plans.order_by().aggregate(
        overdue=Count("pk", filter=Q(next_due__lt=today)),
        this_week=Count("pk", filter=Q(next_due__gte=today, next_due__lte=week_end)),
        later=Count("pk", filter=Q(next_due__gt=week_end)),
    )
    return CareBoard(
        plans=plans,
        overdue_total=totals["overdue"] or 0,
        this_week_total=totals["this_week"] or 0,
        later_total=totals["later"] or 0,
        week_end=week_end,
    )
