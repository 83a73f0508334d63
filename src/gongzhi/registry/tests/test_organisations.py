"""Organisations (bodies of the organisation kinds), their contacts and co-building agreements: services and API,
scope, masking of phones and audited reveal."""

from __future__ import annotations

import datetime
import json

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.registry import selectors, services
from gongzhi.registry.models import OrgContact
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(tree):  # type: ignore[no-untyped-def]
    return Body.objects.create(
        name="道义供电公司", kind=BodyKind.CO_BUILDING_UNIT, node=tree.communities[0], contact_phone="13812345678"
    )


@pytest.fixture
def foreign(other_tree):  # type: ignore[no-untyped-def]
    return Body.objects.create(name="外区企业", kind=BodyKind.ENTERPRISE, node=other_tree.communities[0])


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


# --- organisations ----------------------------------------------------------------------------------------------------


def test_create_and_update_organisation(tree, operator, staff):  # type: ignore[no-untyped-def]
    body = services.create_organisation(
        actor=operator, name=" 道义中学 ", kind=BodyKind.SCHOOL, node_id=tree.communities[1].pk,
        contact_name="刘老师", contact_phone="13900001111",
    )  # fmt: skip
    assert (body.name, body.node) == ("道义中学", tree.communities[1])
    with pytest.raises(ValidationFailed) as info:
        services.create_organisation(actor=operator, name="街道办", kind=BodyKind.SUBDISTRICT_OFFICE)
    assert info.value.details[0].field == "kind"
    with pytest.raises(ValidationFailed):
        services.create_organisation(actor=operator, name="道义中学", kind=BodyKind.SCHOOL, node_id=tree.grids[0].pk)
    with pytest.raises(Forbidden):  # community staff hold view only on bodies
        services.create_organisation(actor=staff, name="新企业", kind=BodyKind.ENTERPRISE, node_id=tree.grids[0].pk)

    services.update_organisation(actor=operator, body_id=body.pk, contact_phone="13955556666", description="初中")
    body.refresh_from_db()
    assert (body.contact_phone, body.description) == ("13955556666", "初中")
    record = AuditLog.objects.get(action="territory.body_updated")
    assert record.before["contact_phone"] == "139****1111" and record.after["contact_phone"] == "139****6666"
    assert "13955556666" not in json.dumps(record.after)
    with pytest.raises(NotFound):  # 社区2 is out of the staff member's scope
        services.update_organisation(actor=staff, body_id=body.pk, description="x")
    near = services.create_organisation(actor=operator, name="幼儿园", kind=BodyKind.SCHOOL, node_id=tree.grids[0].pk)
    with pytest.raises(Forbidden):  # in scope, but view only on bodies
        services.update_organisation(actor=staff, body_id=near.pk, description="x")
    with pytest.raises(NotFound):  # a residents' committee is not an organisation here
        services.update_organisation(actor=operator, body_id=tree.committees[0].pk, description="x")


def test_organisation_list_is_scoped(tree, unit, foreign, staff):  # type: ignore[no-untyped-def]
    assert [b.name for b in selectors.organisation_list(user=staff)] == ["道义供电公司"]
    with pytest.raises(NotFound):
        selectors.organisation_get(user=staff, body_id=foreign.pk)
    assert list(selectors.organisation_list(user=staff, kind=BodyKind.SCHOOL)) == []


# --- contacts ---------------------------------------------------------------------------------------------------------


def test_contacts_add_update_remove_and_one_primary(tree, unit, staff):  # type: ignore[no-untyped-def]
    first = services.add_contact(actor=staff, body_id=unit.pk, name="周经理", phone="13811112222", is_primary=True)
    second = services.add_contact(
        actor=staff, body_id=unit.pk, name="吴主任", phone="13833334444", email="wu@example.cn", is_primary=True
    )
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    assert [c.name for c in selectors.contact_list(user=staff, body_id=unit.pk)] == ["吴主任", "周经理"]

    services.update_contact(actor=staff, contact_id=first.pk, title="经理", phone="13899990000")
    first.refresh_from_db()
    assert (first.title, first.phone) == ("经理", "13899990000")
    update = AuditLog.objects.get(action="registry.contact_updated")
    assert update.after["phone"] == "138****0000" and "13899990000" not in json.dumps(update.after)

    with pytest.raises(ValidationFailed) as info:
        services.add_contact(actor=staff, body_id=unit.pk, name="", phone="电话", email="not-mail")
    assert {d.field for d in info.value.details} == {"name", "phone", "email"}

    services.remove_contact(actor=staff, contact_id=first.pk)
    assert not OrgContact.objects.filter(pk=first.pk).exists()
    assert AuditLog.objects.get(action="registry.contact_removed").before["name"] == "周经理"


