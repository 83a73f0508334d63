"""Writes for visits: campaigns and their targets, visit records (a need found becomes a case in one step), care plans.

Coverage is kept on the target (``covered_at``: the first covering visit), so it can be counted live with one query.
A visit covers the household for *every* open campaign that targets it: a visit is a visit, whoever asked for it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import selectors as accounts
from gongzhi.cases import services as cases
from gongzhi.cases.choices import Channel
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import code_prefix_q
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.registry import selectors as registry
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Person
from gongzhi.territory.choices import CODE_LENGTH, NodeKind
from gongzhi.territory.models import Node
from gongzhi.visits.choices import COVERING_OUTCOMES, Outcome
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

GRID_LEN = CODE_LENGTH[NodeKind.GRID]
CAMPAIGN_FIELDS = ["name", "area", "tags", "starts", "ends", "closed_at"]
CARE_FIELDS = ["person", "reason", "every_days", "assignee", "starts", "next_due", "last_visited", "is_active"]
VISIT_FIELDS = ["household", "person", "visitor", "visited_at", "campaign", "care_plan", "outcome", "case"]
# A visit may be recorded a little after the fact, not in the future (phones' clocks drift a few minutes).
CLOCK_SKEW = datetime.timedelta(minutes=10)
TARGET_BATCH = 2000


def _now() -> datetime.datetime:
    return timezone.now()


# --- telling the workers (issue 17: "a visit campaign assignment → the worker") ----------------------------------

ASSIGNED = "visits.assigned"
kinds.register(ASSIGNED, _("Households to visit"))
ASSIGNED_TEXT = _("Visit campaign “%(campaign)s”: %(count)s households to visit by %(ends)s.")


def _tell_workers(*, actor: User, campaign: Campaign, counts: dict[int, int], batch: str) -> None:
    """Tell each worker given households in one assignment batch, once for the batch (their count in the text),
    linking to their to-do list filtered to the campaign. In the caller's transaction; sent after commit."""
    if not counts:
        return
    messaging.notify(
        actor=actor,
        recipients=[messaging.Recipient(user_id=uid, params={"count": n}) for uid, n in sorted(counts.items())],
        kind=ASSIGNED,
        text=ASSIGNED_TEXT,
        params={"campaign": campaign.name, "ends": campaign.ends.isoformat(), "count": 0},
        link=f"{reverse('visits-home')}?todo={campaign.pk}",
        obj=campaign,
        dedupe=f"visits:campaign:{campaign.pk}:{batch}",
    )


# --- campaigns ---------------------------------------------------------------------------------------------------


@transaction.atomic
def create_campaign(
    *,
    actor: User,
    name: str,
    area_id: int,
    starts: datetime.date,
    ends: datetime.date,
    tags: list[str] | None = None,
    description: str = "",
) -> Campaign:
    """Start a visit campaign over the households of ``area`` (only those with a resident tagged ``tags``, if given).
    Each target is assigned to the grid worker of its grid; grids without one stay unassigned (and are listed)."""
    area = get_in_scope(Node, actor, area_id)
    if not reaches(actor, "visits.campaign", "add", area):
        raise Forbidden(_("You may not run a visit campaign here."))
    details: list[ErrorDetail] = []
    if not name.strip():
        details.append(ErrorDetail(field="name", message=_("a name is required")))
    elif len(name.strip()) > 120:
        details.append(ErrorDetail(field="name", message=_("at most 120 characters")))
    if ends < starts:
        details.append(ErrorDetail(field="ends", message=_("is before starts")))
    if area.kind == NodeKind.HOUSEHOLD:
        details.append(ErrorDetail(field="area_id", message=_("a campaign covers a grid, community or subdistrict")))
    clean_tags = registry_services.check_tag_kinds(tags, details)
    if details:
        raise ValidationFailed(_("The campaign cannot be created."), details)
    households = sorted(registry.occupied_households(user=actor, area_code=area.code, tags=clean_tags).items())
    if not households:
        raise ValidationFailed(
            _("No household matches: nobody lives there yet, or nobody carries these tags."),
            [ErrorDetail(field="tags" if clean_tags else "area_id", message=_("no target households"))],
        )
    campaign = Campaign.objects.create(
        name=name.strip(),
        description=description,
        area=area,
        tags=clean_tags,
        starts=starts,
        ends=ends,
        created_by=actor,
    )
    workers = accounts.grid_workers_under(code=area.code)
    targets = [
        CampaignTarget(campaign=campaign, household_id=pk, assignee_id=workers.get(code[:GRID_LEN]))
        for pk, code in households
    ]
    CampaignTarget.objects.bulk_create(targets, batch_size=TARGET_BATCH)
    counts: dict[int, int] = {}
    for target in targets:
        if target.assignee_id is not None:
            counts[target.assignee_id] = counts.get(target.assignee_id, 0) + 1
    # Households already visited during the campaign's period count (a campaign started after the fact).
    _cover_from_past_visits(campaign)
    audit.record(
        actor=actor,
        action="visits.campaign_created",
        obj=campaign,
        node_code=area.code,
        after={**audit.snapshot(campaign, CAMPAIGN_FIELDS), "targets": len(households)},
    )
    _tell_workers(actor=actor, campaign=campaign, counts=counts, batch="created")
    return campaign


