from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.registry.models import PersonTag
from gongzhi.visits import selectors, services
from gongzhi.visits.models import CampaignTarget, Visit
from gongzhi.visits.tests.factories import populate, resident_of, staff

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture
def people(tree):  # type: ignore[no-untyped-def]
    """Community 1: grid 1 has 1 + 3 households with residents, grid 2 has 1 + 1. Community 2 has its own."""
    for household in tree.households:
        resident_of(household)
    populate(tree.buildings[0], 3)
    populate(tree.buildings[1], 1)
    populate(tree.buildings[2], 2)
    return staff(tree)


def _campaign(tree, actor, **kw):  # type: ignore[no-untyped-def]
    args = {
        "name": "冬季走访",
        "area_id": tree.communities[0].pk,
        "starts": TODAY - datetime.timedelta(days=7),
        "ends": TODAY + datetime.timedelta(days=21),
    }
    args.update(kw)
    return services.create_campaign(actor=actor, **args)


def test_campaign_targets_every_occupied_household_and_assigns_grid_workers(tree, people):  # type: ignore[no-untyped-def]
    populate(tree.buildings[0], 0)
    empty = tree.buildings[0].children.create(
        code=f"{tree.buildings[0].code}0099", name="空置", kind="household", lead_body=tree.buildings[0].lead_body
    )
    campaign = _campaign(tree, people["staff"])
    targets = CampaignTarget.objects.filter(campaign=campaign)
    assert targets.count() == 6
    assert not targets.filter(household=empty).exists()
    assert set(targets.filter(household__code__startswith=tree.grids[0].code).values_list("assignee", flat=True)) == {
        people["worker1"].pk
    }
    assert set(targets.filter(household__code__startswith=tree.grids[1].code).values_list("assignee", flat=True)) == {
        people["worker2"].pk
    }
    assert AuditLog.objects.filter(action="visits.campaign_created", object_id=campaign.pk).exists()


def test_coverage_arithmetic_per_grid_community_and_campaign(tree, people):  # type: ignore[no-untyped-def]
    campaign = _campaign(tree, people["staff"])
    grid1 = list(CampaignTarget.objects.filter(campaign=campaign, household__code__startswith=tree.grids[0].code))
    total = selectors.campaign_total(user=people["staff"], campaign=campaign)
    assert (total.targets, total.covered, total.percent) == (6, 0, 0.0)

    # Three visits in grid 1: met, nobody home (does not cover), met again on an already covered door (counts once).
    services.record_visit(actor=people["worker1"], household_id=grid1[0].household_id, outcome="met")
    services.record_visit(actor=people["worker1"], household_id=grid1[1].household_id, outcome="not_home")
    services.record_visit(actor=people["worker1"], household_id=grid1[0].household_id, outcome="met")
    services.record_visit(actor=people["worker1"], household_id=grid1[2].household_id, outcome="moved_away")

    by_grid = {row.code: row for row in selectors.coverage(user=people["staff"], campaign=campaign, by="grid")}
    assert (by_grid[tree.grids[0].code].targets, by_grid[tree.grids[0].code].covered) == (4, 2)
    assert by_grid[tree.grids[0].code].percent == 50.0
    assert (by_grid[tree.grids[1].code].targets, by_grid[tree.grids[1].code].covered) == (2, 0)
    assert by_grid[tree.grids[1].code].percent == 0.0
    (community,) = selectors.coverage(user=people["staff"], campaign=campaign, by="community")
    assert (community.code, community.targets, community.covered, community.remaining) == (
        tree.communities[0].code,
        6,
        2,
        4,
    )
    assert community.percent == 33.3
    total = selectors.campaign_total(user=people["staff"], campaign=campaign)
    assert (total.targets, total.covered) == (6, 2)
    # A grid worker sees the coverage of the targets they may see: their own grid.
    (mine,) = selectors.coverage(user=people["worker1"], campaign=campaign, by="grid")
    assert (mine.code, mine.targets, mine.covered) == (tree.grids[0].code, 4, 2)
    assert selectors.percent(0, 0) is None


def test_tagged_campaign_only_reaches_households_with_that_tag(tree, people):  # type: ignore[no-untyped-def]
    elderly = resident_of(tree.households[1])
    PersonTag.objects.create(person=elderly, tag="elderly_alone", since=TODAY - datetime.timedelta(days=400))
    ended = resident_of(tree.households[0])
    PersonTag.objects.create(
        person=ended, tag="elderly_alone", since=datetime.date(2020, 1, 1), until=datetime.date(2021, 1, 1)
    )
    campaign = _campaign(tree, people["staff"], tags=["elderly_alone"])
    assert list(CampaignTarget.objects.filter(campaign=campaign).values_list("household", flat=True)) == [
        tree.households[1].pk
    ]
    with pytest.raises(ValidationFailed) as err:
        _campaign(tree, people["staff"], tags=["disabled"])
    assert err.value.details[0].field == "tags"
    with pytest.raises(ValidationFailed) as err:
        _campaign(tree, people["staff"], tags=["nonsense"])
    assert err.value.details[0].field == "tags[0]"


