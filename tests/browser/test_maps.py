"""Maps in a real browser (docs/maps.md), desktop and a 360 px phone: with no base map configured the maps say so;
the report map names the building, grid and community a picked point will be filed under, and offers the
buildings nearby when that match is wrong; the grid worker's map shows their buildings and their open cases."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.tests.factories import new_case
from gongzhi.territory.tests.factories import build_tree, child

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click_at(page, selector: str, lat: float, lng: float) -> None:  # type: ignore[no-untyped-def]
    """A real click on the map where a WGS-84 point is drawn."""
    x, y = page.evaluate(
        """([sel, lat, lng]) => {
             const el = document.querySelector(sel), gz = el.gzMap, r = el.getBoundingClientRect();
             const p = gz.map.latLngToContainerPoint(gz.toMap(lat, lng));
             return [r.left + p.x, r.top + p.y];
           }""",
        [selector, lat, lng],
    )
    page.mouse.click(x, y)


@pytest.mark.parametrize("width", [1366, 360])
def test_pick_on_the_report_map_names_where_it_is_filed(live_server, make_page, login, results_dir, width):
    tree = build_tree()
    grid = tree.grids[0]
    b3 = child(grid, "building", 3, "金禾家苑3号楼", centroid_lat=41.9050, centroid_lng=123.4050)
    b11 = child(grid, "building", 11, "金禾家苑11号楼", centroid_lat=41.9052, centroid_lng=123.4056)
    worker = user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME, display_name="王专职")

    page = make_page(width=width, height=800)
    login(page, worker)
    page.goto(f"{live_server.url}/cases/new/")
    # The boundaries and the buildings load apart: wait for both.
    page.wait_for_selector('#pick-map[data-loaded="true"][data-building-count]')
    # No key in the tests: the map says there is no base map, in Chinese.
    assert "未配置底图" in page.inner_text("#pick-map-no-base-map")
    assert page.get_attribute("#pick-map", "data-building-count") == "3"

    page.locator("#pick-map").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#pick-map').gzMap.map.setView([41.9051, 123.4053], 18, {animate: false})")
    click_at(page, "#pick-map", 41.90521, 123.40555)
    page.wait_for_selector('#place-match[data-state="done"]')
    assert abs(float(page.input_value("#id_lat")) - 41.90521) < 1e-4
    assert page.inner_text("#match-building") == b11.name
    assert page.inner_text("#match-grid") == grid.name
    assert page.inner_text("#match-community") == tree.communities[0].name

    # Meant for 3号楼: pick it from the buildings nearby; it is what the form sends.
    assert page.locator("#match-pick").is_visible()
    assert "金禾家苑3号楼（" in page.inner_text("#match-choice") and " 米，" in page.inner_text("#match-choice")
    page.select_option("#match-choice", str(b3.pk))
    assert page.input_value("#id_building") == str(b3.pk)
    assert page.inner_text("#match-building") == b3.name
    assert "您选择了这栋楼" in page.inner_text("#match-note")
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(results_dir / f"report-map-{width}.png"), full_page=True)

    # Moving the point forgets the building chosen for the old one.
    click_at(page, "#pick-map", 41.90502, 123.40502)
    page.wait_for_function(
        "() => document.querySelector('#match-building').textContent === '金禾家苑3号楼'"
        " && document.querySelector('#id_building').value === ''"
    )
    assert page.gongzhi_errors == []


@pytest.mark.parametrize("width", [1366, 360])
def test_grid_workers_map_shows_their_buildings_and_open_cases(
    live_server, make_page, login, results_dir, width, monkeypatch
):
    tree = build_tree()
    grid = tree.grids[0]
    child(grid, "building", 3, "金禾家苑3号楼", centroid_lat=41.9050, centroid_lng=123.4050)
    admin = user_with_role(Role.ADMIN)
    new_case(admin, tree.buildings[0], lat=41.9042, lng=123.4043, urgency="A")
    new_case(admin, tree.buildings[0], title="楼道堆物")
    new_case(admin, tree.grids[1], title="别的网格")  # not the worker's
    worker = user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME)

    page = make_page(width=width, height=800)
    login(page, worker)
    page.goto(f"{live_server.url}/territory/")
    page.wait_for_selector('#map[data-loaded="true"][data-case-count][data-all-building-count]')
    assert page.get_attribute("#map", "data-all-building-count") == "2"
    assert page.get_attribute("#map", "data-case-count") == "2"
    assert page.get_attribute("#map", "data-base-mode") == "wgs84"
    # More open cases than a map takes: the most urgent are drawn, and the map says so.
    monkeypatch.setattr("gongzhi.cases.selectors.MAX_MAP_CASES", 1)
    page.reload()
    page.wait_for_selector('#map[data-loaded="true"][data-case-count]')
    assert page.get_attribute("#map", "data-case-count") == "1"
    page.wait_for_function(
        "() => document.querySelector('#map-status').textContent.includes('最紧急的 1 件（共 2 件）')"
    )
    monkeypatch.undo()
    assert "未配置底图" in page.inner_text("#map-no-base-map")
    # Pins or their cluster are on the map.
    assert page.locator(".leaflet-marker-pane .gz-pin, .leaflet-marker-pane .gz-cluster-cases").count() >= 1
    page.screenshot(path=str(results_dir / f"territory-map-cases-{width}.png"))
    assert page.gongzhi_errors == []

    # The building's own page: a map of its grid with the building picked out and the grid's open cases.
    page.goto(f"{live_server.url}/territory/nodes/{tree.buildings[0].pk}/")
    page.wait_for_selector('#node-map[data-loaded="true"]')
    assert page.get_attribute("#node-map", "data-building-count") == "2"
    assert page.get_attribute("#node-map", "data-case-count") == "2"
    assert page.locator("#node-map .gz-building.is-focus").count() == 1
    assert "未配置底图" in page.inner_text("#node-map-no-base-map")
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(results_dir / f"node-map-{width}.png"), full_page=True)
    assert page.gongzhi_errors == []


def test_amap_layer_draws_in_gcj02_and_picks_in_wgs84(live_server, make_page, login, settings):
    """With 天地图 and AMap configured, switching to AMap moves what is drawn to GCJ-02 and a point picked on it is
    written to the form in WGS-84 (the tiles themselves are not fetched here: no network)."""
    settings.GONGZHI_TIANDITU_KEY = "test-key"
    settings.GONGZHI_AMAP_TILES = True
    tree = build_tree()
    grid = tree.grids[0]
    b11 = child(grid, "building", 11, "金禾家苑11号楼", centroid_lat=41.9052, centroid_lng=123.4056)
    worker = user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME)

    page = make_page()
    # The tile servers are out of reach (and out of the test server's CSP list): answer every tile with nothing.
    page.route("https://**/*", lambda route: route.fulfill(status=204, body=""))
    login(page, worker)
    page.goto(f"{live_server.url}/cases/new/")
    page.wait_for_selector('#pick-map[data-loaded="true"]')
    assert page.get_attribute("#pick-map", "data-base-layer") == "tianditu-vec"
    assert page.locator("#pick-map-no-base-map").count() == 0
    # 天地图 tiles: vector and its annotation layer, asked for with the site's origin as referrer (its key check).
    page.wait_for_selector("#pick-map img.leaflet-tile", state="attached")
    srcs = page.locator("#pick-map img.leaflet-tile").evaluate_all(
        "els => els.map(e => e.src + ' ' + e.referrerPolicy)"
    )
    assert any("T=vec_w" in s for s in srcs) and any("T=cva_w" in s for s in srcs)
    assert all(s.endswith(" strict-origin") and "tk=test-key" in s for s in srcs)
    page.locator("#pick-map").scroll_into_view_if_needed()
    page.hover("#pick-map .leaflet-control-layers")
    labels = page.locator("#pick-map .leaflet-control-layers-base label").all_inner_texts()
    assert [t.strip() for t in labels] == ["天地图 矢量", "天地图 影像", "高德地图", "高德影像"]
    page.locator("#pick-map .leaflet-control-layers-base label", has_text="高德地图").click()
    page.wait_for_selector('#pick-map[data-base-mode="gcj02"]')

    # The building is drawn where AMap has it: ~hundreds of metres from its WGS-84 numbers.
    shown = page.evaluate(
        """() => { const gz = document.querySelector('#pick-map').gzMap; const p = gz.toMap(41.9052, 123.4056);
                   return [p.lat, p.lng, GZMap.toGcj(41.9052, 123.4056)]; }"""
    )
    assert abs(shown[0] - shown[2][0]) < 1e-9 and abs(shown[1] - shown[2][1]) < 1e-9
    assert abs(shown[1] - 123.4056) > 0.001
    page.evaluate(
        "document.querySelector('#pick-map').gzMap.map.setView("
        "document.querySelector('#pick-map').gzMap.toMap(41.9052, 123.4056), 18, {animate: false})"
    )
    click_at(page, "#pick-map", 41.90521, 123.40555)
    page.wait_for_selector('#place-match[data-state="done"]')
    assert abs(float(page.input_value("#id_lat")) - 41.90521) < 2e-5
    assert abs(float(page.input_value("#id_lng")) - 123.40555) < 2e-5
    assert page.inner_text("#match-building") == b11.name

    # Back on 天地图: the point is where it was on the ground.
    page.hover("#pick-map .leaflet-control-layers")
    page.locator("#pick-map .leaflet-control-layers-base label", has_text="天地图 影像").click()
    page.wait_for_selector('#pick-map[data-base-mode="wgs84"]')
    centre = page.evaluate(
        "(() => { const c = document.querySelector('#pick-map').gzMap.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    assert abs(centre[0] - 41.9052) < 1e-4 and abs(centre[1] - 123.4056) < 1e-4
    assert [e for e in page.gongzhi_errors if "tianditu" not in e and "autonavi" not in e] == []