def _cover_from_past_visits(campaign: Campaign) -> None:
    start = datetime.datetime.combine(campaign.starts, datetime.time.min, tzinfo=timezone.get_current_timezone())
    visits = Visit.objects.filter(
        code_prefix_q("household__code", campaign.area.code), outcome__in=COVERING_OUTCOMES, visited_at__gte=start
    ).order_by("household_id", "visited_at")
    first: dict[int, datetime.datetime] = {}
    for household_id, at in visits.values_list("household_id", "visited_at"):
        first.setdefault(household_id, at)
    targets = list(CampaignTarget.objects.filter(campaign=campaign, household_id__in=list(first)))
    for target in targets:
        target.covered_at = first[target.household_id]
    CampaignTarget.objects.bulk_update(targets, ["covered_at"], batch_size=TARGET_BATCH)


@transaction.atomic
def assign_targets(*, actor: User, campaign_id: int, assignee_id: int, within_id: int) -> int:
    """Give every target of a campaign under ``within`` (a grid, a building) to another worker. Returns how many."""
    campaign = get_in_scope(Campaign, actor, campaign_id, "change", queryset=Campaign.objects.select_related("area"))
    within = get_in_scope(Node, actor, within_id)
    assignee = accounts.user_get(user=actor, user_id=assignee_id)
    if not assignee.is_active:
        raise ValidationFailed(
            _("The worker is not active."), [ErrorDetail(field="assignee_id", message=_("inactive"))]
        )
    targets = CampaignTarget.objects.restrict(actor, "change").filter(
        code_prefix_q("household__code", within.code), campaign=campaign
    )
    newly = targets.exclude(assignee=assignee).count()  # the worker's already: not news to them
    count = targets.update(assignee=assignee)
    entry = audit.record(
        actor=actor,
        action="visits.targets_assigned",
        obj=campaign,
        node_code=within.code,
        after={"assignee": assignee.pk, "within": within.code, "targets": count},
    )
    if newly:  # this batch (the audit record names it): the worker is told once, with the count
        _tell_workers(actor=actor, campaign=campaign, counts={assignee.pk: newly}, batch=f"assigned:{entry.pk}")
    return count


@transaction.atomic
def close_campaign(*, actor: User, campaign_id: int) -> Campaign:
    campaign = get_in_scope(
        Campaign, actor, campaign_id, "change", queryset=Campaign.objects.select_for_update().select_related("area")
    )
    if campaign.closed_at is not None:
        raise Conflict(_("The campaign is already closed."))
    before = audit.snapshot(campaign, CAMPAIGN_FIELDS)
    campaign.closed_at = _now()
    campaign.save(update_fields=["closed_at", "updated_at"])
    audit.record(
        actor=actor,
        action="visits.campaign_closed",
        obj=campaign,
        node_code=campaign.area.code,
        before=before,
        after=audit.snapshot(campaign, CAMPAIGN_FIELDS),
    )
    return campaign


# --- visits ------------------------------------------------------------------------------------------------------


def _open_campaign_ids(household: Node, day: datetime.date) -> list[int]:
    return list(
        CampaignTarget.objects.filter(
            household=household, campaign__closed_at__isnull=True, campaign__starts__lte=day, campaign__ends__gte=day
        )
        .order_by("campaign__starts", "campaign_id")
        .values_list("campaign_id", flat=True)
    )


