"""Registry imports: all good, some bad (nothing imported / good rows only with a bad-rows XLSX), idempotency,
changes, encodings, mappings, scope and permissions, households, party members and organisations."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core import tabular
from gongzhi.core.errors import Forbidden, ValidationFailed
from gongzhi.core.messages import stored
from gongzhi.core.models import AuditLog
from gongzhi.registry import imports
from gongzhi.registry.choices import PartyMemberType, PopulationType, TagKind
from gongzhi.registry.models import ImportRun, PartyMember, Person, PersonTag, Residence
from gongzhi.registry.tests.factories import make_id_number, make_person
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号", "联系电话", "性别", "出生日期", "人口类型", "楼栋", "房号", "入住日期", "标签"]
ID_A = make_id_number("320102", "19500101", "111")  # male (1 is odd)
ID_B = make_id_number("320102", "19880808", "222")  # female
ID_C = make_id_number("320102", "20150601", "333")


def bad_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def csv_bytes(rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def good_rows(tree) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    b1, b2 = tree.buildings[0].name, tree.buildings[1].code
    return [
        ["张大爷", ID_A, "13812345678", "男", "1950-01-01", "户籍", b1, "1单元101", "2010-05-01", "独居老人、残疾人"],
        ["李梅", ID_B, "13900001111", "女", "", "暂住", b1, "1单元102", "", ""],
        ["王小明", ID_C, "", "", "", "流动", b2, "1单元101室", "2020/3/1", "儿童"],
    ]


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


def run(actor, rows, kind="residents", **kwargs) -> ImportRun:  # type: ignore[no-untyped-def]
    data = kwargs.pop("data", None)
    if data is None:
        data = csv_bytes(rows, kwargs.pop("header", HEADER))
    return imports.run_import(
        actor=actor, kind=kind, file_name=kwargs.pop("file_name", "居民.csv"), data=data, **kwargs
    )


def errors_of(result: ImportRun) -> list[tuple[int, str]]:
    return [(e["row"], e.get("field")) for e in result.errors]


# --- residents ------------------------------------------------------------------------------------------------------


def test_all_good_residents(tree, staff):  # type: ignore[no-untyped-def]
    result = run(staff, good_rows(tree))

    assert result.errors == []
    assert (result.applied, result.total_rows, result.created, result.updated, result.failed) == (True, 3, 3, 0, 0)
    assert result.node_code == tree.communities[0].code
    old = Person.objects.get(id_number=ID_A)
    assert (old.name, old.sex, old.birth_date, old.population_type) == (
        "张大爷", "male", datetime.date(1950, 1, 1), PopulationType.REGISTERED,
    )  # fmt: skip
    assert old.household == tree.households[0]
    assert old.residences.get().moved_in == datetime.date(2010, 5, 1)
    assert sorted(old.tags.values_list("tag", flat=True)) == [TagKind.DISABLED, TagKind.ELDERLY_ALONE]
    # A room the building did not have becomes a household node under it.
    new_room = Person.objects.get(id_number=ID_B).household
    assert (new_room.kind, new_room.parent, new_room.name) == (NodeKind.HOUSEHOLD, tree.buildings[0], "1单元102")
    assert Person.objects.get(id_number=ID_B).population_type == PopulationType.TEMPORARY
    # By building code, and "室" after the room does not matter.
    child = Person.objects.get(id_number=ID_C)
    assert child.household == tree.households[1] and child.population_type == PopulationType.FLOATING
    assert child.tags.get().tag == TagKind.CHILD

    summary = AuditLog.objects.get(action="registry.imported")
    assert summary.after["created"] == 3 and summary.after["households_created"] == 1
    assert summary.node_code == tree.communities[0].code
    created = AuditLog.objects.filter(action="registry.person_created")
    assert created.count() == 3
    for record in created:
        assert ID_A not in json.dumps(record.after) and "13812345678" not in json.dumps(record.after)


def test_some_bad_rows_import_nothing_and_name_every_problem(tree, other_tree, staff):  # type: ignore[no-untyped-def]
    b1 = tree.buildings[0].name
    rows = [
        *good_rows(tree),  # rows 2-4 are good
        ["钱七", bad_checksum(make_id_number(serial="444")), "", "", "", "", b1, "1单元101", "", ""],  # row 5
        ["孙八", make_id_number(serial="555"), "", "", "", "", "不存在的楼", "1单元101", "", ""],  # row 6
        ["周九", make_id_number(serial="666"), "", "", "1970-02-30", "", b1, "1单元101", "", ""],  # row 7
        ["吴十", make_id_number(serial="777"), "", "", "", "外星人", b1, "1单元101", "", ""],  # row 8
        ["郑一", make_id_number(serial="888"), "", "", "", "", b1, "1单元101", "", ""],  # row 9
        ["郑一", make_id_number(serial="888"), "", "", "", "", b1, "1单元101", "", ""],  # row 10: same person
        ["冯二", make_id_number(serial="999"), "", "", "", "", other_tree.buildings[0].code, "1单元101", "", ""],
        ["陈三", make_id_number(serial="121"), "", "", "", "", b1, "1单元101", "", "外星人"],  # row 12
        ["", make_id_number(serial="131"), "", "", "", "", b1, "1单元101", "2999-01-01", ""],  # row 13
    ]

    result = run(staff, rows, good_rows_only=False)  # all or nothing

    assert result.applied is False
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert result.total_rows == 12 and result.failed == 9
    assert not Person.objects.exists()
    assert not Node.objects.filter(name="1单元102").exists()  # no household created either
    found = errors_of(result)
    for expected in [
        (5, "id_number"),
        (6, "building"),
        (7, "birth_date"),
        (8, "population_type"),
        (9, "id_number"),
        (10, "id_number"),
        (11, "building"),
        (12, "tags"),
        (13, "name"),
        (13, "moved_in"),
    ]:
        assert expected in found, (expected, found)
    messages = {(e["row"], e["field"]): stored(e["message"]) for e in result.errors}
    assert "checksum" in messages[(5, "id_number")]
    assert "不存在的楼" in messages[(6, "building")]
    assert "rows 9, 10" in messages[(9, "id_number")]
    assert "out of your scope" in messages[(11, "building")]
    assert ImportRun.objects.get() == result
    assert result.bad_rows is not None  # the bad rows come back as a file in either mode, to fix and import again
    assert AuditLog.objects.filter(action="registry.imported").get().after["applied"] is False


def test_id_checksum_error_names_the_row(tree, staff):  # type: ignore[no-untyped-def]
    rows = good_rows(tree)
    rows[1][1] = bad_checksum(ID_B)

    result = run(staff, rows, good_rows_only=False)

    assert [(e["row"], e["field"]) for e in result.errors] == [(3, "id_number")]
    assert "GB 11643" in stored(result.errors[0]["message"])
    assert result.applied is False and not Person.objects.exists()


def test_good_rows_only_imports_the_good_and_returns_the_bad_as_xlsx(tree, staff):  # type: ignore[no-untyped-def]
    b1 = tree.buildings[0].name
    bad_id = bad_checksum(make_id_number(serial="444"))
    rows = [
        good_rows(tree)[0],
        ["钱七", bad_id, "13811112222", "", "", "", b1, "1单元101", "", ""],
        good_rows(tree)[1],
        ["孙八", make_id_number(serial="555"), "", "", "", "", "不存在的楼", "1单元101", "", ""],
    ]

    result = run(staff, rows, good_rows_only=True, data=xlsx_bytes(rows), file_name="居民.xlsx")

    assert result.applied is True
    assert (result.created, result.failed) == (2, 2)
    assert set(Person.objects.values_list("id_number", flat=True)) == {ID_A, ID_B}
    sheet = load_workbook(io.BytesIO(bytes(result.bad_rows))).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == [*HEADER, imports.ERROR_HEADER]
    assert [r[0] for r in table[1:]] == ["钱七", "孙八"]
    assert table[1][1] == bad_id and table[1][2] == "13811112222"  # the original cells, to fix and re-import
    assert "ID number:" in table[1][-1] and "Building:" in table[2][-1]  # the labels, not our names
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"


def test_same_file_twice_changes_nothing(tree, staff):  # type: ignore[no-untyped-def]
    data = xlsx_bytes(good_rows(tree))
    first = run(staff, [], data=data, file_name="a.xlsx")
    audit_count, residences = AuditLog.objects.count(), Residence.objects.count()
    nodes, tags = Node.objects.count(), PersonTag.objects.count()

    second = run(staff, [], data=data, file_name="a.xlsx")

    assert first.created == 3
    assert (second.applied, second.created, second.updated, second.unchanged, second.failed) == (True, 0, 0, 3, 0)
    assert (Residence.objects.count(), Node.objects.count(), PersonTag.objects.count()) == (residences, nodes, tags)
    assert AuditLog.objects.count() == audit_count + 1  # only the import's own record
    assert Person.objects.count() == 3


def test_a_changed_row_updates_and_is_audited_masked(tree, staff):  # type: ignore[no-untyped-def]
    rows = good_rows(tree)
    rows[1][8] = "2015-01-01"
    run(staff, rows)
    rows[0][2] = "13899998888"  # new phone
    rows[1][6], rows[1][7] = tree.buildings[1].name, "1单元101"  # moved
    rows[1][8] = "2024-01-01"
    rows[2][9] = "儿童,残疾人"  # one more tag

    result = run(staff, rows)

    assert (result.created, result.updated, result.unchanged) == (0, 3, 0)
    assert Person.objects.get(id_number=ID_A).phone == "13899998888"
    moved = Person.objects.get(id_number=ID_B)
    assert moved.household == tree.households[1]
    assert [(r.household_id, r.moved_out) for r in moved.residences.order_by("moved_in")] == [
        (moved.residences.order_by("moved_in")[0].household_id, datetime.date(2024, 1, 1)),
        (tree.households[1].pk, None),
    ]
    assert set(Person.objects.get(id_number=ID_C).tags.values_list("tag", flat=True)) == {"child", "disabled"}
    update = AuditLog.objects.get(
        action="registry.person_updated", object_id=str(Person.objects.get(id_number=ID_A).pk)
    )
    assert update.before["phone"] == "138****5678" and update.after["phone"] == "138****8888"
    assert AuditLog.objects.filter(action="registry.person_moved").count() == 1
    rows[1][6], rows[1][8] = tree.buildings[0].name, "2023-12-31"  # back, before the last move: refused
    refused = run(staff, rows)
    assert errors_of(refused) == [(3, "moved_in")] and "2024-01-01" in stored(refused.errors[0]["message"])


def test_gbk_csv(tree, staff):  # type: ignore[no-untyped-def]
    data = csv_bytes(good_rows(tree), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    result = run(staff, [], data=data)

    assert result.created == 3 and Person.objects.get(id_number=ID_A).name == "张大爷"


def test_mapping_overrides_the_headers(tree, staff):  # type: ignore[no-untyped-def]
    header = ["居民", "证件", "手机", "楼", "室", "联系电话"]
    rows = [["张大爷", ID_A, "13812345678", tree.buildings[0].code, "1单元101", "不是电话"]]
    mapping = {"name": "居民", "id_number": "证件", "phone": "手机", "building": "楼", "room": "室"}

    result = run(staff, rows, header=header, mapping=mapping)

    assert result.errors == [] and result.created == 1
    assert Person.objects.get().phone == "13812345678"
    with pytest.raises(ValidationFailed) as info:
        run(staff, rows, header=header, mapping={"colour": "颜色", "room": "不存在"})
    assert {d.field for d in info.value.details} >= {"mapping.colour", "mapping.room", "name"}


def test_file_problems_raise_and_record_nothing(tree, staff, monkeypatch):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="lacks required columns"):
        run(staff, [["张三"]], header=["姓名"])
    with pytest.raises(ValidationFailed, match="empty"):
        run(staff, [], data=b"")
    with pytest.raises(ValidationFailed, match="no rows"):
        run(staff, [])
    with pytest.raises(ValidationFailed, match="kind"):
        run(staff, good_rows(tree), kind="cats")
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    with pytest.raises(ValidationFailed, match="too many rows"):
        run(staff, good_rows(tree))
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    with pytest.raises(ValidationFailed, match="too large"):
        run(staff, good_rows(tree))
    assert not ImportRun.objects.exists()


def test_id_numbers_stored_as_numbers_are_refused(tree, staff):  # type: ignore[no-untyped-def]
    rows = good_rows(tree)[:1]
    rows[0][1] = float(ID_A[:17] + "0")  # what Excel does to an 18-digit number
    result = run(staff, [], data=xlsx_bytes(rows))
    assert "format the column as text" in stored(result.errors[0]["message"])


# --- scope and permissions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.GRID_LEADER, Role.BUILDING_HEAD])
def test_only_staff_import(tree, role):  # type: ignore[no-untyped-def]
    user = user_with_role(role, node=tree.grids[0])
    with pytest.raises(Forbidden):
        run(user, good_rows(tree))
    assert not ImportRun.objects.exists() and not Person.objects.exists()


def test_rows_outside_the_community_are_bad_rows(tree, staff):  # type: ignore[no-untyped-def]
    rows = good_rows(tree)
    rows[2][6] = tree.buildings[2].code  # 社区2: another community of the same subdistrict

    result = run(staff, rows, good_rows_only=True)

    assert errors_of(result) == [(4, "building")]
    assert "out of your scope" in stored(result.errors[0]["message"])
    assert result.created == 2


def test_a_person_registered_elsewhere_is_not_taken_over(tree, other_tree, staff):  # type: ignore[no-untyped-def]
    elsewhere = make_person(other_tree.households[0], name="王五", id_number=ID_A)

    result = run(staff, good_rows(tree)[:1])

    assert errors_of(result) == [(2, "id_number")]
    assert "out of your scope" in stored(result.errors[0]["message"])
    elsewhere.refresh_from_db()
    assert elsewhere.household == other_tree.households[0] and elsewhere.name == "王五"


def test_operator_imports_the_whole_subdistrict(tree, operator):  # type: ignore[no-untyped-def]
    rows = good_rows(tree)
    rows[2][6] = tree.buildings[3].code
    result = run(operator, rows)
    assert result.created == 3 and result.node_code == tree.subdistrict.code


# --- households, party members, organisations ------------------------------------------------------------------------


def test_households_import_creates_and_is_idempotent(tree, staff):  # type: ignore[no-untyped-def]
    header = ["楼栋编号", "房号", "户主", "地址"]
    rows = [
        [tree.buildings[0].code, "1单元101", "张大爷", ""],  # exists
        [tree.buildings[0].code, "2单元201", "李梅", "幸福路1号2单元201"],
        [tree.buildings[1].name, "2单元202", "", ""],
        [tree.buildings[2].code, "1单元101", "", ""],  # another community: bad
    ]

    first = run(staff, rows, kind="households", header=header, good_rows_only=True)

    assert (first.created, first.unchanged, first.failed) == (2, 1, 1)
    assert errors_of(first) == [(5, "building")]
    new = Node.objects.get(parent=tree.buildings[0], name="2单元201")
    assert new.kind == NodeKind.HOUSEHOLD and new.address == "幸福路1号2单元201"
    assert new.code.startswith(tree.buildings[0].code) and len(new.code) == 23
    again = run(staff, rows[:3], kind="households", header=header)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows[1][3] = "幸福路1号2单元201室"
    changed = run(staff, rows[:3], kind="households", header=header)
    assert changed.updated == 1
    duplicate = run(staff, [rows[0], rows[0]], kind="households", header=header)
    assert errors_of(duplicate) == [(2, "room"), (3, "room")]


def test_party_members_import(tree, staff):  # type: ignore[no-untyped-def]
    first = make_person(tree.households[0], name="张党员", id_number=ID_A)
    make_person(tree.households[1], name="李党员", id_number=ID_B)
    unit = Body.objects.create(name="道义供电公司", kind=BodyKind.CO_BUILDING_UNIT, node=tree.communities[0])
    branch = tree.grids[0].party_orgs.get()
    header = ["身份证号", "姓名", "党员类型", "所在支部", "工作单位", "双报到", "报到日期"]
    rows = [
        [ID_A, "张党员", "在职", branch.name, unit.name, "是", "2024-03-01"],
        [ID_B, "", "离退休", "", "", "", ""],
        [ID_C, "", "社区", "", "", "", ""],  # not in the registry
        [make_id_number(serial="432"), "", "外星", "不存在的支部", "", "也许", ""],
    ]

    result = run(staff, rows, kind="party_members", header=header, good_rows_only=True)

    assert (result.created, result.failed) == (2, 2)
    found = errors_of(result)
    assert (4, "id_number") in found and "residents first" in stored(result.errors[0]["message"])
    assert {(5, "member_type"), (5, "branch"), (5, "reported_in")} <= set(found)
    member = PartyMember.objects.get(person=first)
    assert (member.member_type, member.branch, member.work_unit) == (PartyMemberType.ON_DUTY, branch, unit)
    assert member.reported_in and member.reported_in_on == datetime.date(2024, 3, 1)

    again = run(staff, rows[:2], kind="party_members", header=header)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    rows[1][5] = "是"
    rows[1][0] = rows[1][0].lower()
    changed = run(staff, rows[:2], kind="party_members", header=header)
    assert changed.updated == 1 and PartyMember.objects.get(person__id_number=ID_B).reported_in
    rows[0][1] = "别人"
    mismatch = run(staff, rows[:1], kind="party_members", header=header)
    assert errors_of(mismatch) == [(2, "name")]


def test_organisations_import(tree, other_tree, operator, staff):  # type: ignore[no-untyped-def]
    header = ["名称", "类型", "所在地点", "联系人", "联系电话", "简介"]
    rows = [
        ["道义中学", "学校", tree.communities[0].code, "刘老师", "024-88880000", "区属初中"],
        ["道义医院", "医院", "社区2", "", "", ""],
        ["道义供电公司", "共建单位", tree.subdistrict.code, "周经理", "13812345678", ""],
        ["某某物业", "物业公司", other_tree.communities[0].code, "", "", ""],  # another subdistrict
        ["城管局", "部门", "", "", "", ""],  # set up with the territory, not imported
        ["无名", "外星组织", "", "", "", ""],
    ]

    result = run(operator, rows, kind="organisations", header=header, good_rows_only=True)

    assert (result.created, result.failed) == (3, 3)
    assert {r for r, _ in errors_of(result)} == {5, 6, 7}
    school = Body.objects.get(name="道义中学")
    assert (school.kind, school.node, school.contact_phone) == (BodyKind.SCHOOL, tree.communities[0], "024-88880000")
    assert Body.objects.get(name="道义医院").node == tree.communities[1]

    again = run(operator, rows[:3], kind="organisations", header=header)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows[0][4] = "13900001111"
    changed = run(operator, rows[:3], kind="organisations", header=header)
    assert changed.updated == 1 and Body.objects.get(name="道义中学").contact_phone == "13900001111"
    record = AuditLog.objects.get(action="territory.body_updated")
    assert "13900001111" not in json.dumps(record.after)

    # Community staff may not add bodies (the policy gives them view on territory.body): every new one is a bad row.
    refused = run(
        staff, [["新企业", "企业", tree.communities[0].code, "", "", ""]], kind="organisations", header=header
    )
    assert errors_of(refused) == [(2, "place")] and not Body.objects.filter(name="新企业").exists()


def test_tabular_writer_keeps_text_as_text():  # type: ignore[no-untyped-def]
    data = tabular.write_xlsx(
        [("人员", ["姓名", "身份证号"], [["=HYPERLINK(1)", "320102199001011234"], ["控\x01制", None]])]
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "人员"
    assert sheet["A2"].value == "=HYPERLINK(1)" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == "320102199001011234" and sheet["A3"].value == "控制"
    assert sheet.column_dimensions["B"].width >= 18


def test_a_bad_row_is_shown_in_the_readers_language_with_the_fields_label(  # type: ignore[no-untyped-def]
    client, api, tree, staff
):
    """Kept as a code with its values (this test runs in English), shown in Chinese on the page and from the API,
    the field named by its label, never by our internal name."""
    rows = good_rows(tree)
    rows[1][6] = "不存在的楼"
    result = run(staff, rows, good_rows_only=True)
    assert result.errors[0]["message"] == {
        "msgid": "no building “%(value)s” (by code, name or address)",
        "params": {"value": "不存在的楼"},
    }
    client.force_login(staff)
    page = client.get(reverse("registry-import-result", args=[result.pk]), headers={"Accept-Language": "zh-hans"})
    report = page.content.decode().split('id="import-report"', 1)[1].split("</table>", 1)[0]
    assert "找不到楼栋“不存在的楼”" in report and "(by code" not in report
    assert "<td>楼栋</td>" in report and "building" not in report  # the field's label
    api.as_user(staff)
    body = api.get(f"/api/v1/people/imports/{result.pk}").json()
    assert body["errors"][0]["message"] == translated("no building “%(value)s” (by code, name or address)") % {
        "value": "不存在的楼"
    }
    english = api.client.get(
        f"/api/v1/people/imports/{result.pk}", headers={**api.headers, "Accept-Language": "en"}
    ).json()
    assert english["errors"][0]["message"] == "no building “不存在的楼” (by code, name or address)"


def translated(msgid: str) -> str:
    from django.utils import translation

    with translation.override("zh-hans"):
        return translation.gettext(msgid)