def test_contacts_out_of_scope_and_reveal(tree, unit, foreign, staff):  # type: ignore[no-untyped-def]
    theirs = OrgContact.objects.create(body=foreign, name="外人", phone="13800000000")
    with pytest.raises(NotFound):
        services.add_contact(actor=staff, body_id=foreign.pk, name="x")
    with pytest.raises(NotFound):
        services.update_contact(actor=staff, contact_id=theirs.pk, name="y")
    mine = services.add_contact(actor=staff, body_id=unit.pk, name="周经理", phone="13811112222")
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    with pytest.raises((Forbidden, NotFound)):  # grid workers see contacts, they do not reveal them
        services.reveal_contact_phone(actor=worker, contact_id=mine.pk)
    assert services.reveal_contact_phone(actor=staff, contact_id=mine.pk) == "13811112222"
    admin = user_with_role(Role.ADMIN)
    assert services.reveal_contact_phone(actor=admin, contact_id=mine.pk) == "13811112222"
    assert AuditLog.objects.filter(action="privacy.reveal", object_id=str(mine.pk), actor=admin).count() == 1
    unit_user = user_with_role(Role.CO_BUILDING_UNIT, body=unit)
    assert [c.pk for c in selectors.contact_list(user=unit_user, body_id=unit.pk)] == [mine.pk]
    with pytest.raises(Forbidden):
        services.add_contact(actor=unit_user, body_id=unit.pk, name="x")


# --- agreements -------------------------------------------------------------------------------------------------------


def test_agreement_create_update_end(tree, unit, staff):  # type: ignore[no-untyped-def]
    party = tree.communities[0].party_orgs.get()
    row = services.create_agreement(
        actor=staff, unit_id=unit.pk, partner_id=tree.communities[0].pk, party_org_id=party.pk,
        title="党建共建协议", signed_on=datetime.date(2025, 1, 5), starts=datetime.date(2025, 1, 1),
        ends=datetime.date(2027, 12, 31), commitments=["提供活动场地", " ", "志愿服务每月一次"],
    )  # fmt: skip
    assert row.commitments == ["提供活动场地", "志愿服务每月一次"] and row.is_active and row.party_org == party
    with pytest.raises(ValidationFailed) as info:
        services.create_agreement(
            actor=staff, unit_id=unit.pk, partner_id=tree.grids[0].pk, title="x",
            signed_on=datetime.date(2025, 1, 1), starts=datetime.date(2025, 1, 1),
        )  # fmt: skip
    assert info.value.details[0].field == "partner_id"
    with pytest.raises(ValidationFailed) as info:
        services.create_agreement(
            actor=staff, unit_id=unit.pk, partner_id=tree.communities[0].pk, title="",
            signed_on=datetime.date(2025, 1, 1), starts=datetime.date(2025, 2, 1), ends=datetime.date(2025, 1, 1),
        )  # fmt: skip
    assert {d.field for d in info.value.details} == {"title", "ends"}
    with pytest.raises(NotFound):  # another community's partner node is out of scope
        services.create_agreement(
            actor=staff, unit_id=unit.pk, partner_id=tree.communities[1].pk, title="x",
            signed_on=datetime.date(2025, 1, 1), starts=datetime.date(2025, 1, 1),
        )  # fmt: skip

    services.update_agreement(actor=staff, agreement_id=row.pk, commitments=["提供活动场地"], party_org_id=None)
    row.refresh_from_db()
    assert row.commitments == ["提供活动场地"] and row.party_org is None

    services.end_agreement(actor=staff, agreement_id=row.pk, ends=datetime.date(2025, 6, 30))
    row.refresh_from_db()
    assert (row.is_active, row.ends) == (False, datetime.date(2025, 6, 30))
    with pytest.raises(Conflict):
        services.end_agreement(actor=staff, agreement_id=row.pk)
    assert list(AuditLog.objects.filter(object_id=str(row.pk), object_type="registry.cobuildingagreement")
                .order_by("id").values_list("action", flat=True)) == [
        "registry.agreement_created", "registry.agreement_updated", "registry.agreement_ended",
    ]  # fmt: skip


# --- the API ----------------------------------------------------------------------------------------------------------