@transaction.atomic
def record_visit(
    *,
    actor: User,
    household_id: int,
    outcome: str,
    visited_at: datetime.datetime | None = None,
    notes: str = "",
    needs: str = "",
    campaign_id: int | None = None,
    care_plan_id: int | None = None,
    person_id: int | None = None,
    raise_case: bool = False,
    category_id: int | None = None,
    case_title: str = "",
    urgency: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    gps_accuracy: float | None = None,
) -> Visit:
    """Record a visit to a household. It covers the household in every open campaign targeting it (when the outcome
    reaches the household) and moves on the care plans of the people visited. With ``raise_case`` the need found
    becomes a case (channel "visit") in the same transaction: both are written, or neither."""
    household = get_in_scope(Node, actor, household_id, queryset=Node.objects.select_related("parent"))
    details: list[ErrorDetail] = []
    if household.kind != NodeKind.HOUSEHOLD:
        details.append(
            ErrorDetail(
                field="household_id", message=fmt(_("%(household)s is not a household"), household=household.name)
            )
        )
    elif not reaches(actor, "visits.visit", "add", household):
        raise Forbidden(_("You may not record visits here."))
    if outcome not in Outcome.values:
        details.append(
            ErrorDetail(field="outcome", message=fmt(_("expected one of %(values)s"), values=", ".join(Outcome.values)))
        )
    at = visited_at or _now()
    if at > _now() + CLOCK_SKEW:
        details.append(ErrorDetail(field="visited_at", message=_("is in the future")))
    day = timezone.localdate(at)
    person = None
    if person_id is not None:
        person = Person.objects.filter(pk=person_id, household_id=household.pk).first()
        if person is None:
            details.append(ErrorDetail(field="person_id", message=_("does not live in this household")))
    campaign = None
    if campaign_id is not None:
        campaign = get_in_scope(Campaign, actor, campaign_id)
        if not CampaignTarget.objects.filter(campaign=campaign, household=household).exists():
            details.append(
                ErrorDetail(field="campaign_id", message=_("the household is not a target of this campaign"))
            )
    plan = None
    if care_plan_id is not None:
        plan = get_in_scope(CarePlan, actor, care_plan_id, queryset=CarePlan.objects.select_related("person"))
        if plan.person.household_id != household.pk:
            details.append(ErrorDetail(field="care_plan_id", message=_("the person of this plan lives elsewhere")))
    if raise_case:
        if not needs.strip():
            details.append(ErrorDetail(field="needs", message=_("say what the household needs to raise a case")))
        if category_id is None:
            details.append(ErrorDetail(field="category_id", message=_("choose a category for the case")))
    if lat is not None and not -90 <= lat <= 90:
        details.append(ErrorDetail(field="lat", message=_("between -90 and 90")))
    if lng is not None and not -180 <= lng <= 180:
        details.append(ErrorDetail(field="lng", message=_("between -180 and 180")))
    if gps_accuracy is not None and not 0 <= gps_accuracy <= 100_000:
        details.append(ErrorDetail(field="gps_accuracy", message=_("metres, 0 to 100,000")))
    if lat is None:
        gps_accuracy = None  # how sure a position is that was not given
    if details:
        raise ValidationFailed(_("The visit cannot be recorded."), details)

    open_campaigns = _open_campaign_ids(household, day)
    if campaign is None and open_campaigns:
        campaign = Campaign.objects.get(pk=open_campaigns[0])
    case = None
    if raise_case and category_id is not None:
        case = cases.report_case(
            actor=actor,
            channel=Channel.VISIT,
            title=(case_title.strip() or needs.strip().splitlines()[0])[:200],
            category_id=category_id,
            description=needs.strip(),
            urgency=urgency,
            node_id=household.parent_id or household.pk,
            address=f"{household.parent.name if household.parent else ''} {household.name}".strip()[:200],
            reporter_name=person.name if person else "",
            reporter_phone=person.phone if person and person.phone.isdigit() else "",
            lat=lat,
            lng=lng,
            gps_accuracy=gps_accuracy,
        )
    visit = Visit.objects.create(
        household=household,
        person=person,
        visitor=actor,
        visited_at=at,
        campaign=campaign,
        care_plan=plan,
        outcome=outcome,
        notes=notes.strip(),
        needs=needs.strip(),
        case=case,
        lat=lat,
        lng=lng,
        gps_accuracy=gps_accuracy,
    )
    covered = 0
    if outcome in COVERING_OUTCOMES:
        campaign_ids = set(open_campaigns) | ({campaign.pk} if campaign else set())
        covered = CampaignTarget.objects.filter(
            campaign_id__in=campaign_ids, household=household, covered_at__isnull=True
        ).update(covered_at=at)
    if outcome == Outcome.MET:
        _advance_care_plans(household=household, plan=plan, person=person, day=day)
    audit.record(
        actor=actor,
        action="visits.visit_recorded",
        obj=visit,
        node_code=household.code,
        after={**audit.snapshot(visit, VISIT_FIELDS), "campaign_targets_covered": covered},
    )
    return visit