def test_campaign_scope_and_validation(tree, other_tree, people):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        _campaign(tree, people["staff"], area_id=other_tree.communities[0].pk)
    with pytest.raises(Forbidden):
        _campaign(tree, people["worker1"], area_id=tree.grids[0].pk)
    with pytest.raises(ValidationFailed) as err:
        _campaign(tree, people["staff"], name=" ", ends=TODAY - datetime.timedelta(days=30))
    assert {d.field for d in err.value.details} == {"name", "ends"}


def test_a_visit_covers_every_open_campaign_and_ignores_closed_or_future_ones(tree, people):  # type: ignore[no-untyped-def]
    first = _campaign(tree, people["staff"])
    second = _campaign(tree, people["staff"], name="安全走访", area_id=tree.grids[0].pk)
    future = _campaign(
        tree,
        people["staff"],
        name="春节走访",
        starts=TODAY + datetime.timedelta(days=30),
        ends=TODAY + datetime.timedelta(days=60),
    )
    closed = _campaign(tree, people["staff"], name="旧走访")
    services.close_campaign(actor=people["staff"], campaign_id=closed.pk)
    with pytest.raises(Conflict):
        services.close_campaign(actor=people["staff"], campaign_id=closed.pk)
    visit = services.record_visit(actor=people["worker1"], household_id=tree.households[0].pk, outcome="met")
    assert visit.campaign == first
    covered = CampaignTarget.objects.filter(household=tree.households[0], covered_at__isnull=False)
    assert set(covered.values_list("campaign", flat=True)) == {first.pk, second.pk}
    assert not CampaignTarget.objects.filter(campaign__in=[future, closed], covered_at__isnull=False).exists()


def test_campaign_started_after_visits_counts_them(tree, people):  # type: ignore[no-untyped-def]
    services.record_visit(
        actor=people["worker1"],
        household_id=tree.households[0].pk,
        outcome="met",
        visited_at=timezone.now() - datetime.timedelta(days=2),
    )
    services.record_visit(
        actor=people["worker2"],
        household_id=tree.households[1].pk,
        outcome="met",
        visited_at=timezone.now() - datetime.timedelta(days=200),
    )
    campaign = _campaign(tree, people["staff"])
    covered = CampaignTarget.objects.filter(campaign=campaign, covered_at__isnull=False)
    assert list(covered.values_list("household", flat=True)) == [tree.households[0].pk]


def test_need_found_on_a_visit_becomes_a_case_in_one_step(tree, people):  # type: ignore[no-untyped-def]
    cat = category("0105")
    person = resident_of(tree.households[0])
    visit = services.record_visit(
        actor=people["worker1"],
        household_id=tree.households[0].pk,
        person_id=person.pk,
        outcome="met",
        needs="楼道灯坏了，老人夜里看不见\n希望尽快修",
        raise_case=True,
        category_id=cat.pk,
    )
    case = Case.objects.get(pk=visit.case_id)
    assert case.channel == Channel.VISIT
    assert case.title == "楼道灯坏了，老人夜里看不见"
    assert case.node_id == tree.buildings[0].pk
    assert case.reporter_name == person.name
    assert Visit.objects.filter(case=case).count() == 1


def test_a_bad_case_leaves_no_visit_behind(tree, people):  # type: ignore[no-untyped-def]
    before = Visit.objects.count(), Case.objects.count()
    with pytest.raises(ValidationFailed) as err:
        services.record_visit(
            actor=people["worker1"], household_id=tree.households[0].pk, outcome="met", raise_case=True
        )
    assert {d.field for d in err.value.details} == {"needs", "category_id"}
    with pytest.raises(ValidationFailed):
        services.record_visit(
            actor=people["worker1"],
            household_id=tree.households[0].pk,
            outcome="met",
            needs="x",
            raise_case=True,
            category_id=999999,
        )
    assert (Visit.objects.count(), Case.objects.count()) == before


def test_visit_validation_and_scope(tree, other_tree, people):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        services.record_visit(actor=people["worker1"], household_id=other_tree.households[0].pk, outcome="met")
    with pytest.raises(NotFound):  # a neighbouring grid is not the worker's ground
        services.record_visit(actor=people["worker1"], household_id=tree.households[1].pk, outcome="met")
    with pytest.raises(ValidationFailed) as err:
        services.record_visit(
            actor=people["worker1"],
            household_id=tree.grids[0].pk,
            outcome="gossip",
            visited_at=timezone.now() + datetime.timedelta(days=1),
        )
    assert {d.field for d in err.value.details} == {"household_id", "outcome", "visited_at"}
    other_person = resident_of(tree.households[2])
    with pytest.raises(ValidationFailed) as err:
        services.record_visit(
            actor=people["staff"], household_id=tree.households[0].pk, outcome="met", person_id=other_person.pk
        )
    assert err.value.details[0].field == "person_id"
    mediator = user_with_role(Role.MEDIATOR, node=tree.communities[0])
    with pytest.raises((Forbidden, NotFound)):
        services.record_visit(actor=mediator, household_id=tree.households[0].pk, outcome="met")


