"""The KPI pages: the dashboard, the drill-down behind a figure, the map's data, the big screen and "my performance"."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import new_case, walk
from gongzhi.kpis import services, views

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return user_with_role(Role.ADMIN)


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


def dispose(admin: Any, case: Case, *, late: bool, tree: Any) -> Case:
    """Take a case to "disposed", on time or after its disposal deadline ran out (the workflow notices it)."""
    walk(admin, case, "in_progress", handler_body=tree.department)
    now = timezone.now() + datetime.timedelta(days=60) if late else None
    workflow.perform(actor=admin, case_id=case.pk, action="dispose", note="处置完毕", now=now)
    case.refresh_from_db()
    assert case.disposal_late is late
    return case


@pytest.fixture
def cases(tree, admin):  # type: ignore[no-untyped-def]
    """Grid 1: two cases disposed late, one on time; grid 3: one on time; plus one open case in grid 2."""
    g1, g3 = tree.buildings[0], tree.buildings[2]
    late = [dispose(admin, new_case(admin, g1, title=f"迟办{i}"), late=True, tree=tree) for i in range(2)]
    on_time = [
        dispose(admin, new_case(admin, g1, title="按期1"), late=False, tree=tree),
        dispose(admin, new_case(admin, g3, title="按期3"), late=False, tree=tree),
    ]
    pending = new_case(admin, tree.buildings[1], title="待受理")
    services.refresh_rollup(full=True)
    return {"late": late, "on_time": on_time, "pending": pending}


def html(response: Any) -> str:
    return response.content.decode()


def test_dashboard_renders_the_figures_of_the_subdistrict(client, tree, operator, cases):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    response = client.get(reverse("kpis-dashboard"))
    assert response.status_code == 200
    page = html(response)
    assert 'lang="zh-hans"' in page and "按期处置率" in page and "受理量" in page
    assert tree.subdistrict.name in page
    # Intake 5; on-time disposal = 2 on time of 4 due.
    assert re.search(r'id="card-intake">5<', page)
    assert re.search(r'id="card-ontime_disposal">50\.0%<', page)
    assert '<span class="kpi-num">2</span> / <span class="kpi-den">4</span>' in page
    # The card links to the cases pulling it down.
    card = re.search(r'href="([^"]+)" id="card-ontime_disposal"', page)
    assert card and "kpi=ontime_disposal" in card.group(1) and "part=gap" in card.group(1)
    # Communities ranked (the place is the subdistrict), every grid too, data for the charts, links out.
    assert 'id="rank-table"' in page and tree.communities[0].name in page
    assert 'id="rank-grids"' in page and tree.grids[0].name in page
    data = json.loads(re.search(r'<script id="kpi-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert sum(data["trend"]["intake"]) == 5
    assert data["tier"] and data["category"] and data["channel"][0]["value"] == 5
    assert reverse("kpis-screen") in page and reverse("kpis-report-month") in page
    assert "echarts.min.js" in page and 'id="kpi-map"' in page
    # The handling bodies' ranking comes as a fragment when scrolled to.
    assert "fragment=bodies" in page
    fragment = html(client.get(reverse("kpis-dashboard"), {"fragment": "bodies"}, HTTP_HX_REQUEST="true"))
    assert 'id="rank-bodies"' in fragment and tree.department.name in fragment and "<html" not in fragment


def test_dashboard_rank_table_of_a_community_lists_its_grids(client, tree, cases):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    client.force_login(staff)
    page = html(client.get(reverse("kpis-dashboard")))
    table = page[page.index('id="rank-table"') : page.index("</table>", page.index('id="rank-table"'))]
    assert tree.grids[0].name in table and tree.grids[1].name in table
    assert tree.grids[2].name not in table, "another community's grid"
    # Grid 1: on-time disposal 1 of 3; its cell links to that grid's late cases.
    row = table[table.index(f'data-code="{tree.grids[0].code}"') :]
    cell = re.search(r'data-kpi="ontime_disposal"><a class="kpi-link" href="([^"]+)"[^>]*>33\.3%<', row)
    assert cell, row[:800]
    assert f"place={tree.grids[0].pk}" in cell.group(1).replace("&amp;", "&")


def test_community_staff_gets_404_for_another_community(client, tree, cases):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    client.force_login(staff)
    other = tree.communities[1].pk
    assert client.get(reverse("kpis-dashboard"), {"place": other}).status_code == 404
    assert client.get(reverse("kpis-drill"), {"place": other, "kpi": "intake"}).status_code == 404
    assert client.get(reverse("kpis-map-data"), {"place": other}).status_code == 404
    assert client.get(reverse("kpis-dashboard"), {"place": tree.communities[0].pk}).status_code == 200


def test_bad_parameters_are_a_400_page(client, operator, cases):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    response = client.get(reverse("kpis-dashboard"), {"start": "2025-13-01"})
    assert response.status_code == 400 and "start" in html(response)
    assert client.get(reverse("kpis-drill"), {"kpi": "nonsense"}).status_code == 400
    assert client.get(reverse("kpis-drill"), {"kpi": "intake", "part": "gap"}).status_code == 400


def test_drill_lists_exactly_the_late_cases_and_the_count_matches(client, tree, operator, cases):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    params = {"kpi": "ontime_disposal", "part": "gap", "place": tree.grids[0].pk}
    response = client.get(reverse("kpis-drill"), params)
    assert response.status_code == 200
    page = html(response)
    listed = {int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', page)}
    assert listed == {c.pk for c in cases["late"]}
    assert 'data-count="2"' in page
    # numerator 1 disposed on time, denominator 3 due; the gap tab counts 2.
    assert 'id="drill-num">1<' in page and 'id="drill-den">3<' in page
    assert re.search(r'id="tab-gap"[^>]*>[^<]*<span class="badge">2</span>', page)
    assert "33.3%" in page and "按期处置率" in page
    for c in cases["late"]:
        assert reverse("cases-detail", args=[c.pk]) in page
    # The numerator: only the on-time case of grid 1.
    page = html(client.get(reverse("kpis-drill"), {**params, "part": "num"}))
    assert {int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', page)} == {cases["on_time"][0].pk}


def test_drill_paginates_fifty_a_page(client, tree, operator, admin):  # type: ignore[no-untyped-def]
    for i in range(views.DRILL_PAGE_SIZE + 3):
        new_case(admin, tree.buildings[0], title=f"批量{i}")
    client.force_login(operator)
    page = html(client.get(reverse("kpis-drill"), {"kpi": "intake"}))
    assert len(re.findall(r"<tr data-case-id=", page)) == views.DRILL_PAGE_SIZE
    assert f'data-count="{views.DRILL_PAGE_SIZE + 3}"' in page
    page = html(client.get(reverse("kpis-drill"), {"kpi": "intake", "page": 2}))
    assert len(re.findall(r"<tr data-case-id=", page)) == 3


def test_map_data_has_a_feature_per_grid_with_figures(client, tree, operator, cases):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    response = client.get(reverse("kpis-map-data"))
    assert response.status_code == 200
    collection = response.json()
    by_code = {f["properties"]["code"]: f["properties"] for f in collection["features"]}
    assert set(by_code) == {g.code for g in tree.grids}
    g1 = by_code[tree.grids[0].code]
    assert g1["figures"]["intake"] == 3
    assert g1["figures"]["ontime_disposal"] == pytest.approx(1 / 3)
    assert g1["shown"]["ontime_disposal"] == "33.3%"
    assert f"place={tree.grids[0].pk}" in g1["query"]
    assert by_code[tree.grids[1].code]["figures"]["intake"] == 1
    assert by_code[tree.grids[3].code]["figures"]["intake"] == 0
    assert by_code[tree.grids[3].code]["figures"]["ontime_disposal"] is None
    # Within a community: only its grids.
    collection = client.get(reverse("kpis-map-data"), {"place": tree.communities[1].pk}).json()
    assert {f["properties"]["code"] for f in collection["features"]} == {tree.grids[2].code, tree.grids[3].code}


def test_screen_and_its_data(client, tree, operator, cases):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    page = html(client.get(reverse("kpis-screen")))
    assert 'class="kpi-screen"' in page and 'class="mainnav"' not in page
    assert reverse("kpis-screen-data") in page and "screen.js" in page
    data = client.get(reverse("kpis-screen-data")).json()
    headline = {h["key"]: h for h in data["headline"]}
    assert headline["intake"]["display"] == "5"
    assert headline["ontime_disposal"]["display"] == "50.0%"
    assert sum(data["trend"]["intake"]) == 5
    assert data["top"][0]["name"] == tree.grids[2].name  # all on time
    assert float(data["top"][0]["score"]) > float(data["bottom"][0]["score"])
    assert data["as_of"]


def test_pages_need_a_login(client, cases):  # type: ignore[no-untyped-def]
    for name in ("kpis-dashboard", "kpis-map-data", "kpis-screen", "kpis-screen-data", "kpis-drill", "kpis-me"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_me_shows_my_disposed_and_reported_cases(client, tree, admin):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    reported = new_case(worker, tree.buildings[0], title="我上报的")
    workflow.perform(actor=admin, case_id=reported.pk, action="accept", note="受理")
    payload = {"handler_node_id": tree.grids[0].pk}
    workflow.perform(actor=admin, case_id=reported.pk, action="dispatch", note="派给网格", payload=payload)
    # The worker handles it in their grid and reports it done: they are its disposer.
    for action in ("acknowledge", "start", "dispose"):
        workflow.perform(actor=worker, case_id=reported.pk, action=action, note="处理")
    reported.refresh_from_db()
    assert reported.disposed_by_id == worker.pk
    new_case(worker, tree.buildings[0], title="第二件")
    client.force_login(worker)
    response = client.get(reverse("kpis-me"))
    assert response.status_code == 200
    page = html(response)
    assert "我的绩效" in page or "My performance" in page
    assert re.search(r'id="me-reported">2<', page)
    link = re.search(r'href="([^"]+)" id="me-intake">1<', page)
    assert link, "the disposed count links to its cases"
    url = link.group(1).replace("&amp;", "&")
    assert f"worker={worker.pk}" in url
    drilled = html(client.get(url))
    assert {int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', drilled)} == {reported.pk}
    assert 'id="chart-me"' in page and 'id="kpi-me-data"' in page


def test_formatting() -> None:
    assert views.fmt_value("ontime_disposal", 0.5) == "50.0%"
    assert views.fmt_value("ontime_disposal", None) == "—"
    assert views.fmt_value("intake", 12) == "12"
    assert views.fmt_hours(None) == "—"
    assert "5.0" in views.fmt_hours(5) and "2.0" in views.fmt_hours(48)


def test_me_counts_equal_their_lists_when_i_handled_a_case_placed_elsewhere(client, tree, admin):  # type: ignore[no-untyped-def]
    """A case placed in the next grid but dispatched to mine, which I dispose: in my scope (I handle it), and both
    my card and the list behind it count it — every figure opens to exactly its cases."""
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    mine = new_case(admin, tree.buildings[0], title="本网格")
    elsewhere = new_case(admin, tree.buildings[1], title="邻网格派给我")
    for case in (mine, elsewhere):
        workflow.perform(actor=admin, case_id=case.pk, action="accept", note="受理")
        payload = {"handler_node_id": tree.grids[0].pk}
        workflow.perform(actor=admin, case_id=case.pk, action="dispatch", note="派给网格", payload=payload)
        for action in ("acknowledge", "start", "dispose"):
            workflow.perform(actor=worker, case_id=case.pk, action=action, note="处理")
    assert set(Case.objects.filter(disposed_by=worker).values_list("pk", flat=True)) == {mine.pk, elsewhere.pk}
    client.force_login(worker)
    page = html(client.get(reverse("kpis-me")))
    link = re.search(r'href="([^"]+)" id="me-intake">(\d+)<', page)
    assert link, "the disposed count links to its cases"
    drilled = html(client.get(link.group(1).replace("&amp;", "&")))
    listed = {int(i) for i in re.findall(r'<tr data-case-id="(\d+)"', drilled)}
    assert listed == {mine.pk, elsewhere.pk}
    assert int(link.group(2)) == len(listed)
    assert reverse("kpis-me") in drilled, "the list leads back to my page"