def test_organisations_api(tree, unit, foreign, operator, staff, api):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = api.post(
        "/api/v1/organisations",
        {"name": "道义医院", "kind": "hospital", "node_id": tree.communities[0].pk, "contact_phone": "13912345678"},
    )
    assert response.status_code == 201, response.content
    hospital = response.json()
    assert hospital["contact_phone_masked"] == "139****5678" and "13912345678" not in response.content.decode()
    response = api.patch(f"/api/v1/organisations/{hospital['id']}", {"description": "二级医院"})
    assert response.status_code == 200 and response.json()["description"] == "二级医院"
    response = api.post("/api/v1/organisations", {"name": "x", "kind": "court"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "kind"

    api.as_user(staff)
    listing = api.get("/api/v1/organisations").json()
    assert {o["name"] for o in listing["items"]} == {"道义供电公司", "道义医院"}
    assert "13812345678" not in json.dumps(listing)
    assert api.get("/api/v1/organisations?kind=hospital").json()["count"] == 1
    assert api.get(f"/api/v1/organisations/{foreign.pk}").status_code == 404
    assert api.get(f"/api/v1/organisations/{tree.committees[0].pk}").status_code == 404
    assert api.patch(f"/api/v1/organisations/{unit.pk}", {"description": "x"}).status_code == 403


def test_contacts_api_masks_phones(tree, unit, foreign, staff, api):  # type: ignore[no-untyped-def]
    api.as_user(staff)
    url = f"/api/v1/organisations/{unit.pk}/contacts"
    response = api.post(url, {"name": "周经理", "phone": "13811112222", "is_primary": True})
    assert response.status_code == 201, response.content
    contact = response.json()
    assert contact["phone_masked"] == "138****2222" and "13811112222" not in response.content.decode()
    listing = api.get(url)
    assert [c["name"] for c in listing.json()] == ["周经理"] and "13811112222" not in listing.content.decode()
    response = api.patch(f"{url}/{contact['id']}", {"title": "经理"})
    assert response.status_code == 200 and response.json()["title"] == "经理"
    revealed = api.post(f"{url}/{contact['id']}/reveal")
    assert revealed.status_code == 200 and revealed.json()["value"] == "13811112222"
    assert api.get(f"/api/v1/organisations/{foreign.pk}/contacts").status_code == 404
    assert api.patch(f"/api/v1/organisations/{foreign.pk}/contacts/{contact['id']}", {"title": "x"}).status_code == 404

    api.as_user(user_with_role(Role.ADMIN))
    response = api.post(f"{url}/{contact['id']}/reveal")
    assert response.json() == {"field": "phone", "value": "13811112222"}
    assert AuditLog.objects.filter(action="privacy.reveal", object_type="registry.orgcontact").count() == 2

    api.as_user(staff)
    assert api.delete(f"{url}/{contact['id']}").status_code == 204
    assert api.get(url).json() == []


def test_agreements_api(tree, unit, staff, api):  # type: ignore[no-untyped-def]
    api.as_user(staff)
    url = f"/api/v1/organisations/{unit.pk}/agreements"
    response = api.post(
        url,
        {"partner_id": tree.communities[0].pk, "title": "共建协议", "signed_on": "2025-01-05", "starts": "2025-01-01",
         "commitments": ["场地", "志愿者"]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    agreement = response.json()
    assert agreement["partner_name"] == tree.communities[0].name and agreement["commitments"] == ["场地", "志愿者"]
    response = api.patch(f"{url}/{agreement['id']}", {"title": "党建共建协议"})
    assert response.status_code == 200 and response.json()["title"] == "党建共建协议"
    response = api.post(f"{url}/{agreement['id']}/end", {"ends": "2025-12-31"})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api.post(f"{url}/{agreement['id']}/end", {}).status_code == 409
    assert [a["id"] for a in api.get(f"{url}?active=false").json()] == [agreement["id"]]
    assert api.get(f"{url}?active=true").json() == []

    unit_user = user_with_role(Role.CO_BUILDING_UNIT, body=unit)
    api.as_user(unit_user)
    assert [a["id"] for a in api.get(url).json()] == [agreement["id"]]
    assert api.get(f"{url}/{agreement['id']}").json()["title"] == "党建共建协议"
    assert api.patch(f"{url}/{agreement['id']}", {"title": "x"}).status_code == 403

    other = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])
    api.as_user(other)
    assert api.get(f"{url}/{agreement['id']}").status_code == 404
    assert api.patch(f"{url}/{agreement['id']}", {"title": "x"}).status_code == 404