def test_care_plan_cycle_and_overdue_list(tree, people):  # type: ignore[no-untyped-def]
    person = resident_of(tree.households[0])
    start = timezone.localdate() - datetime.timedelta(days=10)
    plan = services.create_care_plan(
        actor=people["staff"], person_id=person.pk, every_days=7, starts=start, reason="独居老人"
    )
    assert plan.assignee == people["worker1"] and plan.next_due == start
    with pytest.raises(Conflict):
        services.create_care_plan(actor=people["staff"], person_id=person.pk)
    overdue = list(selectors.care_plan_list(user=people["worker1"], overdue_only=True))
    assert overdue == [plan] and selectors.days_overdue(plan) == 10
    assert list(selectors.care_plan_list(user=people["worker2"], overdue_only=True)) == []

    # Nobody home: the plan stays overdue. Met: the next visit is due a week later.
    services.record_visit(actor=people["worker1"], household_id=tree.households[0].pk, outcome="not_home")
    plan.refresh_from_db()
    assert plan.last_visited is None
    services.record_visit(actor=people["worker1"], household_id=tree.households[0].pk, outcome="met")
    plan.refresh_from_db()
    assert plan.last_visited == timezone.localdate()
    assert plan.next_due == timezone.localdate() + datetime.timedelta(days=7)
    assert list(selectors.care_plan_list(user=people["worker1"], overdue_only=True)) == []
    # A visit recorded late for an earlier day does not move the plan back.
    services.record_visit(
        actor=people["worker1"],
        household_id=tree.households[0].pk,
        outcome="met",
        visited_at=timezone.now() - datetime.timedelta(days=3),
    )
    plan.refresh_from_db()
    assert plan.last_visited == timezone.localdate()

    services.end_care_plan(actor=people["staff"], care_plan_id=plan.pk)
    assert list(selectors.care_plan_list(user=people["staff"])) == []
    with pytest.raises(Conflict):
        services.end_care_plan(actor=people["staff"], care_plan_id=plan.pk)


def test_assign_targets_to_another_worker(tree, people):  # type: ignore[no-untyped-def]
    campaign = _campaign(tree, people["staff"])
    helper = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    moved = services.assign_targets(
        actor=people["staff"], campaign_id=campaign.pk, assignee_id=helper.pk, within_id=tree.grids[0].pk
    )
    assert moved == 4
    assert selectors.campaign_targets(user=helper, campaign=campaign, mine=True).count() == 4


def test_my_households_lists_todo_and_last_visit(tree, people):  # type: ignore[no-untyped-def]
    campaign = _campaign(tree, people["staff"])
    rows = list(selectors.my_households(user=people["worker1"]))
    assert len(rows) == 4 and all(r.people == 1 for r in rows)
    services.record_visit(actor=people["worker1"], household_id=rows[0].pk, outcome="met")
    todo = list(selectors.my_households(user=people["worker1"], todo_campaign_id=campaign.pk))
    assert [r.pk for r in todo] == [r.pk for r in rows[1:]]
    visited = selectors.my_households(user=people["worker1"]).get(pk=rows[0].pk)
    assert visited.last_visit is not None


def test_each_worker_is_told_once_per_assignment_batch_with_their_count(tree, people):  # type: ignore[no-untyped-def]
    """Issue 17: a visit campaign assignment → the worker, once per batch (not per household), with a link to their
    to-do list filtered to the campaign; the staff who assigned is not told."""
    from gongzhi.messaging.models import Message

    campaign = _campaign(tree, people["staff"])
    told = {m.user_id: m for m in Message.objects.filter(kind="visits.assigned")}
    assert set(told) == {people["worker1"].pk, people["worker2"].pk}  # 4 + 2 households: one message each
    assert told[people["worker1"].pk].text["params"]["count"] == 4
    assert told[people["worker2"].pk].text["params"]["count"] == 2
    assert told[people["worker1"].pk].link == f"/visits/?todo={campaign.pk}"
    assert "4" in told[people["worker1"].pk].body and "冬季走访" in told[people["worker1"].pk].body

    helper = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    services.assign_targets(
        actor=people["staff"], campaign_id=campaign.pk, assignee_id=helper.pk, within_id=tree.grids[0].pk
    )
    services.assign_targets(  # already theirs: nothing new to tell
        actor=people["staff"], campaign_id=campaign.pk, assignee_id=helper.pk, within_id=tree.buildings[0].pk
    )
    assert [m.text["params"]["count"] for m in Message.objects.filter(kind="visits.assigned", user=helper)] == [4]
    services.assign_targets(
        actor=people["staff"], campaign_id=campaign.pk, assignee_id=people["worker1"].pk, within_id=tree.grids[0].pk
    )
    back = Message.objects.filter(kind="visits.assigned", user=people["worker1"]).order_by("id")
    assert [m.text["params"]["count"] for m in back] == [4, 4]  # the campaign's start, then this batch
    assert not Message.objects.filter(user=people["staff"]).exists()
