"""Open311 GeoReport v2 (docs/open311.md), through its URLs as a client app calls them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.cases import services as cases_services
from gongzhi.cases import workflow
from gongzhi.cases.choices import Status
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category, ensure_someone_acts_for
from gongzhi.core.models import AuditLog
from gongzhi.open311 import selectors
from gongzhi.open311.models import ApiKey, Request

BASE = "/open311/v2"
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
IN_GRID = {"lat": "41.905", "long": "123.405"}  # inside the tree's first grid
OUTSIDE_GRIDS = {"lat": "41.935", "long": "123.435"}  # inside the subdistrict, outside every grid


def staff_case(admin: Any, node: Any, **kwargs: Any) -> Case:
    kwargs.setdefault("channel", "patrol")
    kwargs.setdefault("title", "小区门口积水")
    kwargs.setdefault("category_id", category().pk)
    return cases_services.report_case(actor=admin, node_id=node.pk, **kwargs)


def post(client: Any, secret: str, fmt: str = "json", **data: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", {"api_key": secret, **data})


def xml(response: Any) -> ET.Element:
    assert response.content.startswith(b"<?xml"), response.content[:60]
    return ET.fromstring(response.content)


# --- keys -------------------------------------------------------------------------------------------------------------


def test_key_is_stored_hashed_shown_once_and_audited(tree, capsys):  # type: ignore[no-untyped-def]
    call_command("open311_key", "create", "--name", "城市门户", "--contact", "a@b.cn", "--rate", "30")
    secret = capsys.readouterr().out.strip().split(": ")[-1]
    key = ApiKey.objects.get(name="城市门户")
    assert key.key_hash == ApiKey.hash(secret) and secret not in (key.key_hash, key.key_prefix)
    assert key.rate_limit == 30 and key.subdistrict == tree.subdistrict
    assert AuditLog.objects.filter(action="open311.key_created", object_id=str(key.pk)).exists()


def test_admin_creates_a_key_and_shows_it_once(client, admin, tree):  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.post(
        "/admin/open311/apikey/add/",
        {
            "name": "研究所",
            "contact": "x@y.cn",
            "subdistrict": tree.subdistrict.pk,
            "rate_limit": 10,
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="研究所")
    shown = [str(m) for m in response.context["messages"]]
    secret = re.findall(r"[A-Za-z0-9_-]{32}", shown[0])[-1]  # the message is in the page's language: find the key
    assert key.key_hash == ApiKey.hash(secret)
    assert AuditLog.objects.filter(action="open311.key_created", object_id=str(key.pk), actor=admin).exists()
    client.post(
        f"/admin/open311/apikey/{key.pk}/change/",
        {"name": "研究所", "contact": "x@y.cn", "subdistrict": tree.subdistrict.pk, "rate_limit": 5},
    )
    key.refresh_from_db()
    assert not key.is_active and key.rate_limit == 5
    changed = AuditLog.objects.get(action="open311.key_changed", object_id=str(key.pk))
    assert changed.before["is_active"] is True and changed.after["is_active"] is False


def test_rate_limit_per_key(client, tree, key):  # type: ignore[no-untyped-def]
    row, secret = key
    row.rate_limit = 3
    row.save()
    other = selectors  # another key keeps its own count
    from gongzhi.open311 import services

    second = services.create_key(actor=None, name="另一个", subdistrict=tree.subdistrict, rate_limit=3).secret
    for _ in range(3):
        assert client.get(f"{BASE}/services.json", {"api_key": secret}).status_code == 200
    refused = client.get(f"{BASE}/services.json", {"api_key": secret})
    assert refused.status_code == 429
    assert refused.json()[0]["code"] == 429 and refused.json()[0]["description"]
    assert client.get(f"{BASE}/services.xml", {"api_key": second}).status_code == 200
    assert other is selectors


# --- discovery and services -------------------------------------------------------------------------------------------


def test_discovery_json_and_xml(client, tree):  # type: ignore[no-untyped-def]
    data = client.get(f"{BASE}/discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("./endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]


def test_services_list_categories_with_their_group(client, tree, key):  # type: ignore[no-untyped-def]
    category("0105")
    rows = client.get(f"{BASE}/services.json").json()
    assert rows and all(set(r) == SERVICE_FIELDS for r in rows)
    manholes = next(r for r in rows if r["service_code"] == "F0101")
    assert manholes["service_name"] == "上水井盖" and manholes["group"].endswith("公用设施")
    assert "井盖" in manholes["keywords"].split(",") and manholes["metadata"] is False
    assert manholes["type"] == "realtime"
    majors = {r["service_code"] for r in rows} & {"E01", "F01"}
    assert not majors  # only the minor classes a citizen reports
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    node = next(s for s in root.findall("service") if s.findtext("service_code") == "F0101")
    assert node.findtext("metadata") == "false" and node.findtext("service_name") == "上水井盖"


def test_service_definition_is_404_in_spec_format(client, tree):  # type: ignore[no-untyped-def]
    category("0105")
    response = client.get(f"{BASE}/services/E0105.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404
    response = client.get(f"{BASE}/services/NOPE.xml")
    root = xml(response)
    assert response.status_code == 404 and root.tag == "errors" and root.findtext("error/code") == "404"


# --- POST requests ----------------------------------------------------------------------------------------------------


def test_post_with_coordinates_creates_a_case_in_the_workflow(client, tree, key):  # type: ignore[no-untyped-def]
    row, secret = key
    response = post(client, secret, service_code="E0105", description="路面积水很深\n门口", **IN_GRID)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer[0]) == {"service_request_id", "service_notice", "account_id"}
    case = Case.objects.get(number=answer[0]["service_request_id"])
    assert case.status == Status.REPORTED and case.channel == "open311"
    assert case.channel_label == "Open311 / 市民通" and case.title == "路面积水很深"
    assert case.node.code.startswith(tree.grids[0].code) and not case.unplaced
    assert Request.objects.get(case=case).api_key == row
    assert AuditLog.objects.filter(action="cases.reported", object_id=str(case.pk)).exists()


def test_post_in_xml_with_an_address(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    response = post(client, secret, "xml", service_code="E0105", address_string=tree.buildings[1].name)
    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert Case.objects.get(number=number).node == tree.buildings[1]


def test_post_outside_every_grid_is_accepted_at_the_desk(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    response = post(client, secret, service_code="E0105", description="桥下有垃圾", **OUTSIDE_GRIDS)
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.unplaced and case.node == tree.subdistrict
    assert response.json()[0]["service_notice"]


def test_post_with_attributes_and_client_fields(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    response = post(
        client,
        secret,
        service_code="E0105",
        description="积水",
        **IN_GRID,
        **{"attribute[depth]": "30cm", "attribute[since]": "昨天"},
        email="li@example.com",
        phone="+86 139-1234-5678",
        first_name="小明",
        last_name="李",
        device_id="dev-1",
        account_id="acc-9",
        media_url="https://img.example.com/1.jpg",
    )
    assert response.status_code == 201, response.content
    assert response.json()[0]["account_id"] == "acc-9"
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    link = Request.objects.get(case=case)
    assert link.attributes == {"depth": "30cm", "since": "昨天"}
    assert (link.email, link.device_id, link.account_id) == ("li@example.com", "dev-1", "acc-9")
    assert "depth: 30cm" in case.description
    assert case.reporter_name == "小明 李" and case.reporter_phone == "8613912345678"


def test_post_address_id_is_a_place_code(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    response = post(client, secret, service_code="E0105", address_id=tree.buildings[2].code)
    assert response.status_code == 201
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).node == tree.buildings[2]


@pytest.mark.parametrize("secret", ["", "not-a-key"])
def test_post_with_a_bad_key_is_403(client, tree, key, secret):  # type: ignore[no-untyped-def]
    response = post(client, secret, service_code="E0105", **IN_GRID)
    assert response.status_code == 403 and response.json()[0]["code"] == 403
    assert not Case.objects.exists()


def test_post_with_an_inactive_key_is_403(client, tree, key):  # type: ignore[no-untyped-def]
    row, secret = key
    ApiKey.objects.filter(pk=row.pk).update(is_active=False)
    assert post(client, secret, service_code="E0105", **IN_GRID).status_code == 403


def test_post_without_service_code_is_400_in_spec_format(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    response = post(client, secret, **IN_GRID)
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": response.json()[0]["description"]}]
    assert "service_code" in response.json()[0]["description"]
    root = xml(post(client, secret, "xml", **IN_GRID))
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert "service_code" in (root.findtext("error/description") or "")


def test_post_refuses_unknown_service_and_no_location(client, tree, key):  # type: ignore[no-untyped-def]
    _, secret = key
    assert post(client, secret, service_code="E9999", **IN_GRID).status_code == 400
    assert post(client, secret, service_code="E0105").status_code == 400
    assert post(client, secret, service_code="E0105", lat="x", long="1").status_code == 400
    assert not Case.objects.exists()


# --- GET requests -----------------------------------------------------------------------------------------------------


@pytest.fixture
def three(tree, admin):  # type: ignore[no-untyped-def]
    """An open water-logging case, a closed one of another category, one reported 100 days ago."""
    now = timezone.now()
    open_case = staff_case(admin, tree.grids[0], reported_at=now - timedelta(days=1), lat=41.905, lng=123.405)
    workflow.perform(actor=admin, case_id=open_case.pk, action="accept")  # its dispatch clock runs
    open_case.refresh_from_db()
    assert open_case.due_at is not None
    closed = staff_case(admin, tree.grids[1], category_id=category("0101", "facility").pk, reported_at=now)
    workflow.perform(actor=admin, case_id=closed.pk, action="reject", note="不属实", reply=True)
    old = staff_case(admin, tree.grids[0], reported_at=now - timedelta(days=100))
    return open_case, closed, old


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["service_request_id"] for r in response.json()]


def test_get_requests_default_window_and_fields(client, tree, three):  # type: ignore[no-untyped-def]
    open_case, closed, _old = three
    rows = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [closed.number, open_case.number]  # newest first, 90 days
    assert all(set(r) == REQUEST_FIELDS for r in rows)
    first = rows[1]
    assert first["status"] == "open" and first["service_code"] == "E0105" and first["lat"] == 41.905
    assert first["agency_responsible"] == open_case.owner_body.name
    assert first["requested_datetime"].endswith("+08:00")
    assert first["expected_datetime"] == timezone.localtime(open_case.due_at).isoformat(timespec="seconds")
    assert (
        rows[0]["status"] == "closed" and rows[0]["status_notes"] == "不属实" and rows[0]["expected_datetime"] is None
    )
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [closed.number, open_case.number]
    assert {child.tag for child in root.find("request")} == REQUEST_FIELDS  # type: ignore[union-attr]


def test_get_requests_filters(client, tree, three):  # type: ignore[no-untyped-def]
    open_case, closed, old = three
    assert ids(client.get(f"{BASE}/requests.json", {"status": "open"})) == [open_case.number]
    assert ids(client.get(f"{BASE}/requests.json", {"status": "closed"})) == [closed.number]
    assert len(ids(client.get(f"{BASE}/requests.json", {"status": "open,closed"}))) == 2
    assert ids(client.get(f"{BASE}/requests.json", {"service_code": "F0101"})) == [closed.number]
    assert len(ids(client.get(f"{BASE}/requests.json", {"service_code": "F0101,E0105"}))) == 2
    listed = {"service_request_id": f"{old.number},{closed.number}"}
    assert set(ids(client.get(f"{BASE}/requests.json", listed))) == {old.number, closed.number}
    start = (timezone.now() - timedelta(days=120)).isoformat()
    end = (timezone.now() - timedelta(days=50)).isoformat()
    assert ids(client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end})) == [old.number]
    assert len(ids(client.get(f"{BASE}/requests.json", {"start_date": start}))) == 3
    assert client.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code == 400
    assert client.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400


def test_get_requests_cap_and_paging(client, tree, three, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(selectors, "MAX_REQUESTS", 1)
    open_case, closed, _ = three
    assert ids(client.get(f"{BASE}/requests.json")) == [closed.number]
    assert ids(client.get(f"{BASE}/requests.json", {"page": 2})) == [open_case.number]
    assert ids(client.get(f"{BASE}/requests.json", {"page_size": 5})) == [closed.number]  # never over the cap


def test_get_request_by_id_and_token(client, tree, three, other_tree, admin):  # type: ignore[no-untyped-def]
    open_case, _, _ = three
    jurisdiction = {"jurisdiction_id": tree.subdistrict.code}
    rows = client.get(f"{BASE}/requests/{open_case.number}.json", jurisdiction).json()
    assert len(rows) == 1 and rows[0]["service_request_id"] == open_case.number
    token = client.get(f"{BASE}/tokens/{open_case.number}.xml", jurisdiction)
    assert xml(token).findtext("request/service_request_id") == open_case.number
    assert client.get(f"{BASE}/requests/0000.json", jurisdiction).status_code == 404
    # Several subdistricts: the jurisdiction is required, and each reads its own cases only.
    assert client.get(f"{BASE}/requests.json").status_code == 400
    elsewhere = staff_case(admin, other_tree.grids[0])
    theirs = {"jurisdiction_id": other_tree.subdistrict.code}
    assert ids(client.get(f"{BASE}/requests.json", theirs)) == [elsewhere.number]
    assert client.get(f"{BASE}/requests/{open_case.number}.json", theirs).status_code == 404


def test_a_key_reads_its_own_subdistrict_only(client, tree, other_tree, key, three):  # type: ignore[no-untyped-def]
    _, secret = key
    assert len(ids(client.get(f"{BASE}/requests.json", {"api_key": secret}))) == 2
    wrong = {"api_key": secret, "jurisdiction_id": other_tree.subdistrict.code}
    assert client.get(f"{BASE}/requests.json", wrong).status_code == 400


# --- privacy and the round trip ---------------------------------------------------------------------------------------

NAME, PHONE, ID_NUMBER, EMAIL = "欧阳娜娜", "13912345678", "210113199001011234", "nana@example.com"


def test_no_personal_data_in_any_answer(client, tree, key, admin):  # type: ignore[no-untyped-def]
    _, secret = key
    posted = post(
        client, secret, service_code="E0105", description="井盖松动", first_name=NAME, phone=PHONE, email=EMAIL,
        **IN_GRID,
    )  # fmt: skip
    number = posted.json()[0]["service_request_id"]
    hotline = staff_case(
        admin, tree.grids[1], channel="hotline", reporter_name=NAME, reporter_phone=PHONE,
        description=f"市民{NAME}（身份证{ID_NUMBER}，电话{PHONE}）来电反映楼道堆物",
    )  # fmt: skip
    cases_services.add_note(actor=admin, case_id=hotline.pk, note=f"内部：回电{PHONE}", public=False)
    answers = [posted]
    for fmt in ("json", "xml"):
        answers += [
            client.get(f"{BASE}/requests.{fmt}"),
            client.get(f"{BASE}/requests/{number}.{fmt}"),
            client.get(f"{BASE}/requests/{hotline.number}.{fmt}"),
            client.get(f"{BASE}/tokens/{number}.{fmt}"),
            client.get(f"{BASE}/services.{fmt}"),
            client.get(f"{BASE}/discovery.{fmt}"),
        ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        text = answer.content.decode()
        for secret_value in (NAME, PHONE, ID_NUMBER, EMAIL, "内部"):
            assert secret_value not in text, (answer.request["PATH_INFO"], secret_value)
    assert number in answers[1].content.decode() and hotline.number in answers[1].content.decode()


def test_round_trip_created_dispatched_closed_reads_closed(client, tree, key, admin):  # type: ignore[no-untyped-def]
    _, secret = key
    posted = post(client, secret, service_code="E0105", description="路灯不亮", **IN_GRID)
    number = posted.json()[0]["service_request_id"]
    url = f"{BASE}/requests/{number}.json"
    assert client.get(url).json()[0]["status"] == "open"
    case = Case.objects.get(number=number)
    handler = tree.committees[0]
    ensure_someone_acts_for(handler)
    workflow.perform(actor=admin, case_id=case.pk, action="accept")
    workflow.perform(
        actor=admin, case_id=case.pk, action="dispatch", payload={"handler_node_id": tree.communities[0].pk}
    )
    row = client.get(url).json()[0]
    assert row["status"] == "open" and row["agency_responsible"] == handler.name
    for action in ("acknowledge", "start", "dispose", "verify"):
        workflow.perform(actor=admin, case_id=case.pk, action=action, note="内部处理记录")
    workflow.perform(actor=admin, case_id=case.pk, action="close", note="路灯已修复", reply=True)
    row = client.get(url).json()[0]
    assert row["status"] == "closed" and row["status_notes"] == "路灯已修复"
    assert row["expected_datetime"] is None and row["updated_datetime"] >= row["requested_datetime"]
    root = xml(client.get(f"{BASE}/requests/{number}.xml"))
    assert root.findtext("request/status") == "closed" and root.findtext("request/status_notes") == "路灯已修复"
    assert json.dumps(row, ensure_ascii=False).count("内部") == 0


def test_staff_never_pick_the_open311_channel() -> None:
    from gongzhi.cases.views import ADMIN_CHANNELS

    assert "open311" not in ADMIN_CHANNELS and "patrol" in ADMIN_CHANNELS
