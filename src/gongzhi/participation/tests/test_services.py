"""The lifecycle of the three lists through the services and the API: a unit publishes a resource, the community
lists a need, the system suggests, a unit claims it (one of two claimants wins: a clear 409 for the other), it becomes
a project with progress, it completes, the community confirms it and the need closes."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Message
from gongzhi.participation import selectors, services
from gongzhi.participation.models import Match, Need, Project, Resource
from gongzhi.participation.tests import factories as f
from gongzhi.registry.models import CoBuildingAgreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def units(tree):  # type: ignore[no-untyped-def]
    a = f.unit(tree.communities[0], "北街卫生服务中心", kind="hospital")
    b = f.unit(tree.communities[0], "北街第一小学", kind="school")
    return (a, f.unit_user(a)), (b, f.unit_user(b))


def _need(staff, tree, **kw):  # type: ignore[no-untyped-def]
    return services.create_need(
        actor=staff,
        title=kw.get("title", "独居老人需要上门陪诊"),
        category_id=f.category(kw.get("cat", "elderly")).pk,
        place_id=tree.grids[0].pk,
        description="高龄独居老人行动不便",
        beneficiary_count=kw.get("count", 4),
        slots=["weekends"],
        source="visit",
    )


def test_the_beijie_story(tree, staff, units):  # type: ignore[no-untyped-def]
    (hospital, hospital_user), _ = units
    CoBuildingAgreement.objects.create(
        unit=hospital, partner=tree.communities[0], title="医社共建协议", signed_on="2026-01-01", starts="2026-01-01"
    )
    res = services.create_resource(
        actor=hospital_user, unit_id=hospital.pk, title="家庭医生上门服务", kind="services",
        category_id=f.category("elderly").pk, place_id=tree.grids[0].pk, capacity=10, slots=["weekends"],
        description="上门量血压、陪诊",
    )  # fmt: skip
    assert res.agreement is not None and res.contact_phone == hospital.contact_phone
    need = _need(staff, tree)
    assert need.place_code == tree.grids[0].code and need.status == "open"
    suggestions = selectors.need_suggestions(user=staff, need=need)
    assert suggestions[0].resource == res
    # the unit sees the need on its ground and claims it with its resource
    assert Need.objects.restrict(hospital_user, "view").filter(pk=need.pk).exists()
    project = services.claim_need(actor=hospital_user, need_id=need.pk, resource_id=res.pk)
    need.refresh_from_db()
    res.refresh_from_db()
    assert need.status == "matched" and need.unit == hospital
    assert res.capacity_left == 6
    assert project.state == "planned" and project.agreement is not None
    assert project.milestones.count() == 3
    assert Message.objects.filter(user=staff, kind="participation.claimed").exists()
    match = Match.objects.get(need=need)
    assert match.state == "claimed" and match.reasons  # why it fitted, kept
    # progress, then completion
    services.report_progress(
        actor=hospital_user, project_id=project.pk, progress=40, hours=6, funds=200, people_served=2
    )
    project.refresh_from_db()
    assert (project.state, project.progress, project.hours, project.people_served) == (
        "in_progress",
        40,
        Decimal("6.0"),
        2,
    )
    with pytest.raises(ValidationFailed):
        services.report_progress(actor=hospital_user, project_id=project.pk, progress=20)
    with pytest.raises(Forbidden):  # a unit does not confirm its own work
        services.accept_project(actor=hospital_user, project_id=project.pk, surveyed=4, satisfied=4)
    services.report_progress(actor=hospital_user, project_id=project.pk, progress=100, hours=4, people_served=2)
    project.refresh_from_db()
    assert project.state == "completed" and not project.milestones.filter(done_at__isnull=True).exists()
    assert Message.objects.filter(user=staff, kind="participation.completed").exists()
    services.accept_project(actor=staff, project_id=project.pk, surveyed=4, satisfied=3)
    project.refresh_from_db()
    need.refresh_from_db()
    assert project.state == "accepted" and project.satisfaction == 75.0
    assert need.status == "closed" and need.closed_at is not None
    assert Message.objects.filter(user=hospital_user, kind="participation.accepted").exists()
    assert selectors.done_counts() == {(hospital.pk, need.category_id): 1}
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"participation.need_created", "participation.need_claimed", "participation.project_accepted"} <= actions
    c = selectors.contribution(user=hospital_user, unit=hospital, year=project.created_at.year)
    assert (c.projects, c.hours, c.funds, c.people_served) == (1, Decimal("10.0"), Decimal("200.00"), 4)


def test_second_claim_is_a_clear_conflict(tree, staff, units, api):  # type: ignore[no-untyped-def]
    (a, a_user), (b, b_user) = units
    need = _need(staff, tree)
    api.as_user(a_user)
    first = api.post(f"/api/v1/participation/needs/{need.pk}/claim", {})
    assert first.status_code == 201, first.content
    api.as_user(b_user)
    second = api.post(f"/api/v1/participation/needs/{need.pk}/claim", {})
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "conflict" and a.name in error["message"]
    assert isinstance(error["details"], list)
    assert Match.objects.filter(need=need).count() == 1
    # staff cannot confirm another resource for it either
    res = f.resource(b, tree.grids[0], "助老服务", "elderly")
    with pytest.raises(Conflict):
        services.confirm_match(actor=staff, need_id=need.pk, resource_id=res.pk)


def test_the_database_refuses_a_second_active_match(tree, staff, units):  # type: ignore[no-untyped-def]
    """Even past the status check (two transactions at once), the partial unique index lets only one in."""
    (a, _), (b, _) = units
    need = f.need(tree.grids[0], "课后辅导", "children")
    Match.objects.create(need=need, unit=a, state="claimed")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(need=need, unit=b, state="confirmed")
    Match.objects.create(need=need, unit=b, state="withdrawn")  # a withdrawn one does not hold the need


@pytest.mark.django_db(transaction=True)
def test_claim_race_threads(tree, units):  # type: ignore[no-untyped-def]
    """Two units press "claim" at the same moment: exactly one project, the other a Conflict."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite's test database is one connection)")
    (_a, a_user), (_b, b_user) = units
    need = f.need(tree.grids[0], "独居老人助餐", "elderly")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def claim(name: str, user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            results[name] = services.claim_need(actor=user, need_id=need.pk)
        except Exception as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n, u)) for n, u in (("a", a_user), ("b", b_user))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(type(r).__name__ for r in results.values())
    assert kinds == ["Conflict", "Project"], results
    assert Project.objects.filter(need=need).count() == 1


