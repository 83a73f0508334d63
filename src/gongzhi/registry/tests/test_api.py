"""The registry API: scoped lists, masked personal data, audited reveal, moving house."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.models import AuditLog
from gongzhi.core.privacy import mask_id_number
from gongzhi.registry.choices import TagKind
from gongzhi.registry.models import Person, PersonTag, Residence
from gongzhi.registry.tests.factories import make_id_number, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree, other_tree):  # type: ignore[no-untyped-def]
    mine = make_person(tree.households[0], name="张三", phone="13812345678")
    PersonTag.objects.create(person=mine, tag=TagKind.ELDERLY_ALONE, since="2024-01-01")
    neighbour = make_person(tree.households[1], name="李四", phone="13811112222")
    theirs = make_person(other_tree.households[0], name="王五", phone="13833334444")
    return mine, neighbour, theirs


def test_list_is_scoped_and_masked(tree, people, api):  # type: ignore[no-untyped-def]
    mine = people[0]
    api.as_user(user_with_role(Role.GRID_LEADER, node=tree.grids[0]))
    response = api.get("/api/v1/people")
    assert response.status_code == 200
    body = response.content.decode()
    assert [p["name"] for p in response.json()["items"]] == ["张三"]
    item = response.json()["items"][0]
    assert item["phone_masked"] == "138****5678"
    assert item["id_number_masked"] == mine.id_number[:4] + "*" * 10 + mine.id_number[-4:]
    assert item["tags"][0]["tag"] == TagKind.ELDERLY_ALONE
    for person in people:
        assert person.id_number not in body and person.phone not in body
    assert "李四" not in body and "王五" not in body


def test_detail_is_masked_and_out_of_scope_is_404(tree, people, api):  # type: ignore[no-untyped-def]
    mine, neighbour, theirs = people
    api.as_user(user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]))
    response = api.get(f"/api/v1/people/{mine.pk}")
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.id_number not in body and mine.phone not in body
    assert response.json()["residences"][0]["household_id"] == tree.households[0].pk
    assert response.json()["party_membership"] is None
    assert api.get(f"/api/v1/people/{neighbour.pk}").status_code == 200  # the whole community
    response = api.get(f"/api/v1/people/{theirs.pk}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert theirs.name not in response.content.decode()


def test_reveal_is_in_scope_only_and_audited(tree, people, api):  # type: ignore[no-untyped-def]
    mine, _, theirs = people
    leader = user_with_role(Role.GRID_LEADER, node=tree.grids[0])
    api.as_user(leader)
    response = api.post(f"/api/v1/people/{mine.pk}/reveal", {"field": "id_number"})
    assert response.status_code == 200 and response.json() == {"field": "id_number", "value": mine.id_number}
    assert AuditLog.objects.filter(action="privacy.reveal", actor=leader, object_id=str(mine.pk)).count() == 1
    response = api.post(f"/api/v1/people/{theirs.pk}/reveal", {"field": "phone"})
    assert response.status_code == 404 and theirs.phone not in response.content.decode()
    response = api.post(f"/api/v1/people/{mine.pk}/reveal", {"field": "name"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "field"
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    assert api.post(f"/api/v1/people/{mine.pk}/reveal", {"field": "phone"}).status_code == 403
    assert AuditLog.objects.filter(action="privacy.reveal").count() == 1


def test_create_update_and_field_errors(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    number = make_id_number("210113", "19600808", "222")
    response = api.post(
        "/api/v1/people",
        {
            "name": "赵六",
            "household_id": tree.households[0].pk,
            "id_number": number,
            "phone": "13955556666",
            "population_type": "temporary",
            "room": "101",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["sex"] == "female" and data["birth_date"] == "1960-08-08"
    assert data["population_type_label"] and number not in response.content.decode()
    assert "13955556666" not in response.content.decode()
    bad = number[:6] + "19600230" + number[14:]
    response = api.post("/api/v1/people", {"name": "钱七", "household_id": tree.households[0].pk, "id_number": bad})
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} == {"id_number"}
    response = api.patch(f"/api/v1/people/{data['id']}", {"room": "202", "phone": "13900001111"})
    assert response.status_code == 200 and response.json()["room"] == "202"
    assert response.json()["phone_masked"] == "139****1111"


def test_move_and_household_members(tree, people, api):  # type: ignore[no-untyped-def]
    mine, _, theirs = people
    api.as_user(user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]))
    response = api.get(f"/api/v1/households/{tree.households[0].pk}/members")
    assert [p["name"] for p in response.json()] == ["张三"]
    response = api.post(
        f"/api/v1/people/{mine.pk}/move", {"household_id": tree.households[1].pk, "moved_on": "2025-05-01"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["household_id"] == tree.households[1].pk
    assert Residence.objects.filter(person=mine).count() == 2
    members = api.get(f"/api/v1/households/{tree.households[1].pk}/members").json()
    assert sorted(p["name"] for p in members) == ["张三", "李四"]
    detail = api.get(f"/api/v1/people/{mine.pk}").json()
    assert [(r["household_id"], r["moved_out"]) for r in detail["residences"]] == [
        (tree.households[1].pk, None),
        (tree.households[0].pk, "2025-05-01"),
    ]
    assert api.get(f"/api/v1/households/{tree.buildings[0].pk}/members").status_code == 404
    assert api.get(f"/api/v1/households/{theirs.household_id}/members").status_code == 404
    response = api.post(f"/api/v1/people/{mine.pk}/move", {"household_id": theirs.household_id})
    assert response.status_code == 404


# --- tags -------------------------------------------------------------------------------------------------------------


def test_tag_endpoints(tree, people, api):  # type: ignore[no-untyped-def]
    mine, _, theirs = people
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    response = api.post(f"/api/v1/people/{mine.pk}/tags", {"tag": "disabled", "since": "2025-01-01"})
    assert response.status_code == 201, response.content
    tag_id = response.json()["id"]
    assert api.post(f"/api/v1/people/{mine.pk}/tags", {"tag": "disabled"}).status_code == 409
    response = api.post(f"/api/v1/people/{mine.pk}/tags", {"tag": "other"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "label"
    tags = api.get(f"/api/v1/people/{mine.pk}/tags").json()
    assert sorted(t["tag"] for t in tags) == ["disabled", "elderly_alone"]

    response = api.post(f"/api/v1/people/tags/{tag_id}/end", {"until": "2025-06-30"})
    assert response.status_code == 200 and response.json()["until"] == "2025-06-30"
    assert api.post(f"/api/v1/people/tags/{tag_id}/end", {}).status_code == 409
    open_only = api.get(f"/api/v1/people/{mine.pk}/tags?include_ended=false").json()
    assert [t["tag"] for t in open_only] == ["elderly_alone"]
    assert api.get(f"/api/v1/people/{theirs.pk}/tags").status_code == 404
    assert api.post(f"/api/v1/people/{theirs.pk}/tags", {"tag": "child"}).status_code == 404


# --- party members ----------------------------------------------------------------------------------------------------


def test_party_membership_endpoints(tree, people, api):  # type: ignore[no-untyped-def]
    mine, neighbour, theirs = people
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(staff)
    branch = tree.grids[0].party_orgs.get()
    url = f"/api/v1/people/{mine.pk}/party-membership"
    response = api.post(url, {"member_type": "on_duty", "branch_id": branch.pk})
    assert response.status_code == 201, response.content
    assert response.json()["branch_name"] == branch.name and response.json()["reported_in"] is False
    assert api.post(url, {"member_type": "retired"}).status_code == 409
    response = api.post(f"/api/v1/people/{neighbour.pk}/party-membership", {"member_type": "martian"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "member_type"
    api.post(f"/api/v1/people/{neighbour.pk}/party-membership", {"member_type": "retired"})

    response = api.patch(url, {"reported_in": True, "reported_in_on": "2025-03-01"})  # 双报到
    assert response.status_code == 200 and response.json()["reported_in_on"] == "2025-03-01"
    assert AuditLog.objects.filter(action="registry.party_member_updated").count() == 1

    listing = api.get("/api/v1/people/party-members?reported_in=true").json()
    assert [(m["name"], m["member_type"]) for m in listing["items"]] == [("张三", "on_duty")]
    assert listing["items"][0]["id_number_masked"] == mask_id_number(mine.id_number)
    assert mine.id_number not in json.dumps(listing)
    assert api.get("/api/v1/people/party-members?member_type=retired").json()["count"] == 1
    assert api.get(f"/api/v1/people/party-members?branch_id={branch.pk}").json()["count"] == 1

    assert api.delete(url).status_code == 204
    assert api.get(url.replace("/party-membership", "")).json()["party_membership"] is None
    assert AuditLog.objects.get(action="registry.party_member_removed").before["member_type"] == "on_duty"
    assert api.delete(url).status_code == 404
    assert api.post(f"/api/v1/people/{theirs.pk}/party-membership", {"member_type": "retired"}).status_code == 404

    api.as_user(user_with_role(Role.BUILDING_HEAD, node=tree.buildings[1]))  # sees, may not add
    assert api.patch(f"/api/v1/people/{neighbour.pk}/party-membership", {"reported_in": True}).status_code == 403


# --- households -------------------------------------------------------------------------------------------------------


def test_household_list_and_detail(tree, people, api):  # type: ignore[no-untyped-def]
    mine, _, theirs = people
    make_person(tree.households[0], name="张小三")
    api.as_user(user_with_role(Role.GRID_LEADER, node=tree.grids[0]))
    listing = api.get("/api/v1/households").json()
    assert [(h["id"], h["member_count"]) for h in listing["items"]] == [(tree.households[0].pk, 2)]
    assert listing["items"][0]["address"] == f"{tree.buildings[0].name}1单元101"
    detail = api.get(f"/api/v1/households/{tree.households[0].pk}")
    assert detail.status_code == 200
    assert sorted(m["name"] for m in detail.json()["members"]) == ["张三", "张小三"]
    assert mine.id_number not in detail.content.decode() and mine.phone not in detail.content.decode()
    assert detail.json()["building_name"] == tree.buildings[0].name
    assert api.get(f"/api/v1/households/{theirs.household_id}").status_code == 404
    assert api.get(f"/api/v1/households/{tree.buildings[0].pk}").status_code == 404

    api.as_user(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict))
    assert api.get("/api/v1/households").json()["count"] == 4
    within = api.get(f"/api/v1/households?within_id={tree.communities[1].pk}").json()
    assert [h["id"] for h in within["items"]] == [tree.households[2].pk, tree.households[3].pk]
    assert api.get("/api/v1/households?q=不存在").json()["count"] == 0


# --- imports ----------------------------------------------------------------------------------------------------------


def _upload(api, data: bytes, name: str = "居民.csv", **fields):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/v1/people/imports",
        data={"file": SimpleUploadedFile(name, data, content_type="text/csv"), **fields},
        headers=api.headers,
    )


def test_import_api_report_and_bad_rows(tree, other_tree, api):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(staff)
    good = make_id_number("320102", "19700101", "135")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = (
        "姓名,身份证号,楼栋编号,房号\n"
        f"张三,{good},{tree.buildings[0].code},1单元101\n"
        f"李四,{bad},{tree.buildings[0].code},1单元101\n"
    ).encode("gbk")

    response = _upload(api, data, kind="residents", all_or_nothing="true")
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["applied"], report["created"], report["failed"]) == (False, 0, 1)
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["field"] == "id_number"
    assert report["state"] == "done" and not Person.objects.exists()

    response = _upload(api, data, kind="residents")  # by default: the good rows go in, the bad ones come back
    report = response.json()
    assert (report["applied"], report["created"], report["failed"]) == (True, 1, 1)
    download = api.client.get(report["bad_rows_url"], headers=api.headers)
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "bad-rows.xlsx" in download["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(download.content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["李四"]

    again = api.get(f"/api/v1/people/imports/{report['id']}").json()
    assert again["id"] == report["id"] and again["bad_rows_url"] == report["bad_rows_url"]
    assert [r["id"] for r in api.get("/api/v1/people/imports").json()["items"]] == [report["id"], report["id"] - 1]

    response = _upload(api, data, kind="residents", mapping="{not json")
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "mapping"
    response = _upload(api, b"a,b\n1,2\n", kind="residents")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_failed"

    stranger = user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0])
    api.as_user(stranger)
    assert api.get(f"/api/v1/people/imports/{report['id']}").status_code == 404
    assert api.get(f"/api/v1/people/imports/{report['id']}/bad-rows.xlsx").status_code == 404
    assert api.get("/api/v1/people/imports").json()["count"] == 0

    colleague = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(colleague)  # the same ground: staff of the place find the run
    seen = api.get(f"/api/v1/people/imports/{report['id']}")
    assert seen.status_code == 200 and seen.json()["bad_rows_url"] is None  # full ID numbers: the importer's only
    assert api.get(f"/api/v1/people/imports/{report['id']}/bad-rows.xlsx").status_code == 404

    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    assert _upload(api, data, kind="residents").status_code == 403
