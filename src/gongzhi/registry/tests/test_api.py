"""The registry API: scoped lists, masked personal data, audited reveal, moving house."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.models import AuditLog
from gongzhi.registry.choices import TagKind
from gongzhi.registry.models import PersonTag, Residence
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
        {"name": "赵六", "household_id": tree.households[0].pk, "id_number": number, "phone": "13955556666",
         "population_type": "temporary", "room": "101"},
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
    response = api.post(f"/api/v1/people/{mine.pk}/move", {"household_id": tree.households[1].pk,
                                                          "moved_on": "2025-05-01"})
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
