"""The demo year of cases: volume, spread, legal timelines, deadlines, the seed stories, the demo log-ins' work.

The territory and the people are built once for the module (without households and the party tree, which the
cases do not need), then the cases step; everything is deleted afterwards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import shapely
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.cases import selectors, tracking, workflow
from gongzhi.cases.choices import FINAL_STATUSES, OPEN_STATUSES, Channel, Rating, Status, Tier
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core.testing import restore_migration_rows
from gongzhi.demo import builder, cases, names
from gongzhi.demo.context import BuildContext
from gongzhi.demo.tests.leftovers import removed_afterwards
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

CODE = names.street_code(0)
SKIPPED = {"households", "party organisations", "disputes"}  # not needed by the cases; saves time


def _quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), removed_afterwards():
        restore_migration_rows()  # the database may have been flushed by a transactional test
        lines: list[str] = []
        ctx = builder.new_context(0, lines.append, builder.demo_password_hash())
        with transaction.atomic():
            for label, step in builder.STEPS:
                if label not in SKIPPED:
                    ctx.counts[label] += step(ctx)
        ctx.out = _quiet
        yield ctx, lines
        builder.delete_demo(_quiet)
        assert not Case.objects.exists() and not CaseEvent.objects.exists()
        assert not Node.objects.filter(code__startswith=CODE).exists()


@pytest.fixture
def ctx(built, db):  # type: ignore[no-untyped-def]
    return built[0]


def _reported_live() -> QuerySet[Case]:
    """The few cases later steps report through the live services, not the generated year: serious hazards, meetings'
    decisions, and the reports the triage step files for the model to dispatch."""
    from gongzhi.inspections.models import Hazard
    from gongzhi.meetings.models import Decision

    return Case.objects.filter(
        Q(pk__in=Hazard.objects.filter(case__isnull=False).values("case"))
        | Q(pk__in=Decision.objects.filter(case__isnull=False).values("case"))
        | Q(pk__in=CaseEvent.objects.filter(action="report", case__triage_suggestion__dispatched=True).values("case"))
    )


def _timelines() -> dict[int, list[tuple[str, str, str, object, str]]]:
    rows = CaseEvent.objects.order_by("case_id", "at", "id").values_list(
        "case_id", "action", "from_status", "to_status", "at", "note"
    )
    out: dict[int, list[tuple[str, str, str, object, str]]] = defaultdict(list)
    for case_id, *rest in rows:
        out[case_id].append(tuple(rest))  # type: ignore[arg-type]
    return out


# --- Volume and spread ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_year_of_cases_over_ten_thousand(ctx: BuildContext, built) -> None:  # type: ignore[no-untyped-def]
    total = Case.objects.filter(node__code__startswith=CODE).count()
    assert 10_000 <= total <= 11_500
    year_ago = ctx.now - timedelta(days=365)
    in_year = Case.objects.filter(reported_at__gte=year_ago, reported_at__lte=ctx.now).count()
    # Nothing from the future: the year is generated up to ctx.now; the few cases later steps report through the live
    # services (a serious hazard, a visit's need) are stamped with the clock of the build.
    assert in_year >= 10_000 and not Case.objects.filter(reported_at__gt=timezone.now()).exists()
    assert CaseEvent.objects.count() >= 6 * total
    # The generated year, besides the few cases a later step reports through the live services (serious hazards,
    # meetings' decisions).
    later = _reported_live()
    assert ctx.counts["cases"] == total - later.count()
    assert ctx.counts["case events"] == CaseEvent.objects.exclude(case__in=later).count()
    summary = [line for line in built[1] if line.strip().startswith("cases ")]
    assert summary and "overdue now" in summary[0] and "followed_up" in summary[0]


@pytest.mark.slow
def test_spread_over_channels_categories_places(ctx: BuildContext) -> None:
    qs = Case.objects.all()
    n = qs.count()
    channels = Counter(qs.values_list("channel", flat=True))
    assert set(channels) == set(Channel.values) - {Channel.OPEN311}  # outside apps' cases come through Open311 only
    assert 0.38 < channels[Channel.PATROL] / n < 0.52
    assert 0.18 < channels[Channel.HOTLINE] / n < 0.32
    assert channels[Channel.RESIDENT] > channels[Channel.DESK]
    categories = Counter(qs.values_list("category__code", flat=True))
    assert len(categories) >= 25
    top = {code for code, _ in categories.most_common(10)}
    assert {"0104", "0701", "0501", "0703"} <= top  # 乱晾晒, 楼道堆物, 乱停车, 邻里纠纷
    # Every community and village has cases, on its buildings and grids.
    communities = Counter(code[:12] for code in qs.values_list("node__code", flat=True))
    assert len(communities) == 23 and min(communities.values()) >= 30
    assert set(qs.values_list("node__kind", flat=True)) == {NodeKind.BUILDING, NodeKind.GRID}
    # Outcomes.
    statuses = Counter(qs.values_list("status", flat=True))
    done = statuses[Status.CLOSED] + statuses[Status.FOLLOWED_UP]
    assert done / n > 0.85
    for status in (Status.REJECTED, Status.CANCELLED, Status.MERGED, Status.POSTPONED, Status.IN_PROGRESS):
        assert statuses[status] > 0, status
    assert 100 < sum(statuses[s] for s in OPEN_STATUSES) < 600  # the to-do lists look alive
    assert qs.filter(rework_count=1).count() > 100 and qs.filter(rework_count=2).exists()
    assert qs.filter(return_count__gt=0).count() > 100
    assert qs.filter(fixed_on_spot=True).count() > 500
    assert CaseEvent.objects.filter(action="postpone").count() > 100
    ratings = Counter(qs.exclude(rating="").values_list("rating", flat=True))
    rated = sum(ratings.values())
    assert rated > 0.6 * n
    assert (ratings[Rating.SATISFIED] + ratings[Rating.BASICALLY_SATISFIED]) / rated > 0.9
    assert ratings[Rating.DISSATISFIED] > 0
    # Handlers: grids, property companies, departments.
    assert qs.filter(handler_node__kind=NodeKind.GRID).count() > 3000
    assert qs.filter(handler_body__kind=BodyKind.PROPERTY_COMPANY).count() > 100
    assert qs.filter(handler_body__kind=BodyKind.DEPARTMENT).count() > 300


@pytest.mark.slow
def test_tiers_are_mostly_building_and_grid(ctx: BuildContext) -> None:
    tiers = Counter(Case.objects.values_list("tier", flat=True))
    n = sum(tiers.values())
    assert (tiers[Tier.BUILDING] + tiers[Tier.GRID]) / n > 0.75
    assert tiers[Tier.COMMUNITY] > tiers[Tier.SUBDISTRICT] > 0
    assert 0 < tiers[Tier.DEPARTMENT] / n < 0.15
    # Escalated cases carry their count, and the subdistrict owns what went above the community.
    office = ctx.bodies["office"]
    above = Case.objects.filter(tier=Tier.SUBDISTRICT)
    assert not above.exclude(owner_body=office).exists() and not above.filter(escalation_count=0).exists()
    community_tier = Case.objects.filter(tier=Tier.COMMUNITY)
    assert not community_tier.filter(escalation_count=0).exists()
    assert not community_tier.filter(owner_user__isnull=False).exists()
    # Below the subdistrict the owner is the place's lead body.
    for tier, node_lead, owner in Case.objects.filter(tier__lte=Tier.COMMUNITY).values_list(
        "tier", "node__lead_body_id", "owner_body_id"
    ):
        assert owner == node_lead, tier


# --- Timelines --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_status_is_the_last_event_and_the_first_is_the_report(ctx: BuildContext) -> None:
    timelines = _timelines()
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert set(timelines) == set(statuses)
    for pk, status in statuses.items():
        events = timelines[pk]
        assert events[0][0] == "report" and events[0][2] == Status.REPORTED
        assert events[-1][2] == status, pk


@pytest.mark.slow
def test_every_timeline_is_legal_under_the_transition_table(ctx: BuildContext) -> None:
    timelines = _timelines()
    for pk, reported_at, channel in Case.objects.values_list("pk", "reported_at", "channel"):
        events = timelines[pk]
        transitions = [e for e in events[1:] if e[0] in workflow.TRANSITIONS]
        current: str = Status.REPORTED
        for action, before, after, _at, _note in events[1:]:
            if action not in workflow.TRANSITIONS:
                assert action == "note" and before == after == current, pk
            current = after
        replayed = workflow.replay_history(
            Case(number=f"R{pk}", reported_at=reported_at, channel=channel),
            [(action, at, "", note) for action, _b, _a, at, note in transitions],  # type: ignore[misc]
        )
        assert [(e.action, e.from_status, e.to_status) for e in replayed[1:]] == [
            (action, before, after) for action, before, after, _at, _note in transitions
        ], pk
        times = [e[3] for e in events]
        assert times == sorted(times) and times[0] == reported_at  # type: ignore[type-var]


@pytest.mark.slow
def test_timestamps_follow_the_workflow(ctx: BuildContext) -> None:
    done = Case.objects.filter(status__in=[Status.CLOSED, Status.FOLLOWED_UP])
    for reported, dispatched, disposed, closed, rated, kind in done.values_list(
        "reported_at", "dispatched_at", "disposed_at", "closed_at", "rated_at", "closed_kind"
    ):
        assert reported <= disposed <= closed
        assert dispatched is None or reported <= dispatched <= disposed
        assert rated is None or rated >= closed
        assert kind
    assert not done.filter(status=Status.FOLLOWED_UP, rating="").exists()
    assert not done.filter(due_at__isnull=False).exists()  # a closed case has no running clock
    assert not Case.objects.filter(status__in=FINAL_STATUSES, is_overdue=True).exists()
    fixed = Case.objects.filter(fixed_on_spot=True)
    assert not fixed.filter(tier__gt=Tier.GRID).exclude(escalation_count__gt=0).exists()
    assert not fixed.filter(handler_node__isnull=True).exists()
    postponed = Case.objects.filter(status=Status.POSTPONED)
    assert not postponed.filter(postponed_until__isnull=True).exists()
    assert not postponed.filter(due_at__isnull=False).exists()


@pytest.mark.slow
def test_deadlines_overdue_share_and_open_clocks(ctx: BuildContext) -> None:
    n = Case.objects.count()
    missed = Case.objects.filter(overdue_count__gt=0)
    assert 0.05 < missed.count() / n < 0.20
    assert not missed.filter(status__in=[Status.CLOSED, Status.FOLLOWED_UP], closed_kind="normal").exists()
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    overdue_now = open_cases.filter(is_overdue=True)
    assert overdue_now.count() >= 10
    assert not overdue_now.filter(due_at__gte=ctx.now).exists()
    assert not open_cases.filter(is_overdue=False, due_at__lt=ctx.now - timedelta(minutes=5)).exists()
    # Clocks run in the steps that have one.
    clocked = open_cases.exclude(status__in=[Status.REPORTED, Status.POSTPONED])
    assert not clocked.filter(due_at__isnull=True).exists()
    # Missed deadlines were escalated automatically, once each, where the table allows.
    auto = CaseEvent.objects.filter(action="escalate", actor_label=workflow.SYSTEM)
    assert auto.count() > 0.5 * missed.count()
    assert not auto.exclude(note=cases.AUTO_ESCALATION_NOTE).exists()


@pytest.mark.slow
def test_duplicates_are_merged_into_an_earlier_open_case_of_the_same_problem(ctx: BuildContext) -> None:
    merged = Case.objects.filter(status=Status.MERGED).select_related("merged_into")
    assert merged.count() > 100
    closing = dict(
        CaseEvent.objects.filter(action__in=["close", "reject", "cancel", "merge"]).values_list("case_id", "at")
    )
    merge_at = dict(CaseEvent.objects.filter(action="merge").values_list("case_id", "at"))
    for dup in merged:
        target = dup.merged_into
        assert target is not None and target.status != Status.MERGED
        assert (target.category_id, target.node_id) == (dup.category_id, dup.node_id)
        assert target.reported_at <= dup.reported_at <= merge_at[dup.pk]
        assert closing.get(target.pk, ctx.now) > merge_at[dup.pk]  # still open when merged


@pytest.mark.slow
def test_identity_places_and_people(ctx: BuildContext) -> None:
    rows = list(
        Case.objects.values_list(
            "pk", "number", "reported_at", "tracking_code", "channel", "hotline_ticket", "node_id", "lat", "lng"
        )
    )
    local = timezone.get_current_timezone()
    for pk, number, reported_at, _code, *_ in rows:
        assert number == f"{reported_at.astimezone(local):%Y%m%d}{pk:07d}"
    codes = [r[3] for r in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == tracking.LENGTH and set(c) <= set(tracking.ALPHABET) for c in codes)
    tickets = [r[5] for r in rows if r[4] == Channel.HOTLINE]
    assert all(t and t.startswith("12345-") for t in tickets) and len(set(tickets)) == len(tickets)
    assert all(r[5] is None for r in rows if r[4] != Channel.HOTLINE)
    grids = {g.node.pk: g.polygon for g in ctx.grids if g.node}
    buildings = {b.node.pk: (b.lat, b.lng) for b in ctx.buildings if b.node}
    live = set(_reported_live().values_list("pk", flat=True))  # placed without a point (a meeting's decision)
    for pk, *_, node_id, lat, lng in rows:
        if pk in live and lat is None:
            continue
        if node_id in buildings:
            assert (lat, lng) == buildings[node_id]
        else:
            assert grids[node_id].contains(shapely.Point(lng, lat))
    # Timeline actors are the demo people of the right places.
    staff_events = CaseEvent.objects.exclude(actor__isnull=True).count()
    assert staff_events > 0.7 * CaseEvent.objects.count()
    patrol = Case.objects.filter(channel=Channel.PATROL)
    assert not patrol.filter(reporter_user__isnull=True).exists()
    sample = patrol.select_related("node", "reporter_user")[:200]
    for case in sample:
        grid_code = case.node.code[:15]
        assert case.reporter_user.role_assignments.filter(node__code=grid_code).exists()
    assert (
        not Case.objects.filter(channel=Channel.RESIDENT, reporter_phone="")
        .exclude(reporter_user__username="resident")
        .exists()
    )


@pytest.mark.slow
def test_triage_trained_at_seed_time_and_some_cases_dispatched_by_the_model(ctx: BuildContext) -> None:
    """Issue 23: a model in use at once, auto-dispatch on for a few clear categories, the waiting cases suggested, a
    few new reports dispatched by the model (the timeline says so)."""
    from gongzhi.cases.workflow import BY_MODEL
    from gongzhi.triage.models import AutoDispatch, CaseSuggestion, ModelVersion

    assert ModelVersion.objects.filter(is_active=True).exists()
    switch = AutoDispatch.objects.get(subdistrict__code=CODE)
    assert switch.enabled and 1 <= switch.categories.count() <= 3
    waiting = Case.objects.filter(status__in=["reported", "accepted"])
    assert waiting.exists() and not waiting.filter(triage_suggestion__isnull=True).exists()
    by_model = CaseEvent.objects.filter(action="dispatch", actor_label=BY_MODEL)
    assert by_model.count() >= 1
    assert CaseSuggestion.objects.filter(dispatched=True).count() == by_model.count()


# --- Copy 0's stories and log-ins -------------------------------------------------------------------------------


@pytest.mark.slow
def test_seed_story_fudong_quilts_on_a_green_belt(ctx: BuildContext) -> None:
    case = Case.objects.get(title="府东小区绿化带上晾晒被褥")
    assert case.category.name == "乱晾晒" and case.node.parent.name == "府东社区"
    assert case.reporter_user.username == "gridworker" and case.channel == Channel.PATROL
    assert case.handler_body.kind == BodyKind.PROPERTY_COMPANY
    assert (case.status, case.rating, case.resolved) == (Status.FOLLOWED_UP, Rating.SATISFIED, True)
    actions = list(case.events.order_by("at", "id").values_list("action", flat=True))
    for action in ("report", "accept", "dispatch", "acknowledge", "dispose", "verify", "close", "follow_up"):
        assert action in actions
    assert case.overdue_count == 0


@pytest.mark.slow
def test_seed_story_jinhe_parking_through_a_joint_meeting(ctx: BuildContext) -> None:
    case = Case.objects.get(title=f"{names.JINHE_COMPOUND}车辆乱停乱放、消防通道被占")
    assert case.tier == Tier.COMMUNITY and case.escalation_count >= 1
    assert case.owner_body.name == "府东社区居委会"
    assert case.events.filter(action="note", note__contains="联席会议").exists()
    assert case.handler_body.kind == BodyKind.PROPERTY_COMPANY
    assert case.status == Status.FOLLOWED_UP and case.rating == Rating.SATISFIED
    assert case.overdue_count == 0 and case.events.filter(action="postpone").exists()


@pytest.mark.slow
def test_seed_story_xida_standing_water_over_the_years(ctx: BuildContext) -> None:
    titles = [f"{names.XIDA_MARKET}门前雨后积水", f"{names.XIDA_MARKET}门口又积水了"]
    water = Case.objects.filter(node__name=names.XIDA_MARKET, category__name="积水", title__in=titles)
    years = {c.reported_at.year for c in water}
    assert len(years) >= 3  # reported summer after summer
    main = water.filter(status=Status.FOLLOWED_UP, rating=Rating.SATISFIED, resolved=True).get()
    assert main.closed_at >= ctx.now - timedelta(days=365)
    assert main.tier == Tier.DEPARTMENT and main.handler_body.name == names.body_name("{S}街道城建办", 0)
    assert main.merged_cases.count() >= 3
    assert main.overdue_count == 0 and main.owner_body == ctx.bodies["office"]
    assert main.events.filter(action="postpone").exists() and main.events.filter(action="return").exists()
    earlier = water.filter(reported_at__lt=main.reported_at).exclude(status=Status.MERGED)
    assert earlier.count() >= 3 and not earlier.filter(resolved=True).exists()
    assert Case.objects.filter(status=Status.MERGED, merged_into__in=earlier).count() >= 2


@pytest.mark.slow
def test_demo_logins_have_work(ctx: BuildContext) -> None:
    worker = User.objects.get(username="gridworker")
    todo = selectors.todo(user=worker)
    assert todo.count() >= 5 and todo.filter(is_overdue=True).exists()
    first = todo.first()
    assert first is not None and first.is_overdue  # overdue first
    done = Case.objects.restrict(worker, "view").filter(status__in=[Status.CLOSED, Status.FOLLOWED_UP])
    assert done.filter(reporter_user=worker).count() >= 3
    fudong = selectors.todo(user=User.objects.get(username="fudong"))
    assert fudong.count() > todo.count() and fudong.filter(is_overdue=True).exists()
    police = User.objects.get(username="police")
    station = Body.objects.get(name="沈北新区公安分局道义派出所")
    waiting = Case.objects.restrict(police, "change").filter(status=Status.DISPATCHED, handler_body=station)
    assert waiting.count() >= 2
    # The mediator: the disputes passed to its team, nothing else of the subdistrict's cases.
    mediator = User.objects.get(username="mediator")
    team = ctx.bodies["mediators"]
    seen = Case.objects.restrict(mediator, "view")
    assert seen.filter(handler_body=team, category__code="0703").count() >= 20
    assert not seen.exclude(handler_body=team).exclude(reporter_user=mediator).exists()
    assert CaseEvent.objects.filter(case__handler_body=team, action="dispose", actor__role_assignments__body=team).exists()
    resident = User.objects.get(username="resident")
    assert Case.objects.filter(reporter_user=resident).exists()
    assert selectors.intake_queue(user=User.objects.get(username="operator")).exists()


# --- Determinism and reset --------------------------------------------------------------------------------------


def _digest(stories: list[cases.Story]) -> str:
    h = hashlib.sha256()
    for s in stories:
        c = s.case
        h.update(
            repr(
                (
                    c.pk,
                    c.number,
                    c.title,
                    c.category_id,
                    c.urgency,
                    c.channel,
                    c.status,
                    c.tier,
                    c.node_id,
                    c.lat,
                    c.lng,
                    c.owner_body_id,
                    c.owner_user_id,
                    c.handler_body_id,
                    c.handler_node_id,
                    c.reporter_name,
                    c.reporter_phone,
                    c.hotline_ticket,
                    c.tracking_code,
                    c.merged_into_id,
                    c.due_at,
                    c.is_overdue,
                    c.overdue_count,
                    c.rework_count,
                    c.rating,
                    c.reported_at,
                    c.closed_at,
                )
            ).encode()
        )
        for e in s.events:
            h.update(repr((e.at, e.action, e.from_status, e.to_status, e.actor_id, e.actor_label, e.note)).encode())
    return h.hexdigest()


@pytest.mark.slow
def test_a_month_is_planned_the_same_every_time(ctx: BuildContext) -> None:
    world = cases.load_world(ctx)
    chunk = cases.month_chunks(world)[6]
    first = cases.plan_month(world, chunk, itertools.count(1).__next__)
    again = cases.plan_month(cases.load_world(ctx), chunk, itertools.count(1).__next__)
    assert 700 < len(first) < 1200
    assert _digest(first) == _digest(again)
    # A build later the same day tells the same stories (what happens after "now" aside).
    local_now = timezone.localtime(ctx.now)
    midnight = local_now.replace(hour=0, minute=0, second=1, microsecond=0)
    earlier = dataclasses.replace(ctx, now=max(midnight, local_now - timedelta(hours=2)))
    later = cases.plan_month(cases.load_world(earlier), chunk, itertools.count(1).__next__)
    assert [(s.case.reported_at, s.case.channel, s.case.category_id, s.case.title) for s in first] == [
        (s.case.reported_at, s.case.channel, s.case.category_id, s.case.title) for s in later
    ]
    # What was written for that month is what the plan says (ids aside).
    month = {(s.case.reported_at, s.case.title, s.case.status) for s in first}
    start, end = min(r[0] for r in month), max(r[0] for r in month)
    stored = set(Case.objects.filter(reported_at__range=(start, end)).values_list("reported_at", "title", "status"))
    assert month <= stored


@pytest.mark.slow
def test_tracking_codes_are_distinct_per_id() -> None:
    codes = {cases.tracking_code(pk) for pk in range(1, 200_001)}
    assert len(codes) == 200_000


@pytest.mark.slow
def test_reset_deletes_the_cases_before_the_places(ctx: BuildContext) -> None:
    bodies = builder._demo_bodies(CODE)
    for label, step in builder.RESET_STEPS:  # what points at the cases goes first (hazards, needs, disputes, visits)
        if label == "cases":
            break
        step(CODE, bodies, _quiet)
    deleted = cases.reset_cases(CODE, bodies, _quiet)
    assert deleted > 80_000
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert cases.reset_cases(CODE, bodies, _quiet) == 0


def test_facility_cases_beside_events(ctx: BuildContext) -> None:
    """The demo's cases use the facility classes (部件) too: broken street lamps, manhole covers, bins, fitness
    equipment, under their own codes."""
    facility = Counter(
        Case.objects.filter(category__kind="facility")
        .exclude(pk__in=_reported_live())
        .values_list("category__code", flat=True)
    )
    assert set(facility) == {"0102", "0118", "0305", "0126"}
    assert min(facility.values()) >= 5
    assert Case.objects.filter(category__kind="event", category__code="0102").exists(), "the same digits, an event"