def _advance_care_plans(*, household: Node, plan: CarePlan | None, person: Person | None, day: datetime.date) -> None:
    """A visit that met the household counts for the care plans of the person visited (or, when no one in particular
    was named, of everyone in the household)."""
    plans = CarePlan.objects.select_for_update().filter(is_active=True, person__household=household)
    if plan is not None:
        plans = plans.filter(pk=plan.pk)
    elif person is not None:
        plans = plans.filter(person=person)
    for row in plans:
        if row.last_visited is not None and row.last_visited >= day:
            continue  # an older visit recorded late does not move the plan back
        row.last_visited = day
        row.next_due = day + datetime.timedelta(days=row.every_days)
        row.save(update_fields=["last_visited", "next_due", "updated_at"])


# --- care plans --------------------------------------------------------------------------------------------------


@transaction.atomic
def create_care_plan(
    *,
    actor: User,
    person_id: int,
    every_days: int = 7,
    starts: datetime.date | None = None,
    assignee_id: int | None = None,
    reason: str = "",
) -> CarePlan:
    """Recurring care visits for a person (e.g. weekly for an elderly person living alone). The first visit is due on
    ``starts`` (default today); the plan goes to the grid worker of the person's grid unless someone is named."""
    person = get_in_scope(Person, actor, person_id, queryset=Person.objects.select_related("household"))
    details: list[ErrorDetail] = []
    if person.household is None:
        details.append(ErrorDetail(field="person_id", message=_("the person has no household to visit")))
    elif not reaches(actor, "visits.careplan", "add", person.household):
        raise Forbidden(_("You may not plan care visits here."))
    if not 1 <= every_days <= 366:
        details.append(ErrorDetail(field="every_days", message=_("between 1 and 366")))
    if len(reason) > 60:
        details.append(ErrorDetail(field="reason", message=_("at most 60 characters")))
    if details:
        raise ValidationFailed(_("The care plan cannot be created."), details)
    assert person.household is not None
    if CarePlan.objects.filter(person=person, is_active=True).exists():
        raise Conflict(
            _("The person already has an active care plan."),
            [ErrorDetail(field="person_id", message=_("already planned"))],
        )
    if assignee_id is not None:
        assignee_id = accounts.user_get(user=actor, user_id=assignee_id).pk
    else:
        grid = person.household.code[:GRID_LEN]
        assignee_id = accounts.grid_workers_under(code=grid).get(grid)
    first = starts or timezone.localdate()
    plan = CarePlan.objects.create(
        person=person,
        reason=reason.strip(),
        every_days=every_days,
        assignee_id=assignee_id,
        starts=first,
        next_due=first,
    )
    audit.record(
        actor=actor,
        action="visits.care_plan_created",
        obj=plan,
        node_code=person.household.code,
        after=audit.snapshot(plan, CARE_FIELDS),
    )
    return plan


@transaction.atomic
def end_care_plan(*, actor: User, care_plan_id: int) -> CarePlan:
    plan = get_in_scope(
        CarePlan, actor, care_plan_id, "change", queryset=CarePlan.objects.select_related("person__household")
    )
    if not plan.is_active:
        raise Conflict(_("The care plan has already ended."))
    before = audit.snapshot(plan, CARE_FIELDS)
    plan.is_active = False
    plan.save(update_fields=["is_active", "updated_at"])
    household = plan.person.household
    audit.record(
        actor=actor,
        action="visits.care_plan_ended",
        obj=plan,
        node_code=household.code if household else "",
        before=before,
        after=audit.snapshot(plan, CARE_FIELDS),
    )
    return plan


@transaction.atomic
def credit_care(*, actor: User, person_id: int, day: datetime.date, source: str) -> int:
    """Care given to a person by someone else than a grid worker (a volunteer's visit, recorded by the activity's
    organiser in the service app) counts towards the person's active care plans as a visit on ``day`` would: the
    last visit moves to ``day`` and the next one falls due a period later. The caller has checked the actor may
    record the care; ``source`` says where it was recorded (kept in the audit trail). Returns the plans moved."""
    moved = 0
    plans = CarePlan.objects.select_for_update(of=("self",)).filter(is_active=True, person_id=person_id)
    for plan in plans.select_related("person__household"):
        if plan.last_visited is not None and plan.last_visited >= day:
            continue
        before = audit.snapshot(plan, CARE_FIELDS)
        plan.last_visited = day
        plan.next_due = day + datetime.timedelta(days=plan.every_days)
        plan.save(update_fields=["last_visited", "next_due", "updated_at"])
        household = plan.person.household
        audit.record(
            actor=actor,
            action="visits.care_credited",
            obj=plan,
            node_code=household.code if household else "",
            before=before,
            after={**audit.snapshot(plan, CARE_FIELDS), "source": source},
        )
        moved += 1
    return moved