def test_no_capacity_left_cannot_be_matched(tree, staff, units):  # type: ignore[no-untyped-def]
    (a, _), _ = units
    res = f.resource(a, tree.grids[0], "助老", "elderly", capacity=5, left=0)
    need = _need(staff, tree)
    with pytest.raises(Conflict):
        services.confirm_match(actor=staff, need_id=need.pk, resource_id=res.pk)
    assert Need.objects.get(pk=need.pk).status == "open"


def test_staff_confirm_tells_the_unit(tree, staff, units):  # type: ignore[no-untyped-def]
    (a, a_user), _ = units
    res = f.resource(a, tree.grids[0], "助老", "elderly", capacity=2)
    need = _need(staff, tree, count=4)
    project = services.confirm_match(actor=staff, need_id=need.pk, resource_id=res.pk)
    assert project.unit == a and project.match.state == "confirmed"
    assert Resource.objects.get(pk=res.pk).capacity_left == 0
    assert Message.objects.filter(user=a_user, kind="participation.matched").exists()
    with pytest.raises(Forbidden):  # a unit does not confirm matches
        services.confirm_match(actor=a_user, need_id=need.pk, resource_id=res.pk)


def test_a_case_becomes_a_need(tree, staff):  # type: ignore[no-untyped-def]
    from gongzhi.cases.tests.factories import new_case

    case = new_case(staff, tree.households[0], channel="resident", title="楼里老人想要助餐服务")
    need = services.need_from_case(actor=staff, case_id=case.pk, category_id=f.category("elderly").pk)
    assert need.source == "case" and need.source_case_id == case.pk
    assert need.place == tree.buildings[0] and need.title == case.title
    with pytest.raises(Conflict):
        services.need_from_case(actor=staff, case_id=case.pk, category_id=f.category("elderly").pk)


def test_unit_sees_only_its_ground(tree, other_tree, units):  # type: ignore[no-untyped-def]
    (a, a_user), _ = units
    here = f.need(tree.grids[0], "这里的需求", "culture")
    there = f.need(other_tree.grids[0], "别处的需求", "culture")
    visible = set(Need.objects.restrict(a_user, "view").values_list("pk", flat=True))
    assert here.pk in visible and there.pk not in visible
    # an agreement with the other community extends the unit's ground to it
    CoBuildingAgreement.objects.create(
        unit=a, partner=other_tree.communities[0], title="共建", signed_on="2026-01-01", starts="2026-01-01"
    )
    assert Need.objects.restrict(a_user, "view").filter(pk=there.pk).exists()


def test_api_lists_and_errors(tree, staff, units, api):  # type: ignore[no-untyped-def]
    (a, _a_user), _ = units
    api.as_user(staff)
    bad = api.post("/api/v1/participation/needs", {"title": "", "category_id": 999999, "place_id": tree.grids[0].pk})
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["error"]["details"]} >= {"title", "category_id"}
    made = api.post(
        "/api/v1/participation/needs",
        {
            "title": "孩子放学无人看管",
            "category_id": f.category("children").pk,
            "place_id": tree.grids[0].pk,
            "slots": ["weekdays"],
        },
    )
    assert made.status_code == 201, made.content
    res = f.resource(a, tree.grids[0], "四点半课堂", "children", slots=["weekdays"], contact_phone="13955556666")
    body = api.get(f"/api/v1/participation/resources/{res.pk}").content.decode()
    assert "13955556666" not in body and "139****6666" in body
    sug = api.get(f"/api/v1/participation/needs/{made.json()['id']}/suggestions").json()
    assert sug[0]["resource_id"] == res.pk and sug[0]["reasons"]
    assert api.get("/api/v1/participation/needs").json()["count"] == 1
