"""Cases on the maps (docs/maps.md): open cases as pins, scoped and bounded; a GCJ-02 point converted to WGS-84
before it is stored (API and form); the building chosen on the report form wins over the point."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category, new_case, walk
from gongzhi.territory import coords
from gongzhi.territory.geo import metres_between
from gongzhi.territory.tests.factories import child

pytestmark = pytest.mark.django_db


def test_pins_are_the_open_cases_in_scope(api, tree, other_tree, worker, property_company):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    at_point = new_case(admin, tree.buildings[0], lat=41.9042, lng=123.4043, urgency="A")
    at_place = new_case(admin, tree.buildings[0], title="楼道堆物")  # no point: the building's centre
    closed = walk(admin, new_case(admin, tree.buildings[0], title="已办结"), "closed", handler_body=property_company)
    new_case(admin, tree.grids[2], title="另一个社区")
    new_case(admin, other_tree.grids[0], title="另一个街道")
    body = api.as_user(worker).get("/api/v1/cases/map").json()
    pins = {p["id"]: p for p in body["items"]}
    assert set(pins) == {at_point.pk, at_place.pk} and closed.pk not in pins
    assert body["total"] == 2 and body["truncated"] is False
    assert (pins[at_point.pk]["lat"], pins[at_point.pk]["lng"]) == (41.9042, 123.4043)
    centre = tree.buildings[0]
    assert (pins[at_place.pk]["lat"], pins[at_place.pk]["lng"]) == (centre.centroid_lat, centre.centroid_lng)
    assert pins[at_point.pk]["urgency"] == "A" and pins[at_point.pk]["status"] == "reported"
    assert body["items"][0]["id"] == at_point.pk  # urgent first
    # Under a place out of scope: 404; a box with nothing in it: empty.
    assert api.get(f"/api/v1/cases/map?within_id={other_tree.grids[0].pk}").status_code == 404
    assert api.get("/api/v1/cases/map?bbox=30,120,30.1,120.1").json() == {"items": [], "total": 0, "truncated": False}


def test_pins_are_bounded(api, tree, monkeypatch):  # type: ignore[no-untyped-def]
    from gongzhi.cases import selectors

    admin = user_with_role(Role.ADMIN)
    for i in range(4):
        new_case(admin, tree.buildings[0], title=f"事件{i}")
    items, total, truncated = selectors.case_pins(user=admin, limit=3)
    assert len(items) == 3 and total == 4 and truncated


def test_api_report_converts_a_gcj02_point_to_wgs84(api, tree, worker):  # type: ignore[no-untyped-def]
    wgs = (41.9041, 123.4041)
    gcj = coords.wgs84_to_gcj02(*wgs)
    payload = {"channel": "patrol", "title": "井盖缺失", "category_id": category().pk, "lat": gcj[0], "lng": gcj[1]}
    client = api.as_user(worker)
    response = client.post("/api/v1/cases", {**payload, "coord_system": "gcj02"})
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert metres_between(case.lat, case.lng, *wgs) < 0.5  # stored in WGS-84
    assert case.node == tree.buildings[0]  # and placed by the WGS-84 point
    response = client.post("/api/v1/cases", payload)  # no system given: WGS-84, stored as sent
    assert Case.objects.get(pk=response.json()["id"]).lat == gcj[0]
    response = client.post("/api/v1/cases", {**payload, "coord_system": "bd09"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "coord_system"


def test_report_form_chosen_building_wins_over_the_point(client, tree, worker, other_tree):  # type: ignore[no-untyped-def]
    grid = tree.grids[0]
    b3 = child(grid, "building", 3, "金禾家苑3号楼", centroid_lat=41.9050, centroid_lng=123.4050)
    b11 = child(grid, "building", 11, "金禾家苑11号楼", centroid_lat=41.9052, centroid_lng=123.4056)
    client.force_login(worker)
    cat = category("0503")
    data = {"channel": "patrol", "title": "消防通道被占", "major": cat.parent_id, "category": cat.pk,
            "lat": "41.90521", "lng": "123.40555"}  # fmt: skip
    response = client.post(reverse("cases-report"), data)
    assert response.status_code == 302
    assert Case.objects.get(title="消防通道被占").node == b11  # the point alone: the nearest building
    response = client.post(reverse("cases-report"), {**data, "title": "消防通道被占2", "building": b3.pk})
    assert response.status_code == 302
    case = Case.objects.get(title="消防通道被占2")
    assert case.node == b3 and not case.unplaced  # the building the reporter chose
    assert (case.lat, case.lng) == (41.90521, 123.40555)  # the point is kept as given
    # A building out of the reporter's scope cannot be chosen.
    response = client.post(reverse("cases-report"), {**data, "title": "越界", "building": other_tree.buildings[0].pk})
    assert response.status_code == 404 and not Case.objects.filter(title="越界").exists()


def test_report_form_converts_a_gcj02_point(client, tree, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    cat = category("0503")
    gcj = coords.wgs84_to_gcj02(41.9041, 123.4041)
    data = {"channel": "patrol", "title": "路灯不亮", "major": cat.parent_id, "category": cat.pk,
            "lat": f"{gcj[0]:.7f}", "lng": f"{gcj[1]:.7f}", "coord_system": "gcj02"}  # fmt: skip
    assert client.post(reverse("cases-report"), data).status_code == 302
    case = Case.objects.get(title="路灯不亮")
    assert metres_between(case.lat, case.lng, 41.9041, 123.4041) < 0.5 and case.node == tree.buildings[0]


def test_report_page_has_the_map_and_the_match_box(client, tree, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    html = client.get(reverse("cases-report"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="pick-map"' in html and 'id="place-match"' in html and "这条上报将归属到" in html
    assert 'name="building"' in html and 'name="coord_system"' in html
    assert "vendor/markercluster/leaflet.markercluster.js" in html and 'id="gz-basemaps"' in html
