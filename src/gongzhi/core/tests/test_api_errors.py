"""Bad input never costs a 500, and every error the API gives is in the error shape (issue 14, items 11, 15, 19).

The shared pieces: ``core.schemas`` (InputSchema refuses unknown fields; Int64 and Float bound numbers),
``core.pagination.PageNumberPagination`` (bounded page numbers), ``core.middleware`` (405, malformed bodies, unhandled
exceptions and a locked database in the error shape; a 503 page for pages) and ``config.api`` (the error responses
in the OpenAPI document)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role

pytestmark = pytest.mark.django_db

BEYOND_INT64 = 2**63 + 5


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and isinstance(error["details"], list)
    if field is not None:
        assert field in [d.get("field") for d in error["details"]], error
    return dict(error)


@pytest.fixture
def admin_api(api, tree):  # type: ignore[no-untyped-def]
    api.client.raise_request_exception = False  # answer as production does: never raise into the test
    return api.as_user(user_with_role(Role.ADMIN))


# --- numbers beyond what a database holds, infinities, booleans as numbers -----------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/territory/nodes?page={BEYOND_INT64}", "page"),
        (f"/api/v1/cases?page={BEYOND_INT64}", "page"),
        (f"/api/v1/territory/nodes?parent_id={BEYOND_INT64}", "parent_id"),
        (f"/api/v1/cases?category_id={BEYOND_INT64}", "category_id"),
        (f"/api/v1/territory/nodes/{BEYOND_INT64}", "node_id"),
        (f"/api/v1/kpis/figures?place={BEYOND_INT64}", "place"),
        ("/api/v1/territory/locate?lat=inf&lng=123.4", "lat"),
        ("/api/v1/territory/locate?lat=41.9&lng=1e400", "lng"),
        ("/api/v1/territory/locate?lat=nan&lng=123.4", "lat"),
        ("/api/v1/cases/similar?category_id=1&lat=-inf", "lat"),
        # KPI periods at the calendar's ends (the local-midnight conversion overflowed Python's dates).
        ("/api/v1/kpis/figures?start=0001-01-01&end=9999-12-31", "start"),
        ("/api/v1/kpis/figures?start=2026-01-01&end=9999-12-31&by=month", "end"),
        ("/api/v1/kpis/figures?start=0001-01-01&end=0001-01-02&by=week", "start"),
        ("/api/v1/kpis/cases?kpi=intake&start=0001-01-01", "start"),
    ],
)
def test_numbers_out_of_range_are_a_400_naming_the_parameter(admin_api, url, field):  # type: ignore[no-untyped-def]
    assert_error(admin_api.get(url), 400, field)


def test_kpi_pages_refuse_dates_at_the_calendars_ends_with_a_400_page(client, tree):  # type: ignore[no-untyped-def]
    client.raise_request_exception = False
    client.force_login(user_with_role(Role.ADMIN))
    for url in ("/kpis/?start=0001-01-01", "/kpis/?end=9999-12-31", f"/kpis/?place={BEYOND_INT64}"):
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)


def test_a_huge_page_number_within_the_bound_is_an_empty_page(admin_api):  # type: ignore[no-untyped-def]
    body = admin_api.get("/api/v1/territory/nodes?page=2147483647").json()
    assert body["items"] == [] and body["count"] > 0


def test_booleans_and_infinities_are_not_coordinates(admin_api):  # type: ignore[no-untyped-def]
    from gongzhi.cases.tests.factories import category

    base = {"channel": "patrol", "title": "积水", "category_id": category().pk}
    for lat, lng in ((True, False), (1e400, 123.4), (41.9, float("inf"))):
        body = json.dumps({**base, "lat": lat, "lng": lng})  # 1e400 and inf travel as JSON's Infinity
        response = admin_api.client.post(
            "/api/v1/cases", data=body, content_type="application/json", headers=admin_api.headers
        )
        error = assert_error(response, 400)
        assert {d["field"] for d in error["details"]} <= {"lat", "lng"} and error["details"]
    from gongzhi.cases.models import Case

    assert not Case.objects.exists()


def test_integers_beyond_int64_in_a_body_are_a_400(admin_api, tree):  # type: ignore[no-untyped-def]
    response = admin_api.post(
        "/api/v1/territory/nodes", {"parent_id": BEYOND_INT64, "kind": "grid", "name": "新网格"}
    )
    assert_error(response, 400, "parent_id")
    response = admin_api.post(f"/api/v1/territory/nodes/{tree.grids[0].pk}/lead-body", {"body_id": True})
    assert_error(response, 400, "body_id")


def test_a_negative_floor_count_is_refused_by_name(admin_api, tree):  # type: ignore[no-untyped-def]
    building = tree.buildings[0]
    assert_error(admin_api.patch(f"/api/v1/territory/nodes/{building.pk}", {"floors": -3}), 400, "floors")
    assert_error(
        admin_api.post(
            "/api/v1/territory/nodes", {"parent_id": tree.grids[0].pk, "kind": "building", "name": "2号楼", "floors": -1}
        ),
        400,
        "floors",
    )
    building.refresh_from_db()
    assert building.floors == 6


def test_the_service_refuses_a_floor_count_the_column_cannot_hold(tree):  # type: ignore[no-untyped-def]
    from gongzhi.core.errors import ValidationFailed
    from gongzhi.territory import services

    admin = user_with_role(Role.ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        services.update_node(actor=admin, node_id=tree.buildings[0].pk, floors=-1)
    assert caught.value.details[0].field == "floors"


def test_a_new_place_with_a_lead_body_that_does_not_exist_is_a_404_not_a_500(admin_api, tree):  # type: ignore[no-untyped-def]
    payload = {"parent_id": tree.grids[0].pk, "kind": "building", "name": "2号楼"}
    assert_error(admin_api.post("/api/v1/territory/nodes", {**payload, "lead_body_id": 999_999}), 404)
    assert_error(admin_api.post("/api/v1/territory/nodes", {**payload, "lead_body_id": tree.department.pk}), 400, "lead_body_id")
    created = admin_api.post("/api/v1/territory/nodes", {**payload, "lead_body_id": tree.committees[1].pk})
    assert created.status_code == 201 and created.json()["lead_body"]["id"] == tree.committees[1].pk


# --- unknown fields ------------------------------------------------------------------------------------------------


def test_unknown_or_read_only_fields_are_a_400_naming_them(admin_api, tree):  # type: ignore[no-untyped-def]
    node = tree.grids[0]
    error = assert_error(admin_api.patch(f"/api/v1/territory/nodes/{node.pk}", {"name": "改名", "nmae": "x"}), 400)
    assert [d["field"] for d in error["details"]] == ["nmae"] and error["details"][0]["message"]
    assert_error(admin_api.patch(f"/api/v1/territory/nodes/{node.pk}", {"code": "999"}), 400, "code")
    node.refresh_from_db()
    assert node.name != "改名"  # nothing of a refused request is applied
    # The same in every app: a body, a query schema.
    person_id = _a_person(tree).pk
    assert_error(admin_api.patch(f"/api/v1/people/{person_id}", {"id_number_masked": "x"}), 400, "id_number_masked")
    assert_error(admin_api.post("/api/v1/auth/token", {"username": "a", "password": "b", "otp": 1}), 400, "otp")


def _a_person(tree: Any) -> Any:
    from gongzhi.registry.tests.factories import make_person

    return make_person(tree.households[0])


def test_leaving_a_place_without_a_lead_body_is_refused_and_says_why(admin_api, tree):  # type: ignore[no-untyped-def]
    from gongzhi.territory.schemas import _lead_body_message

    node = tree.grids[0]
    lead = node.lead_body_id
    why = _lead_body_message(None)  # "A place always has exactly one responsible body …" (in the request's language)
    assert "/lead-body" in why
    for field in ("lead_body_id", "lead_body"):
        error = assert_error(admin_api.patch(f"/api/v1/territory/nodes/{node.pk}", {field: None}), 400, field)
        assert error["details"][0]["message"] == why
    error = assert_error(admin_api.post(f"/api/v1/territory/nodes/{node.pk}/lead-body", {"body_id": None}), 400)
    assert error["details"][0] == {"field": "body_id", "message": why}
    # Another body through PATCH: refused, pointing to the hand-over.
    error = assert_error(admin_api.patch(f"/api/v1/territory/nodes/{node.pk}", {"lead_body_id": tree.department.pk}), 400)
    assert error["details"][0]["message"] != why and "/lead-body" in error["details"][0]["message"]
    with translation.override("en"):
        assert "exactly one responsible body" in _lead_body_message(None)
    node.refresh_from_db()
    assert node.lead_body_id == lead


# --- errors that are not the domain's: 405, malformed bodies, unhandled exceptions -----------------------------------


def test_a_method_not_allowed_is_in_the_error_shape(admin_api):  # type: ignore[no-untyped-def]
    response = admin_api.client.put("/api/v1/territory/nodes", headers=admin_api.headers)
    error = assert_error(response, 405)
    assert error["code"] == "method_not_allowed" and "PUT" in error["message"]
    assert "GET" in response["Allow"]


def test_a_malformed_multipart_body_is_a_400_in_the_error_shape(admin_api):  # type: ignore[no-untyped-def]
    url = "/api/v1/territory/boundaries/import"
    for content_type, data in (
        ("multipart/form-data; boundary=xx", b"--xx\r\nnot a part"),
        ("multipart/form-data", b"no boundary at all"),
    ):
        response = admin_api.client.post(url, data=data, content_type=content_type, headers=admin_api.headers)
        assert_error(response, 400)
    response = admin_api.client.post(
        "/api/v1/cases/1/attachments", data=b"--xx\r\n", content_type="multipart/form-data; boundary=xx",
        headers=admin_api.headers,
    )
    assert response.status_code < 500 and response.json()["error"]


def test_an_unhandled_exception_is_a_logged_500_in_the_error_shape(admin_api, monkeypatch, caplog):  # type: ignore[no-untyped-def]
    from gongzhi.territory import selectors

    def boom(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "node_list", boom)
    response = admin_api.get("/api/v1/territory/nodes")
    error = assert_error(response, 500)
    assert error["code"] == "internal_error" and "a bug" not in response.content.decode()
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


def test_the_openapi_document_declares_the_error_responses() -> None:
    from gongzhi.config.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    patch = schema["paths"]["/api/v1/territory/nodes/{node_id}"]["patch"]["responses"]
    for status in (400, 401, 403, 404, 500, 503):
        shared = schema["components"]["responses"][f"Error{status}"]
        assert patch[status] == {"$ref": f"#/components/responses/Error{status}"}
        assert shared["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    public = schema["paths"]["/api/v1/cases/public/report"]["post"]["responses"]
    assert 401 not in public and 429 in public and 400 in public


# --- a database that stays locked ----------------------------------------------------------------------------------


@contextlib.contextmanager
def write_lock_held_elsewhere(table: str) -> Iterator[None]:
    """Another connection holds a write lock on ``table`` (uncommitted) while the body runs; then rolls back.

    SQLite: the test database is shared-cache in memory, whose table locks fail at once ("database table is
    locked", the busy timeout does not apply). PostgreSQL: an ACCESS EXCLUSIVE lock, and a short lock timeout on
    the test's connection (the one the test client's requests use)."""
    other = connection.copy()
    other.ensure_connection()
    raw = other.connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.vendor == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(f"UPDATE {table} SET name = name")
        else:
            cursor.execute("BEGIN")
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            with connection.cursor() as mine:
                mine.execute("SET lock_timeout = '200ms'")
        yield
    finally:
        raw.rollback()
        other.close()
        if connection.vendor != "sqlite":
            with connection.cursor() as mine:
                mine.execute("SET lock_timeout = 0")


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_is_a_503_with_retry_after_for_the_api(api, tree):  # type: ignore[no-untyped-def]
    api.client.raise_request_exception = False
    api.as_user(user_with_role(Role.ADMIN))
    node = tree.grids[0]
    with write_lock_held_elsewhere("territory_node"):
        response = api.patch(f"/api/v1/territory/nodes/{node.pk}", {"name": "改名"})
    error = assert_error(response, 503)
    assert error["code"] == "database_busy" and int(response["Retry-After"]) > 0
    # The lock gone, the same request goes through.
    assert api.patch(f"/api/v1/territory/nodes/{node.pk}", {"name": "改名"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_locked_database_is_a_503_page_for_pages(client, tree):  # type: ignore[no-untyped-def]
    client.raise_request_exception = False
    client.force_login(user_with_role(Role.ADMIN))
    with write_lock_held_elsewhere("territory_node"):
        response = client.get(f"/territory/nodes/{tree.grids[0].pk}/")
        htmx = client.get(f"/territory/nodes/{tree.grids[0].pk}/panel/", headers={"HX-Request": "true"})
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html") and 'data-status="503"' in response.content.decode()
    assert htmx.status_code == 503 and 'data-status="503"' in htmx.content.decode()
    assert client.get(f"/territory/nodes/{tree.grids[0].pk}/").status_code == 200


def test_only_lock_errors_count_as_busy() -> None:
    from gongzhi.core.middleware import database_busy

    assert database_busy(OperationalError("database is locked"))
    assert database_busy(OperationalError("database table is locked"))
    assert not database_busy(OperationalError("no such table: x"))
    assert not database_busy(RuntimeError("database is locked"))


# --- found by the fuzz run -----------------------------------------------------------------------------------------


def test_an_administrator_edits_and_moves_a_person(admin_api, tree):  # type: ignore[no-untyped-def]
    """PostgreSQL refused to lock a person read with its (nullable) household joined: an admin's edit was a 500."""
    person = _a_person(tree)
    response = admin_api.patch(f"/api/v1/people/{person.pk}", {"room": "102"})
    assert response.status_code == 200, response.content
    response = admin_api.post(f"/api/v1/people/{person.pk}/move", {"household_id": tree.households[1].pk})
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.household_id == tree.households[1].pk and person.room == "102"


