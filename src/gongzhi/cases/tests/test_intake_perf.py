"""Intake's cost, pinned: how many SQL statements a case with a GPS point takes, and that the short cuts taken for
it (one query for grid + building, no read-back for the 201 body) answer exactly as the long way did."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import User
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import services, tracking
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import category
from gongzhi.core.models import AuditLog
from gongzhi.territory import geo

pytestmark = pytest.mark.django_db

# report_case with a point, the grid index already built (as in a running web worker), for a user whose scope is
# not loaded yet: category, grid + nearest building + index key (one query), INSERT case, UPDATE its number (on
# PostgreSQL instead a SELECT of the id from the sequence before the INSERT), INSERT first event, INSERT audit record. The test database wraps each test in a transaction, so report_case's
# own transaction adds a SAVEPOINT and its RELEASE; who is told of the new case (cases.notify.plan: the desk's staff,
# one query — none here, so messaging writes nothing); the reporter's grants (their places: is the point outside their
# own ground? Cached on the user: the 201 answer's allowed actions need them anyway). Raise this only with a reason.
REPORT_CASE_STATEMENTS = 10


def _fresh(user: User) -> User:
    """The user as a request loads it: nothing cached."""
    return User.objects.get(pk=user.pk)


def test_report_case_with_a_point_takes_a_fixed_number_of_statements(tree, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    geo.grid_index()  # a running worker has its index
    minor = category("0105")
    actor = _fresh(worker)
    with django_assert_max_num_queries(REPORT_CASE_STATEMENTS):
        case = services.report_case(
            actor=actor, channel="patrol", title="积水", category_id=minor.pk, lat=41.9041, lng=123.4041
        )
    assert case.node == tree.buildings[0]
    # Everything intake must still write is written.
    assert Case.objects.get(pk=case.pk).number == case.number and case.number.endswith(f"{case.pk:07d}")
    assert CaseEvent.objects.filter(case=case, action="report").count() == 1
    assert AuditLog.objects.filter(action="cases.reported", object_id=str(case.pk)).count() == 1


def test_the_statement_count_does_not_grow_with_the_grid(tree, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    """The nearest building is looked up in a box around the point, not by loading every building of the grid."""
    from gongzhi.territory.models import Node
    from gongzhi.territory.tests.factories import child

    grid = tree.grids[0]
    for i in range(40):
        child(grid, "building", 10 + i, f"远处{i}号楼", centroid_lat=41.9001 + 0.0002 * i, centroid_lng=123.4095)
    worker = user_with_role(Role.GRID_WORKER, node=grid)
    geo.grid_index()
    actor, minor = _fresh(worker), category("0105")
    with CaptureQueriesContext(connection) as ctx:
        case = services.report_case(
            actor=actor, channel="patrol", title="积水", category_id=minor.pk, lat=41.9041, lng=123.4041
        )
    assert len(ctx.captured_queries) <= REPORT_CASE_STATEMENTS
    writes = [q["sql"].split()[0] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    if connection.vendor == "postgresql":  # the case's id is drawn first: the row goes in whole, no UPDATE
        assert writes == ["INSERT"] * 3
        assert sum("nextval" in q["sql"] for q in ctx.captured_queries) == 1
    else:
        assert writes == ["INSERT", "UPDATE", "INSERT", "INSERT"]
    assert case.node == tree.buildings[0]
    assert Node.objects.filter(parent=grid, kind="building").count() == 41


def test_create_endpoint_answers_what_the_case_page_shows(tree, api):  # type: ignore[no-untyped-def]
    """The 201 body is built from the case just written, without reading it back: it must equal a fresh read."""
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(worker)
    for point in ({"lat": 41.9041, "lng": 123.4041}, {"lat": 41.9090, "lng": 123.4010}, {"lat": 30.0, "lng": 120.0}):
        payload = {"channel": "patrol", "title": "楼道堆物", "category_id": category("0105").pk, **point}
        created = api.post("/api/v1/cases", payload)
        assert created.status_code == 201, created.content
        body = created.json()
        shown = api.get(f"/api/v1/cases/{body['id']}").json()
        assert body == shown
    fixed = api.post(
        "/api/v1/cases",
        {"channel": "patrol", "title": "小广告", "category_id": category("0105").pk, "lat": 41.9041, "lng": 123.4041,
         "fixed_on_spot_note": "已清理"},
    )  # fmt: skip
    assert fixed.status_code == 201
    assert fixed.json() == api.get(f"/api/v1/cases/{fixed.json()['id']}").json()
    assert fixed.json()["fixed_on_spot"] is True


def test_create_endpoint_statements(tree, api, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    """The whole request: token, the worker's roles, report_case (above), the allowed actions; no read-back."""
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(worker)
    geo.grid_index()
    payload = {
        "channel": "patrol",
        "title": "积水",
        "category_id": category("0105").pk,
        "lat": 41.9041,
        "lng": 123.4041,
    }
    assert api.post("/api/v1/cases", payload).status_code == 201  # the token's first use stamps it (every 5 minutes)
    with django_assert_max_num_queries(REPORT_CASE_STATEMENTS + 3):
        response = api.post("/api/v1/cases", payload)
    assert response.status_code == 201


def test_a_tracking_code_already_taken_is_drawn_again(tree, monkeypatch):  # type: ignore[no-untyped-def]
    """A drawn tracking code that is taken already (all but impossible with 80 bits, but a clash must not be a 500)."""
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    first = services.report_case(actor=worker, channel="patrol", title="积水", category_id=category("0105").pk)
    real = tracking.new_code
    draws = iter([first.tracking_code, first.tracking_code])

    monkeypatch.setattr(tracking, "new_code", lambda: next(draws, None) or real())
    second = services.report_case(
        actor=worker, channel="patrol", title="积水", category_id=category("0105").pk, lat=41.9041, lng=123.4041
    )
    assert second.tracking_code != first.tracking_code and len(second.tracking_code) == 16
    assert Case.objects.filter(title="积水").count() == 2
    assert CaseEvent.objects.filter(case=second).count() == 1
    assert AuditLog.objects.filter(action="cases.reported").count() == 2
