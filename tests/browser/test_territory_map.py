"""The territory map in a real browser: a grid worker sees their one grid, community staff their community's."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree, co_cover

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID_PATHS = ".leaflet-overlay-pane path"


def open_map(page, live_server):  # type: ignore[no-untyped-def]
    page.click("#nav-territory")
    page.wait_for_url(f"{live_server.url}/territory/")
    page.wait_for_selector('#map[data-loaded="true"]')


def test_grid_worker_sees_their_grid_and_opens_its_panel(live_server, make_page, login, results_dir):
    tree = build_tree()
    grid = tree.grids[0]
    co_cover(grid, Body.objects.create(name="绿城物业", kind=BodyKind.PROPERTY_COMPANY))
    worker = user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME, display_name="王专职")
    user_with_role(Role.GRID_LEADER, node=grid, post=Post.GRID_LEADER, display_name="张网格长")

    page = make_page()
    login(page, worker)
    assert "工作台" in page.inner_text("main")  # the workbench (issue 16)
    assert "王专职" in page.inner_text("#whoami")
    open_map(page, live_server)

    # Exactly the worker's one grid is drawn, and it is theirs.
    assert page.locator(GRID_PATHS).count() == 1
    assert page.locator(f'{GRID_PATHS}[data-grid-code="{grid.code}"]').count() == 1
    assert page.get_attribute("#map", "data-grid-count") == "1"

    # Hovering labels the grid; clicking opens its panel.
    polygon = page.locator(f'path[data-grid-code="{grid.code}"]')
    polygon.hover()
    page.wait_for_selector(".leaflet-tooltip")
    assert grid.name in page.inner_text(".leaflet-tooltip")
    polygon.click()
    page.wait_for_selector(f'#node-panel #node-detail[data-node-id="{grid.pk}"]')
    panel = page.locator("#node-panel")
    assert grid.name in panel.locator("#node-name").inner_text()
    assert grid.lead_body.name in panel.locator("#lead-body").inner_text()
    assert "绿城物业" in panel.locator("#co-bodies").inner_text()
    assert "多主体共管" in panel.inner_text()
    assert tree.buildings[0].name in panel.locator("#node-children").inner_text()

    # Staff arrive from the accounts app, phones masked; a grid worker may not reveal them.
    page.wait_for_selector("#node-panel .staff-item")
    staff = panel.locator("#node-staff").inner_text()
    assert "张网格长" in staff and "王专职" in staff
    assert "****" in staff
    assert panel.locator("button.reveal").count() == 0

    # The grid's building becomes a marker on the map.
    page.wait_for_selector(f'.leaflet-marker-pane [data-building-code="{tree.buildings[0].code}"]')
    assert page.get_attribute("#map", "data-selected-grid") == grid.code
    page.screenshot(path=str(results_dir / "territory-map-grid-worker.png"), full_page=True)
    assert page.gongzhi_errors == []


def test_community_staff_sees_the_two_grids_of_their_community(live_server, make_page, login, results_dir):
    tree = build_tree()
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], post=Post.SECRETARY, display_name="刘书记")
    user_with_role(
        Role.GRID_LEADER, node=tree.grids[1], post=Post.GRID_LEADER, display_name="张网格长", phone="13900001111"
    )

    page = make_page()
    login(page, staff)
    open_map(page, live_server)
    codes = sorted(page.locator(GRID_PATHS).evaluate_all("els => els.map(e => e.dataset.gridCode)"))
    assert codes == sorted([tree.grids[0].code, tree.grids[1].code])

    # The tree starts at the community; expanding it lists its grids; a grid opens its panel.
    tree_box = page.locator("#territory-tree")
    assert tree.communities[0].name in tree_box.inner_text()
    page.wait_for_selector(f'#territory-tree [data-grid-code="{tree.grids[1].code}"]')
    page.click(f'#territory-tree [data-grid-code="{tree.grids[1].code}"] .tree-link')
    page.wait_for_selector(f'#node-detail[data-node-id="{tree.grids[1].pk}"]')
    assert page.get_attribute("#map", "data-selected-grid") == tree.grids[1].code

    # Community staff may reveal a phone: the masked number is swapped for the real one (and audited).
    page.wait_for_selector("#node-panel button.reveal")
    assert "139****1111" in page.inner_text("#node-staff")
    page.click("#node-panel button.reveal")
    page.wait_for_selector('#node-staff [data-revealed="true"]')
    assert "13900001111" in page.inner_text("#node-staff")
    page.screenshot(path=str(results_dir / "territory-map-community.png"), full_page=True)
    assert page.gongzhi_errors == []


def test_phone_layout_puts_the_map_above_the_panel(live_server, make_page, login, results_dir):
    tree = build_tree()
    grid = tree.grids[0]
    worker = user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME, display_name="王专职")

    page = make_page(width=360, height=740)
    login(page, worker)
    page.screenshot(path=str(results_dir / "home-phone.png"), full_page=True)
    open_map(page, live_server)
    assert page.locator(GRID_PATHS).count() == 1
    page.locator(f'path[data-grid-code="{grid.code}"]').click()
    page.wait_for_selector(f'#node-detail[data-node-id="{grid.pk}"]')
    boxes = page.evaluate(
        """() => Object.fromEntries(['#map', '#node-panel'].map(sel => {
               const r = document.querySelector(sel).getBoundingClientRect();
               return [sel, {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, width: r.width}];
           }))"""
    )
    assert boxes["#map"]["bottom"] <= boxes["#node-panel"]["top"] + 1
    assert boxes["#map"]["width"] <= 360
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.wait_for_selector("#node-panel .staff-slot .staff, #node-panel .staff-slot .empty")
    # The panel scrolled itself into view (smoothly); back to the top for the picture, until it stays there.
    page.wait_for_function("() => { window.scrollTo(0, 0); return window.scrollY === 0; }", polling=100)
    page.screenshot(path=str(results_dir / "territory-map-phone.png"), full_page=True)
    assert page.gongzhi_errors == []


def test_english_via_the_language_switch(live_server, make_page, login):
    tree = build_tree()
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME)
    page = make_page()
    login(page, worker)
    page.click('.langswitch button[value="en"]')
    page.wait_for_selector('html[lang="en"]')
    assert "Workbench" in page.inner_text("main")
    open_map(page, live_server)
    assert "Territory map" in page.inner_text(".mainnav")
