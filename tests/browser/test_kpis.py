"""The figures of a subdistrict in a real browser.

A subdistrict operator opens "Figures": the headline cards, the ECharts charts (trend, categories, tiers, channels)
and the Leaflet map of the grids coloured by on-time disposal render on one screen. In the ranking of grids they
click the low on-time disposal rate of the first grid and land on the drill-down listing that grid's cases disposed
late, as many as the figure says.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.tests.factories import new_case, walk
from gongzhi.kpis import services
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def dispose(admin, case, tree, *, late: bool):  # type: ignore[no-untyped-def]
    walk(admin, case, "in_progress", handler_body=tree.department)
    now = timezone.now() + datetime.timedelta(days=60) if late else None
    workflow.perform(actor=admin, case_id=case.pk, action="dispose", note="处置完毕", now=now)
    case.refresh_from_db()
    return case


def test_operator_drills_from_a_grids_low_on_time_rate_to_its_late_cases(  # type: ignore[no-untyped-def]
    live_server, make_page, login, results_dir
):
    tree = build_tree()
    admin = user_with_role(Role.ADMIN)
    operator = user_with_role(
        Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office, display_name="街道中心"
    )
    late = [dispose(admin, new_case(admin, tree.buildings[0], title=f"迟办{i}"), tree, late=True) for i in range(2)]
    dispose(admin, new_case(admin, tree.buildings[0], title="按期办结"), tree, late=False)
    dispose(admin, new_case(admin, tree.buildings[2], title="另一社区按期"), tree, late=False)
    new_case(admin, tree.buildings[1], title="待受理")
    services.refresh_rollup(full=True)

    page = make_page()
    login(page, operator)
    page.click("#nav-kpis")
    page.wait_for_url(f"{live_server.url}/kpis/")
    assert page.inner_text("#kpi-title").startswith(tree.subdistrict.name)
    assert page.inner_text("#card-intake") == "5"
    assert page.inner_text("#card-ontime_disposal") == "50.0%"

    # ECharts drew every chart (a canvas inside each container), Leaflet the four grids as SVG paths.
    for chart in ("#chart-trend", "#chart-category", "#chart-tier", "#chart-channel"):
        page.wait_for_selector(f"{chart} canvas, {chart} svg", state="attached")
    page.wait_for_selector('#kpi-map[data-loaded="true"]')
    paths = page.locator("#kpi-map path.kpi-grid")
    assert paths.count() == 4
    assert page.get_attribute(f'#kpi-map path[data-grid-code="{tree.grids[0].code}"]', "data-value") == "33.3%"
    assert page.locator("#kpi-map-legend").is_visible()
    page.screenshot(path=str(results_dir / "kpis-1-dashboard.png"), full_page=True)

    # The map recolours by another figure without a reload.
    page.select_option("#map-kpi", "intake")
    assert page.get_attribute(f'#kpi-map path[data-grid-code="{tree.grids[0].code}"]', "data-value") == "3"

    # The ranking of grids: grid 1 has on-time disposal 1 of 3.
    page.click("#rank-grids-title")
    cell = page.locator(f'#rank-grids tr[data-code="{tree.grids[0].code}"] td[data-kpi="ontime_disposal"] a')
    assert cell.inner_text() == "33.3%"
    cell.click()
    page.wait_for_url(re.compile(r"/kpis/cases/\?"))
    assert "kpi=ontime_disposal" in page.url and "part=gap" in page.url
    assert page.inner_text("#drill-place") == tree.grids[0].name
    listed = {int(i) for i in page.locator("#drill-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.caseId)")}
    assert listed == {c.pk for c in late}
    assert page.get_attribute("#drill-count", "data-count") == "2"
    assert "2" in page.inner_text("#tab-gap")
    page.screenshot(path=str(results_dir / "kpis-2-drill.png"), full_page=True)
    assert page.gongzhi_errors == []
