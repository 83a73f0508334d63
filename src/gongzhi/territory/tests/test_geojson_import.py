"""GeoJSON import of grid boundaries: all or nothing, errors that name the feature."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.territory import services
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node
from gongzhi.territory.tests.factories import square

pytestmark = pytest.mark.django_db


def feature(code: str, name: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


BOWTIE = {"type": "Polygon", "coordinates": [[[123.5, 41.8], [123.51, 41.81], [123.51, 41.8], [123.5, 41.81], [123.5, 41.8]]]}


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)


def test_valid_file_creates_and_updates_grids(tree, operator):  # type: ignore[no-untyped-def]
    community = tree.communities[0]
    existing = tree.grids[0]
    moved = square(123.40, 41.90, 0.009)  # shrink the stored grid, still inside its old square
    data = collection(
        feature(existing.code, "改名网格", moved),
        feature(f"{community.code}009", "新网格", square(123.40, 41.92, 0.01)),
    )
    result = services.import_grid_boundaries(actor=operator, data=data)
    assert result.updated == [existing.code]
    assert result.created == [f"{community.code}009"]
    existing.refresh_from_db()
    assert existing.name == "改名网格" and existing.boundary == moved
    new = Node.objects.get(code=f"{community.code}009")
    assert new.kind == NodeKind.GRID and new.parent == community and new.lead_body == community.lead_body
    assert 41.92 < new.centroid_lat < 41.93 and 123.40 < new.centroid_lng < 123.41
    assert AuditLog.objects.filter(action="territory.boundary_imported").count() == 2


def _assert_refused(actor, data, *, row: int, contains: str):  # type: ignore[no-untyped-def]
    before = list(Node.objects.order_by("id").values_list("id", "name", "boundary"))
    with pytest.raises(ValidationFailed) as info:
        services.import_grid_boundaries(actor=actor, data=data)
    rows = {d.row for d in info.value.details}
    assert row in rows, info.value.details
    assert any(contains in d.message for d in info.value.details if d.row == row), info.value.details
    assert list(Node.objects.order_by("id").values_list("id", "name", "boundary")) == before
    return info.value


def test_self_intersecting_polygon_is_refused_naming_the_feature(tree, operator):  # type: ignore[no-untyped-def]
    c = tree.communities[0].code
    err = _assert_refused(
        operator,
        collection(feature(f"{c}010", "好网格", square(123.40, 41.93)), feature(f"{c}011", "坏网格", BOWTIE)),
        row=2,
        contains="Self-intersection",
    )
    assert err.details[0].field == "features[1].geometry"
    assert f"{c}011" in err.details[0].message
    assert not Node.objects.filter(code=f"{c}010").exists(), "the good feature must not be imported either"


def test_overlapping_grids_in_the_file_are_refused(tree, operator):  # type: ignore[no-untyped-def]
    c = tree.communities[0].code
    _assert_refused(
        operator,
        collection(
            feature(f"{c}010", "甲", square(123.40, 41.95)),
            feature(f"{c}011", "乙", square(123.405, 41.955)),
        ),
        row=2,
        contains=f"overlaps grid {c}010",
    )


def test_touching_grids_are_fine(tree, operator):  # type: ignore[no-untyped-def]
    c = tree.communities[0].code
    data = collection(feature(f"{c}010", "甲", square(123.40, 41.95)), feature(f"{c}011", "乙", square(123.41, 41.95)))
    assert len(services.import_grid_boundaries(actor=operator, data=data).created) == 2


def test_overlap_with_a_stored_grid_is_refused(tree, operator):  # type: ignore[no-untyped-def]
    c = tree.communities[1].code
    _assert_refused(
        operator,
        collection(feature(f"{c}010", "压线网格", square(123.405, 41.905))),
        row=1,
        contains=f"overlaps stored grid {tree.grids[0].code}",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
    ],
)
def test_malformed_collections(tree, operator, data, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as info:
        services.import_grid_boundaries(actor=operator, data=data)
    assert message in info.value.message


@pytest.mark.parametrize(
    ("feat", "contains"),
    [
        ({"type": "Feature", "properties": {"code": "12", "name": "x"}, "geometry": None}, "15 digits"),
        ({"type": "Feature", "properties": {"name": "x"}}, "15 digits"),
        ({"type": "Feature", "properties": {"code": "210113001001077", "name": "x"},
          "geometry": {"type": "Point", "coordinates": [123.4, 41.9]}}, "expected Polygon"),
        ({"type": "Feature", "properties": {"code": "210113001001077", "name": "x"},
          "geometry": {"type": "Polygon", "coordinates": [[1, 2]]}}, "malformed"),
        ({"type": "Feature", "properties": {"code": "210113001099077", "name": "x"},
          "geometry": square(123.6, 41.6)}, "no community or village"),
        ({"type": "Feature", "properties": {"code": "210113001001077", "name": "x"},
          "geometry": square(41.9, 123.4)}, "[longitude, latitude]"),
        ({"type": "Bogus"}, "not a GeoJSON Feature"),
    ],
)
def test_bad_features_name_their_row(tree, operator, feat, contains):  # type: ignore[no-untyped-def]
    good = feature("210113001001050", "好", square(123.40, 41.97))
    _assert_refused(operator, collection(good, feat), row=2, contains=contains)


def test_repeated_code(tree, operator):  # type: ignore[no-untyped-def]
    c = tree.communities[0].code
    f = feature(f"{c}010", "甲", square(123.40, 41.95))
    _assert_refused(operator, collection(f, dict(f)), row=2, contains="repeats feature 1")


def test_api_upload_and_export_round_trip(tree, operator, api):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    c = tree.communities[0].code
    payload = json.dumps(collection(feature(f"{c}020", "上传网格", square(123.40, 41.99)))).encode()
    upload = SimpleUploadedFile("grids.geojson", payload, content_type="application/geo+json")
    response = api.client.post("/api/v1/territory/boundaries/import", {"file": upload}, headers=api.headers)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": [f"{c}020"], "updated": []}
    exported = api.get("/api/v1/territory/boundaries").json()
    assert exported["type"] == "FeatureCollection"
    codes = {f["properties"]["code"] for f in exported["features"]}
    assert codes == {g.code for g in tree.grids} | {f"{c}020"}
    # The export can be imported again unchanged (updates only).
    response = api.post("/api/v1/territory/boundaries/import", exported)
    assert response.status_code == 200 and response.json()["created"] == []


def test_api_error_shape_for_a_bad_file(tree, operator, api):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = api.post("/api/v1/territory/boundaries/import", collection(feature("1", "x", BOWTIE)))
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["message"] == "features[0] (1)：网格编码为 15 位数字"
    response = api.post(
        "/api/v1/territory/boundaries/import", collection(feature("1", "x", BOWTIE)), HTTP_ACCEPT_LANGUAGE="en"
    )
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0] == {"field": "features[0].properties.code", "row": 1,
                                   "message": "features[0] (1): a grid code has 15 digits"}
    response = api.client.post("/api/v1/territory/boundaries/import", data=b"{not json",
                               content_type="application/json", headers=api.headers)
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "file"


def test_grid_worker_may_not_import(tree, api):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(worker)
    c = tree.communities[0].code
    response = api.post("/api/v1/territory/boundaries/import",
                        collection(feature(f"{c}030", "越权", square(123.40, 42.05))))
    assert response.status_code == 403
    assert not Node.objects.filter(code=f"{c}030").exists()
