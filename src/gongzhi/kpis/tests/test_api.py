"""The KPI API: definitions, figures (total and by grid), the cases behind a figure, reports; errors in the common
shape."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.tests.factories import new_case, walk
from gongzhi.kpis import measures, selectors, services
from gongzhi.kpis.models import MonthlyReport
from gongzhi.kpis.selectors import KpiQuery

pytestmark = pytest.mark.django_db

OCTOBER = "start=2026-10-01&end=2026-10-31"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    """Five October cases in the first community: its first grid has a closed, a disposed and an open one, its
    second grid a closed and a rejected one."""
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    admin = user_with_role(Role.ADMIN)
    for status, grid, day in (
        ("closed", 0, 3),
        ("disposed", 0, 9),
        ("dispatched", 0, 21),
        ("closed", 1, 14),
        ("rejected", 1, 28),
    ):
        case = new_case(operator, tree.grids[grid], reported_at=timezone.make_aware(datetime(2026, 10, day, 10)))
        walk(admin, case, status, handler_body=tree.department)
    services.refresh_rollup(full=True)
    return operator


def test_definitions(api, operator):  # type: ignore[no-untyped-def]
    body = api.as_user(operator).get("/api/v1/kpis/definitions").json()
    assert [d["key"] for d in body] == list(measures.KPIS)
    ontime = next(d for d in body if d["key"] == "ontime_disposal")
    assert ontime["numerator"] == "disposed_on_time" and ontime["denominator"] == "disposal_due"
    assert ontime["higher_is_better"] is True and ontime["unit"] == "rate"
    assert next(d for d in body if d["key"] == "intake")["denominator"] is None


def test_figures_total_and_by_grid(api, tree, operator):  # type: ignore[no-untyped-def]
    response = api.as_user(operator).get(f"/api/v1/kpis/figures?place={tree.subdistrict.pk}&{OCTOBER}&by=grid")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"]["place"] == {
        "id": tree.subdistrict.pk,
        "name": tree.subdistrict.name,
        "code": tree.subdistrict.code,
    }
    assert (body["query"]["start"], body["query"]["end"]) == ("2026-10-01", "2026-10-31")
    expected = selectors.total(
        user=operator, query=KpiQuery(place=tree.subdistrict, start=date(2026, 10, 1), end=date(2026, 10, 31))
    )
    assert body["total"]["counts"]["intake"] == 5 and body["total"]["counts"]["valid"] == 4
    assert body["total"]["figures"]["closure"] == pytest.approx(expected["closure"]) == pytest.approx(2 / 4)
    assert set(body["total"]["figures"]) >= set(measures.KPIS) | {"score", "cycle_hours_median"}
    rows = {r["code"]: r for r in body["rows"]}
    assert set(rows) == {tree.grids[0].code, tree.grids[1].code}
    assert rows[tree.grids[0].code]["counts"]["intake"] == 3 and rows[tree.grids[0].code]["label"] == tree.grids[0].name
    assert rows[tree.grids[1].code]["figures"]["closure"] == 1.0
    assert rows[tree.grids[0].code]["key"] == tree.grids[0].code
    # without "by": no rows
    assert api.get(f"/api/v1/kpis/figures?place={tree.subdistrict.pk}&{OCTOBER}").json()["rows"] == []


def test_cases_count_equals_the_figure(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    totals = api.get(f"/api/v1/kpis/figures?place={tree.subdistrict.pk}&{OCTOBER}").json()["total"]["counts"]
    for kpi, part, count in (("closure", "num", "closed"), ("closure", "den", "valid"), ("intake", "num", "intake")):
        body = api.get(f"/api/v1/kpis/cases?kpi={kpi}&part={part}&place={tree.subdistrict.pk}&{OCTOBER}").json()
        assert body["count"] == totals[count], (kpi, part)
    gap = api.get(f"/api/v1/kpis/cases?kpi=closure&part=gap&place={tree.subdistrict.pk}&{OCTOBER}").json()
    assert gap["count"] == totals["valid"] - totals["closed"] == 2
    item = gap["items"][0]
    assert set(item) >= {"id", "number", "title", "status", "category", "place", "reported_at", "is_overdue"}
    assert {i["status"] for i in gap["items"]} == {"disposed", "dispatched"}


def test_out_of_scope_place_is_404(api, tree, other_tree, operator):  # type: ignore[no-untyped-def]
    response = api.as_user(operator).get(f"/api/v1/kpis/figures?place={other_tree.subdistrict.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/kpis/cases?kpi=intake&place={other_tree.subdistrict.pk}").status_code == 404


def test_bad_date_is_400_naming_the_field(api, tree, operator):  # type: ignore[no-untyped-def]
    response = api.as_user(operator).get(f"/api/v1/kpis/figures?place={tree.subdistrict.pk}&start=2026-13-01")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and error["details"][0]["field"] == "start"
    bad_by = api.get(f"/api/v1/kpis/figures?place={tree.subdistrict.pk}&by=colour").json()["error"]
    assert bad_by["details"][0]["field"] == "by"
    bad_kpi = api.get(f"/api/v1/kpis/cases?kpi=speed&place={tree.subdistrict.pk}").json()["error"]
    assert bad_kpi["details"][0]["field"] == "kpi"


def test_reports_post_list_download(api, tree, other_tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = api.post("/api/v1/kpis/reports", {"place_id": tree.communities[0].pk, "month": "2026-10"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["month"] == "2026-10" and body["place"]["id"] == tree.communities[0].pk and body["intake"] == 5
    row = MonthlyReport.objects.get()
    assert body["id"] == row.pk and row.created_by == operator and body["generated_by_task"] is False
    listed = api.get("/api/v1/kpis/reports").json()
    assert listed["count"] == 1 and listed["items"][0]["download_url"] == f"/api/v1/kpis/reports/{row.pk}/download"
    download = api.get(body["download_url"])
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(download.streaming_content)[:2] == b"PK"
    # a bad month names the field; a place out of scope is 404
    bad = api.post("/api/v1/kpis/reports", {"place_id": tree.communities[0].pk, "month": "10/2026"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "month"
    away = api.post("/api/v1/kpis/reports", {"place_id": other_tree.subdistrict.pk, "month": "2026-10"})
    assert away.status_code == 404 and away.json()["error"]["code"] == "not_found"


def test_reports_post_forbidden_for_a_grid_worker(api, tree, operator):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    response = api.as_user(worker).post("/api/v1/kpis/reports", {"place_id": tree.grids[0].pk, "month": "2026-10"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert not MonthlyReport.objects.exists()


def test_anywhere_counts_every_case_in_scope_and_its_cases_match(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    grid = tree.grids[1]
    under = api.get(f"/api/v1/kpis/figures?place={grid.pk}&{OCTOBER}").json()
    everywhere = api.get(f"/api/v1/kpis/figures?place={grid.pk}&{OCTOBER}&anywhere=1").json()
    assert under["query"]["anywhere"] is False and everywhere["query"]["anywhere"] is True
    assert under["total"]["counts"]["intake"] == 2 and everywhere["total"]["counts"]["intake"] == 5
    assert everywhere["source"] == "cases"
    drilled = api.get(f"/api/v1/kpis/cases?kpi=intake&place={grid.pk}&{OCTOBER}&anywhere=true").json()
    assert drilled["count"] == 5
    bad = api.get(f"/api/v1/kpis/figures?place={grid.pk}&anywhere=maybe")
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "anywhere"