def test_text_with_a_nul_character_is_a_400_naming_the_field(admin_api, tree):  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store or compare text holding NUL: a campaign named "a\\x00b" was a 500 there."""
    area = tree.communities[0].pk
    campaign = {"name": "大走访\x00", "area_id": area, "starts": "2026-12-01", "ends": "2026-12-31"}
    assert_error(admin_api.post("/api/v1/visits/campaigns", campaign), 400, "name")
    campaign = {**campaign, "name": "大走访", "tags": ["elderly", "x\x00"]}
    assert_error(admin_api.post("/api/v1/visits/campaigns", campaign), 400, "tags")
    node = tree.grids[0].pk
    assert_error(admin_api.patch(f"/api/v1/territory/nodes/{node}", {"boundary": {"type\x00": 1}}), 400, "boundary")
    assert_error(admin_api.get("/api/v1/people?q=%E5%BC%A0%00"), 400, "q")
    assert_error(admin_api.get("/api/v1/cases/public/track?number=1&phone=%00"), 400, "phone")
    _a_person(tree)  # somebody to visit
    created = admin_api.post("/api/v1/visits/campaigns", {**campaign, "tags": []})
    assert created.status_code == 201, created.content


def test_dates_at_the_calendars_ends_are_a_400_naming_the_field(admin_api, tree):  # type: ignore[no-untyped-def]
    """A campaign from 0001-01-01 was a 500 (its date arithmetic overflowed): every input date is bounded."""
    _a_person(tree)
    campaign = {"name": "大走访", "area_id": tree.communities[0].pk, "starts": "0001-01-01", "ends": "0001-01-01"}
    error = assert_error(admin_api.post("/api/v1/visits/campaigns", campaign), 400)
    assert {d["field"] for d in error["details"]} == {"starts", "ends"}
    campaign = {**campaign, "starts": "2026-12-01", "ends": "9999-12-31"}
    assert_error(admin_api.post("/api/v1/visits/campaigns", campaign), 400, "ends")
    assert_error(admin_api.get("/api/v1/cases?date_from=0001-01-01"), 400, "date_from")
    person = _a_person(tree)
    assert_error(admin_api.patch(f"/api/v1/people/{person.pk}", {"birth_date": "9999-12-31"}), 400, "birth_date")
    visit = {"household_id": tree.households[0].pk, "outcome": "met", "visited_at": "0001-01-01T00:00:00"}
    assert_error(admin_api.post("/api/v1/visits", visit), 400, "visited_at")


def test_validation_details_are_in_the_requests_language(admin_api):  # type: ignore[no-untyped-def]
    """pydantic's English texts do not reach a Chinese user: each detail says what is wrong in the request's
    language, naming the field."""
    url = f"/api/v1/cases?page={2**40}"
    chinese = assert_error(admin_api.get(url), 400, "page")
    assert [d["message"] for d in chinese["details"]] == ["不能大于 2147483647"]
    english = assert_error(admin_api.get(url, HTTP_ACCEPT_LANGUAGE="en"), 400, "page")
    assert [d["message"] for d in english["details"]] == ["at most 2147483647"]
    lat = assert_error(admin_api.get("/api/v1/territory/locate?lat=inf&lng=123.4"), 400, "lat")
    assert lat["details"][0]["message"] == "应为有限的数字"
    missing = assert_error(admin_api.get("/api/v1/territory/locate?lat=41.9"), 400, "lng")
    assert missing["details"][0]["message"] == "此项必填"
