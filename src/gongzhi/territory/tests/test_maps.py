"""The maps' territory endpoints (docs/maps.md): building points in scope, bounded; where a picked point would be
filed (building, grid, community) with the user's buildings nearby; base-map settings and the no-base-map note."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory import coords
from gongzhi.territory.basemaps import base_layers
from gongzhi.territory.tests.factories import child

pytestmark = pytest.mark.django_db


def test_building_points_in_scope_only(api, tree, other_tree):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    body = api.as_user(worker).get("/api/v1/territory/buildings/points").json()
    assert [b["code"] for b in body["items"]] == [tree.buildings[0].code]
    assert body["truncated"] is False
    assert body["items"][0]["lat"] == pytest.approx(41.904) and body["items"][0]["lng"] == pytest.approx(123.404)
    # Under a place out of scope: 404, never the other subdistrict's buildings.
    response = api.get(f"/api/v1/territory/buildings/points?within_id={other_tree.grids[0].pk}")
    assert response.status_code == 404
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    body = api.as_user(operator).get("/api/v1/territory/buildings/points").json()
    assert sorted(b["code"] for b in body["items"]) == sorted(b.code for b in tree.buildings)


def test_building_points_bounded_by_box_and_limit(api, tree, monkeypatch):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client = api.as_user(operator)
    # The box around the first community's grids (lng 123.40–123.42) only.
    body = client.get("/api/v1/territory/buildings/points?bbox=41.89,123.39,41.92,123.419").json()
    assert sorted(b["code"] for b in body["items"]) == sorted(b.code for b in tree.buildings[:2])
    monkeypatch.setattr("gongzhi.territory.selectors.MAX_MAP_BUILDINGS", 3)
    from gongzhi.territory import selectors

    items, truncated = selectors.building_points(user=operator, limit=3)
    assert len(items) == 3 and truncated
    assert client.get("/api/v1/territory/buildings/points?bbox=1,2,3").status_code == 400


def test_match_names_building_grid_and_community_with_neighbours(api, tree):  # type: ignore[no-untyped-def]
    grid = tree.grids[0]
    b3 = child(grid, "building", 3, "金禾家苑3号楼", centroid_lat=41.9050, centroid_lng=123.4050)
    b11 = child(grid, "building", 11, "金禾家苑11号楼", centroid_lat=41.9052, centroid_lng=123.4056)
    worker = user_with_role(Role.GRID_WORKER, node=grid)
    body = api.as_user(worker).get("/api/v1/territory/match?lat=41.90521&lng=123.40555").json()
    assert body["building"]["name"] == b11.name
    assert body["grid"]["name"] == grid.name and body["community"]["name"] == tree.communities[0].name
    assert body["in_scope"] is True and body["how"] == "gps" and body["unplaced"] is False
    names = [b["name"] for b in body["nearby"]]
    assert names[0] == b11.name and b3.name in names  # nearest first: the one meant can be chosen
    assert all(b["grid"] == grid.name and b["community"] == tree.communities[0].name for b in body["nearby"])


def test_match_out_of_scope_names_nothing(api, tree, other_tree):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    # A point in the other subdistrict's grid: placed there, but the worker does not cover it.
    body = api.as_user(worker).get("/api/v1/territory/match?lat=41.9041&lng=123.5041").json()
    assert body["in_scope"] is False
    assert body["building"] is None and body["grid"] is None and body["community"] is None
    assert body["nearby"] == []  # no building of someone else's ground
    assert other_tree.buildings[0].name not in str(body)


def test_match_by_address_and_outside_every_grid(api, tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client = api.as_user(operator)
    body = client.get(f"/api/v1/territory/match?address={quote(tree.buildings[1].name)}").json()
    assert body["how"] == "address" and body["building"]["name"] == tree.buildings[1].name
    body = client.get("/api/v1/territory/match?lat=41.945&lng=123.445").json()
    assert body["unplaced"] is True and body["how"] == "desk" and body["building"] is None
    assert client.get("/api/v1/territory/match?lat=41.9").status_code == 400
    assert client.get("/api/v1/territory/match?lat=41.9&lng=123.4&crs=bd09").status_code == 400


def test_match_converts_a_gcj02_point(api, tree):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    wgs = (41.9041, 123.4041)
    gcj = coords.wgs84_to_gcj02(*wgs)
    client = api.as_user(worker)
    body = client.get(f"/api/v1/territory/match?lat={gcj[0]}&lng={gcj[1]}&crs=gcj02").json()
    assert body["lat"] == pytest.approx(wgs[0], abs=1e-6) and body["lng"] == pytest.approx(wgs[1], abs=1e-6)
    assert body["building"]["name"] == tree.buildings[0].name
    # The same numbers taken as WGS-84 are ~hundreds of metres off: not that building.
    body = client.get(f"/api/v1/territory/match?lat={gcj[0]}&lng={gcj[1]}").json()
    assert body["building"] is None or body["building"]["name"] != tree.buildings[0].name


def test_base_layers_from_settings(settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_TIANDITU_KEY = ""
    settings.GONGZHI_AMAP_TILES = False
    settings.GONGZHI_MAP_TILE_URL = ""
    assert base_layers() == []
    settings.GONGZHI_TIANDITU_KEY = "abc123"
    settings.GONGZHI_AMAP_TILES = True
    layers = base_layers()
    assert [(layer["id"], layer["crs"]) for layer in layers] == [
        ("tianditu-vec", "wgs84"), ("tianditu-img", "wgs84"), ("amap-vec", "gcj02"), ("amap-img", "gcj02"),
    ]  # fmt: skip
    vec = layers[0]["tiles"]
    assert "T=vec_w" in vec[0]["url"] and "T=cva_w" in vec[1]["url"] and "tk=abc123" in vec[1]["url"]
    assert "T=img_w" in layers[1]["tiles"][0]["url"] and "T=cia_w" in layers[1]["tiles"][1]["url"]
    assert {t["referrerPolicy"] for layer in layers[:2] for t in layer["tiles"]} == {"strict-origin"}


def _base_map_block(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script id="gz-basemaps" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries no base-map configuration"
    return json.loads(found.group(1))


def test_browser_shows_no_base_map_note_without_a_key(client, tree, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_TIANDITU_KEY = ""
    settings.GONGZHI_AMAP_TILES = False
    settings.GONGZHI_MAP_TILE_URL = ""
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    config = _base_map_block(client.get("/territory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert config["layers"] == []
    assert config["strings"]["no_base_map"] == "未配置底图"  # the note basemap.js puts on the map
    settings.GONGZHI_TIANDITU_KEY = "abc123"
    config = _base_map_block(client.get("/territory/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert [layer["name"] for layer in config["layers"]] == ["天地图 矢量", "天地图 影像"]


def test_configured_tile_hosts_join_the_content_security_policy():  # type: ignore[no-untyped-def]
    """The settings add the tile hosts of the base maps switched on to the images the CSP allows (and none else)."""
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'gongzhi.config.settings'; django.setup(); "
        "from gongzhi.core.headers import content_security_policy as c; print(c())"
    )

    def csp(**env: str) -> str:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_TIANDITU", "GONGZHI_AMAP"))}
        result = subprocess.run(
            [sys.executable, "-c", code], env={**clean, "GONGZHI_TESTING": "1", **env},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout

    assert "tianditu" not in csp() and "autonavi" not in csp()
    both = csp(GONGZHI_TIANDITU_KEY="k", GONGZHI_AMAP_TILES="1")
    assert "https://*.tianditu.gov.cn" in both and "https://*.is.autonavi.com" in both
