"""XLSX exports: masked by default, revealed only where the user may reveal (and audited), never out of scope."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core import tabular
from gongzhi.core.models import AuditLog
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry import exports, imports
from gongzhi.registry.choices import PartyMemberType, TagKind
from gongzhi.registry.models import OrgContact, PartyMember, PersonTag
from gongzhi.registry.tests.factories import make_id_number, make_person
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body

pytestmark = pytest.mark.django_db


def sheet_rows(data: bytes, index: int = 0) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[index]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def people(tree, other_tree):  # type: ignore[no-untyped-def]
    mine = make_person(tree.households[0], name="张三", phone="13812345678")
    PersonTag.objects.create(person=mine, tag=TagKind.ELDERLY_ALONE, since="2024-01-01")
    PersonTag.objects.create(person=mine, tag=TagKind.OTHER, label="退役军人", since="2024-01-01")
    neighbour = make_person(tree.households[1], name="李四", phone="13811112222")
    other_community = make_person(tree.households[2], name="赵六", phone="13866667777")
    theirs = make_person(other_tree.households[0], name="王五", phone="13833334444")
    return mine, neighbour, other_community, theirs


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


def test_people_export_is_masked_by_default_and_scoped(tree, people, staff):  # type: ignore[no-untyped-def]
    mine = people[0]

    result = exports.export_people(user=staff)

    rows = sheet_rows(result.data)
    assert rows[0] == exports.PEOPLE_HEADERS
    assert [r[0] for r in rows[1:]] == ["张三", "李四"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["张三"][1] == mask_id_number(mine.id_number) and by_name["张三"][2] == "138****5678"
    assert by_name["张三"][6] == tree.buildings[0].code and by_name["张三"][8] == "1单元101"
    assert by_name["张三"][10] == "独居老人、其他:退役军人"
    flat = repr(rows)
    for person in people:
        assert person.id_number not in flat and person.phone not in flat
    assert (result.rows, result.revealed) == (2, 0)
    assert result.file_name.endswith(".xlsx") and result.content_type == exports.CONTENT_TYPE
    assert not AuditLog.objects.filter(action="privacy.export_reveal").exists()


def test_revealed_export_needs_the_right_and_is_audited(tree, people, staff):  # type: ignore[no-untyped-def]
    mine = people[0]

    result = exports.export_people(user=staff, reveal=True, tag=TagKind.ELDERLY_ALONE)

    rows = sheet_rows(result.data)
    assert rows[1][:3] == ["张三", mine.id_number, "13812345678"]
    assert len(rows) == 2 and result.revealed == 1
    record = AuditLog.objects.get(action="privacy.export_reveal")
    assert record.actor == staff and record.node_code == tree.communities[0].code
    assert record.after == {"list": "people", "filters": {"tag": "elderly_alone"}, "rows": 1, "revealed": 1}

    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])  # may see, may not reveal
    masked = sheet_rows(exports.export_people(user=worker, reveal=True).data)
    assert masked[1][1] == mask_id_number(mine.id_number) and masked[1][2] == mask_phone(mine.phone)
    assert AuditLog.objects.filter(action="privacy.export_reveal").count() == 1


def test_unrevealable_rows_stay_masked_in_a_revealed_export(tree, people):  # type: ignore[no-untyped-def]
    mine, neighbour, *_ = people
    user = user_with_role(Role.GRID_LEADER, node=tree.grids[0])  # reveal on grid 1
    RoleAssignment.objects.create(user=user, role=Role.BUILDING_HEAD, node=tree.buildings[1])  # view on grid 2
    user.forget_scope()

    result = exports.export_people(user=user, reveal=True)

    by_name = {r[0]: r for r in sheet_rows(result.data)[1:]}
    assert set(by_name) == {"张三", "李四"}
    assert by_name["张三"][1] == mine.id_number
    assert by_name["李四"][1] == mask_id_number(neighbour.id_number) and by_name["李四"][2] == "138****2222"
    assert result.revealed == 1
    assert AuditLog.objects.get(action="privacy.export_reveal").after["revealed"] == 1


def test_a_revealed_export_imports_back_unchanged(tree, staff):  # type: ignore[no-untyped-def]
    rows = [
        ["张三", make_id_number("320102", "19400101", "111"), "13812345678", "", "", "暂住", tree.buildings[0].code,
         "1单元101", "2001-01-01", "独居老人,其他:退役军人"],
        ["李四", make_id_number("320102", "19900101", "222"), "", "", "", "", tree.buildings[1].name,
         "1单元101室", "", ""],
    ]  # fmt: skip
    header = ["姓名", "身份证号", "联系电话", "性别", "出生日期", "人口类型", "楼栋", "房号", "入住日期", "标签"]
    data = tabular.write_xlsx([("x", header, rows)])
    assert imports.run_import(actor=staff, kind="residents", file_name="a.xlsx", data=data).created == 2

    exported = exports.export_people(user=staff, reveal=True).data
    run = imports.run_import(actor=staff, kind="residents", file_name="export.xlsx", data=exported)

    assert run.errors == []
    assert (run.created, run.updated, run.unchanged) == (0, 0, 2)


def test_households_export(tree, people, staff):  # type: ignore[no-untyped-def]
    rows = sheet_rows(exports.export_households(user=staff).data)
    assert rows[0] == exports.HOUSEHOLD_HEADERS
    assert [(r[0], r[5]) for r in rows[1:]] == [(tree.households[0].code, 1), (tree.households[1].code, 1)]
    assert rows[1][4] == f"{tree.buildings[0].name}1单元101"


def test_party_members_export(tree, people, staff):  # type: ignore[no-untyped-def]
    mine, _, _, theirs = people
    PartyMember.objects.create(person=mine, member_type=PartyMemberType.ON_DUTY, reported_in=True)
    PartyMember.objects.create(person=theirs, member_type=PartyMemberType.RETIRED)

    rows = sheet_rows(exports.export_party_members(user=staff).data)

    assert rows[0] == exports.PARTY_HEADERS
    assert rows[1:] == [["张三", mask_id_number(mine.id_number), "138****5678", "在职", None, None, "是", None,
                         f"{tree.buildings[0].name}1单元101"]]  # fmt: skip
    revealed = exports.export_party_members(user=staff, reveal=True, member_type=PartyMemberType.ON_DUTY)
    assert sheet_rows(revealed.data)[1][1] == mine.id_number
    assert AuditLog.objects.get(action="privacy.export_reveal").after["list"] == "party_members"


def test_organisations_export_masks_phones(tree, other_tree, staff):  # type: ignore[no-untyped-def]
    unit = Body.objects.create(
        name="道义中学", kind=BodyKind.SCHOOL, node=tree.communities[0], contact_phone="13812340000"
    )
    OrgContact.objects.create(body=unit, name="刘老师", phone="13955556666", is_primary=True)
    Body.objects.create(name="外区医院", kind=BodyKind.HOSPITAL, node=other_tree.communities[0])

    masked = exports.export_organisations(user=staff)
    assert sheet_rows(masked.data, 1)[1] == ["道义中学", "刘老师", None, "139****6666", None, "是"]
    assert not AuditLog.objects.filter(action="privacy.export_reveal").exists()

    # Staff may reveal the contacts' phones, not the organisation's own phone (that is the admins' right).
    result = exports.export_organisations(user=staff, reveal=True)
    organisations, contacts = sheet_rows(result.data, 0), sheet_rows(result.data, 1)
    assert [r[0] for r in organisations[1:]] == ["道义中学"]
    assert organisations[1][5] == "138****0000" and organisations[1][1] == "学校"
    assert contacts[1] == ["道义中学", "刘老师", None, "13955556666", None, "是"]
    assert result.revealed == 1
    AuditLog.objects.filter(action="privacy.export_reveal").delete()

    admin = user_with_role(Role.ADMIN)
    clear = exports.export_organisations(user=admin, reveal=True, kind=BodyKind.SCHOOL)
    assert sheet_rows(clear.data, 1)[1][3] == "13955556666"
    assert AuditLog.objects.get(action="privacy.export_reveal").after["filters"] == {"kind": "school"}


def test_export_api_sends_a_file(tree, people, staff, api):  # type: ignore[no-untyped-def]
    api.as_user(staff)

    response = api.get("/api/v1/people/export.xlsx?reveal=true&q=张")

    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    rows = sheet_rows(response.content)
    assert [r[0] for r in rows[1:]] == ["张三"] and rows[1][1] == people[0].id_number
    for url in ("/api/v1/households/export.xlsx", "/api/v1/organisations/export.xlsx",
                "/api/v1/people/party-members/export.xlsx"):  # fmt: skip
        response = api.get(url)
        assert response.status_code == 200 and response["Content-Type"] == exports.CONTENT_TYPE, url
    assert api.get(f"/api/v1/people/export.xlsx?within_id={people[3].household_id}").status_code == 404


def test_organisations_export_reveals_exactly_what_the_single_reveal_shows(tree, staff, api):  # type: ignore[no-untyped-def]
    """Community staff see the organisations placed above their ground (the subdistrict's) and those without a
    place, but may reveal only the contacts of their own ground: the export with reveal=true and the single
    reveal give the same answer for every contact."""
    own = Body.objects.create(name="府东小学", kind=BodyKind.SCHOOL, node=tree.communities[0])
    above = Body.objects.create(name="街道卫生中心", kind=BodyKind.HOSPITAL, node=tree.subdistrict)
    nowhere = Body.objects.create(name="区属企业", kind=BodyKind.ENTERPRISE)
    phones = {own: "13900000001", above: "13900000002", nowhere: "13900000003"}
    contacts = {b: OrgContact.objects.create(body=b, name=f"{b.name}联系人", phone=p) for b, p in phones.items()}
    api.as_user(staff)

    response = api.get("/api/v1/organisations/export.xlsx?reveal=true")
    assert response.status_code == 200
    exported = {row[0]: row[3] for row in sheet_rows(response.content, 1)[1:]}
    assert set(exported) == {b.name for b in phones}, "all three are listed (to look at)"
    for body, contact in contacts.items():
        single = api.post(f"/api/v1/organisations/{body.pk}/contacts/{contact.pk}/reveal")
        if body is own:
            assert single.status_code == 200 and exported[body.name] == phones[body] == single.json()["value"]
        else:
            assert single.status_code == 403, body.name
            assert exported[body.name] == mask_phone(phones[body]), f"{body.name} unmasked by the export"
    assert AuditLog.objects.get(action="privacy.export_reveal").after["revealed"] == 1
