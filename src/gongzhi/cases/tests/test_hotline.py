"""The 12345 hotline import: CSV and XLSX, column mapping, idempotency, row errors, permissions, the API."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline, services
from gongzhi.cases.choices import Channel, Status
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.core.errors import Forbidden, ValidationFailed
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db

HEADER = ["工单编号", "来电时间", "诉求标题", "诉求内容", "诉求分类", "事发地址", "来电人", "联系电话", "紧急程度"]
GOOD = [
    [
        "GD20260301001",
        "2026-03-01 08:15",
        "小区门口积水",
        "雨后积水很深",
        "积水",
        "社区1第1网格1号楼",
        "王先生",
        "13812345678",
        "一般",
    ],
    [
        "GD20260301002",
        "2026/3/1 9:05",
        "楼道堆放杂物",
        "三楼楼道堆满纸箱",
        "楼道堆物",
        "社区2第1网格1号楼",
        "李女士",
        "13900001111",
        "紧急",
    ],
    [
        "GD20260302003",
        "2026-03-02 10:00",
        "飞线充电",
        "有人从窗口拉线",
        "社区事务/电动车进楼充电",
        "幸福路99号",
        "张先生",
        "0580-2021234",
        "",
    ],
]
TICKETS = [row[0] for row in GOOD]


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


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)


def test_csv_import_creates_cases(tree, operator):  # type: ignore[no-untyped-def]
    result = hotline.import_file(actor=operator, file_name="12345-2026-03.csv", data=csv_bytes(GOOD))

    assert result.errors == []
    assert result.skipped == []
    assert len(result.created) == 3
    cases = {c.hotline_ticket: c for c in Case.objects.filter(hotline_ticket__in=TICKETS)}
    assert set(cases) == set(TICKETS)
    assert sorted(c.number for c in cases.values()) == sorted(result.created)

    first = cases["GD20260301001"]
    assert first.channel == Channel.HOTLINE
    assert first.status == Status.REPORTED
    assert first.title == "小区门口积水"
    assert first.description == "雨后积水很深"
    assert first.category.code == "0105"
    assert first.urgency == "B"
    assert first.reported_at == datetime(2026, 3, 1, 0, 15, tzinfo=UTC)  # 08:15 in Shanghai
    assert first.number.startswith("20260301")
    assert first.node == tree.buildings[0]
    assert not first.unplaced
    assert first.address == "社区1第1网格1号楼"
    assert (first.reporter_name, first.reporter_phone) == ("王先生", "13812345678")
    assert first.owner_user == operator
    assert first.owner_body == tree.buildings[0].lead_body

    second = cases["GD20260301002"]
    assert second.reported_at == datetime(2026, 3, 1, 1, 5, tzinfo=UTC)
    assert second.urgency == "A"
    assert second.node == tree.buildings[2]
    assert second.category.code == "0701"

    third = cases["GD20260302003"]
    assert third.category.code == "0702"  # "社区事务/电动车进楼充电": the 小类 wins
    assert third.urgency == "A"  # empty: the category's default
    assert third.node == tree.subdistrict  # the address matched no building: the subdistrict desk holds it
    assert third.unplaced
    assert third.reporter_phone == "05802021234"

    log = AuditLog.objects.get(action="cases.hotline_imported")
    assert log.actor == operator
    assert log.node_code == tree.subdistrict.code
    assert log.after["created"] == 3
    assert log.after["skipped"] == 0
    assert log.after["errors"] == 0
    assert log.after["file"] == "12345-2026-03.csv"
    assert AuditLog.objects.filter(action="cases.reported").count() == 3


def test_importing_the_same_file_twice_creates_nothing_new(tree, operator):  # type: ignore[no-untyped-def]
    data = csv_bytes(GOOD)
    first = hotline.import_file(actor=operator, file_name="a.csv", data=data)
    assert len(first.created) == 3

    second = hotline.import_file(actor=operator, file_name="a.csv", data=data)

    assert second.created == []
    assert sorted(second.skipped) == sorted(TICKETS)
    assert second.errors == []
    assert Case.objects.count() == 3
    assert AuditLog.objects.filter(action="cases.hotline_imported").count() == 2
    assert AuditLog.objects.filter(action="cases.reported").count() == 3


def test_a_ticket_taken_in_another_way_is_skipped(tree, operator):  # type: ignore[no-untyped-def]
    earlier = services.report_case(
        actor=operator,
        channel="hotline",
        title="早先录入",
        category_id=category("0105").pk,
        hotline_ticket="GD20260301001",
    )

    result = hotline.import_file(actor=operator, file_name="b.xlsx", data=xlsx_bytes(GOOD))

    assert result.skipped == ["GD20260301001"]
    assert len(result.created) == 2
    assert list(Case.objects.filter(hotline_ticket="GD20260301001")) == [earlier]


def test_malformed_rows_are_reported_and_good_rows_go_in(tree, operator):  # type: ignore[no-untyped-def]
    rows = [
        GOOD[0],  # row 2
        ["GD20260301010", "三月一日上午", "路灯不亮", "", "积水", "", "", "", ""],  # row 3: bad time
        ["GD20260301011", "2026-03-01 10:00", "外星人", "", "外星人入侵", "", "", "", ""],  # row 4: unknown category
        GOOD[1],  # row 5
        ["GD20260301012", "2026-03-01 11:00", "噪音", "", "噪音扰民", "", "", "138-abcd-5678", ""],  # row 6: phone
        ["", "2026-03-01 12:00", "无单号", "", "积水", "", "", "", ""],  # row 7: no ticket
        ["GD20260301013", "2026-03-01 12:30", "", "", "积水", "", "", "", "很急"],  # row 8: no title, bad urgency
        ["GD20260301001", "2026-03-01 08:15", "重复", "", "积水", "", "", "", ""],  # row 9: ticket of row 2 again
        GOOD[2],  # row 10
    ]

    result = hotline.import_file(actor=operator, file_name="mixed.csv", data=csv_bytes(rows))

    assert len(result.created) == 4  # the unknown category is taken in, flagged (see the test below)
    assert sorted(Case.objects.values_list("hotline_ticket", flat=True)) == sorted([*TICKETS, "GD20260301011"])
    problems = {(e.row, e.field) for e in result.errors}
    assert problems == {
        (3, "reported_at"),
        (6, "reporter_phone"),
        (7, "ticket"),
        (8, "title"),
        (8, "urgency"),
        (9, "ticket"),
    }
    by_row = {(e.row, e.field): e.message for e in result.errors}
    assert "三月一日上午" in by_row[(3, "reported_at")]
    assert "row 2" in by_row[(9, "ticket")]
    assert AuditLog.objects.get(action="cases.hotline_imported").after["errors"] == 5

    # Fixing the file and importing it again brings in the rest, without touching what is already in.
    rows[1][1] = "2026-03-01 09:30"
    again = hotline.import_file(actor=operator, file_name="mixed.csv", data=csv_bytes(rows))
    assert len(again.created) == 1
    assert sorted(again.skipped) == sorted([*TICKETS, "GD20260301011"])
    assert {e.row for e in again.errors} == {6, 7, 8, 9}
    assert Case.objects.filter(hotline_ticket="GD20260301010").exists()


def test_a_row_refused_after_it_was_written_leaves_nothing_behind(tree, other_tree):  # type: ignore[no-untyped-def]
    """An operator of another subdistrict: a position in the first one is outside their area. The row's savepoint
    rolls back the case report_case had already written."""
    stranger = user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict)
    header = [*HEADER, "经度", "纬度"]
    rows = [[*GOOD[0], "123.405", "41.905"]]

    result = hotline.import_file(actor=stranger, file_name="a.csv", data=csv_bytes(rows, header))

    assert result.created == []
    assert [(e.row, e.field) for e in result.errors] == [(2, "address")]
    assert not Case.objects.exists()
    assert not AuditLog.objects.filter(action="cases.reported").exists()


def test_xlsx_import(tree, operator):  # type: ignore[no-untyped-def]
    rows: list[list[Any]] = [
        [
            20260301001,
            datetime(2026, 3, 1, 8, 15),
            "小区门口积水",
            "积水很深",
            "0105",
            "社区1第2网格1号楼",
            "王先生",
            13812345678,
            "A",
        ],
        ["GD2", "2026/3/1 8:15", "乱停车", "", "街面秩序", "", "", None, None],
        ["GD3", datetime(2026, 3, 1, 9, 0), "", "", "积水", "", "", None, None],  # row 4: no title
    ]

    result = hotline.import_file(actor=operator, file_name="export.xlsx", data=xlsx_bytes(rows))

    assert len(result.created) == 2
    assert [(e.row, e.field) for e in result.errors] == [(4, "title")]
    case = Case.objects.get(hotline_ticket="20260301001")
    assert case.reported_at == datetime(2026, 3, 1, 0, 15, tzinfo=UTC)
    assert case.category.code == "0105"
    assert case.urgency == "A"
    assert case.reporter_phone == "13812345678"
    assert case.node == tree.buildings[1]
    major = Case.objects.get(hotline_ticket="GD2")
    assert major.category.code == "05"  # no 小类 given: the 大类
    assert major.unplaced

    again = hotline.import_file(actor=operator, file_name="export.xlsx", data=xlsx_bytes(rows))
    assert again.created == []
    assert sorted(again.skipped) == ["20260301001", "GD2"]


def test_gb18030_csv(tree, operator):  # type: ignore[no-untyped-def]
    data = csv_bytes(GOOD, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    result = hotline.import_file(actor=operator, file_name="导出.csv", data=data)

    assert len(result.created) == 3
    assert Case.objects.get(hotline_ticket="GD20260301001").title == "小区门口积水"


def test_custom_mapping(tree, operator):  # type: ignore[no-untyped-def]
    header = ["事项编号", "提交时间", "事项", "描述", "类别", "位置", "内容"]
    rows = [["X-1", "2026-03-05 14:00", "电梯停运", "3号楼电梯不动", "电梯故障", "社区2第2网格1号楼", "不该用作描述"]]
    mapping = {
        "ticket": "事项编号",
        "reported_at": "提交时间",
        "title": "事项",
        "description": "描述",
        "category": "类别",
        "address": "位置",
    }

    result = hotline.import_file(actor=operator, file_name="x.csv", data=csv_bytes(rows, header), mapping=mapping)

    assert result.errors == []
    case = Case.objects.get(hotline_ticket="X-1")
    assert (case.title, case.description) == ("电梯停运", "3号楼电梯不动")
    assert case.category.code == "0601"
    assert case.node == tree.buildings[3]
    assert case.reported_at == datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


def test_missing_required_column_imports_nothing(tree, operator):  # type: ignore[no-untyped-def]
    header = [h for h in HEADER if h != "来电时间"]
    rows = [[v for h, v in zip(HEADER, row, strict=True) if h != "来电时间"] for row in GOOD]

    with pytest.raises(ValidationFailed) as info:
        hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows, header))

    assert "Call time" in info.value.message and "reported_at" not in info.value.message  # the label, not our name
    with translation.override("zh-hans"):
        assert str(info.value.message) == "文件缺少必填列：来电时间。未导入任何数据。"
    assert [d.field for d in info.value.details] == ["reported_at"]
    assert "来电时间" in info.value.details[0].message
    assert not Case.objects.exists()
    assert not AuditLog.objects.filter(action="cases.hotline_imported").exists()


def test_bad_mapping_imports_nothing(tree, operator):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as info:
        hotline.import_file(
            actor=operator,
            file_name="a.csv",
            data=csv_bytes(GOOD),
            mapping={"colour": "颜色", "title": "不存在的列"},
        )

    fields = {d.field for d in info.value.details}
    assert fields == {"mapping.colour", "mapping.title"}
    assert not Case.objects.exists()


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.GRID_LEADER])
def test_only_the_subdistrict_desk_imports(tree, role):  # type: ignore[no-untyped-def]
    node = tree.grids[0] if role != Role.COMMUNITY_STAFF else tree.communities[0]
    user = user_with_role(role, node=node)

    with pytest.raises(Forbidden):
        hotline.import_file(actor=user, file_name="a.csv", data=csv_bytes(GOOD))
    assert not Case.objects.exists()


def test_admin_imports(tree, admin):  # type: ignore[no-untyped-def]
    result = hotline.import_file(actor=admin, file_name="a.csv", data=csv_bytes(GOOD))
    assert len(result.created) == 3


def test_position_places_the_case(tree, operator):  # type: ignore[no-untyped-def]
    header = [*HEADER, "经度", "纬度"]
    rows = [
        [*GOOD[0][:5], "", "", "", "", "123.414", "41.904"],  # in grid 2 (社区1第2网格)
        [*GOOD[1][:5], "", "", "", "", "0", "0"],  # 0/0 means no position
        ["GD9", "2026-03-01 08:15", "标题", "", "积水", "", "", "", "", "东经", "41.9"],
    ]

    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows, header))

    assert [(e.row, e.field) for e in result.errors] == [(4, "lng")]
    placed = Case.objects.get(hotline_ticket=GOOD[0][0])
    assert placed.node == tree.buildings[1]
    assert (placed.lat, placed.lng) == (41.904, 123.414)
    assert Case.objects.get(hotline_ticket=GOOD[1][0]).unplaced


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("积水", "0105"),
        ("0105", "0105"),
        ("105", "0105"),
        ("市容环境/积水", "0105"),
        ("市容环境-积水", "0105"),
        ("施工管理", "03"),
        ("施工管理/外星人入侵", "03"),
        ("", "0706"),  # nothing given: 其他
    ],
)
def test_category_matching(tree, operator, cell, code):  # type: ignore[no-untyped-def]
    rows = [["T1", "2026-03-01 08:15", "标题", "", cell, "", "", "", ""]]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))
    assert result.errors == []
    assert Case.objects.get(hotline_ticket="T1").category.code == code


def test_major_class_column(tree, operator):  # type: ignore[no-untyped-def]
    header = ["工单编号", "受理时间", "标题", "大类", "小类"]
    rows = [
        ["T1", "2026-03-01 08:15", "标题", "突发事件", "不认识"],
        ["T2", "2026-03-01 08:15", "标题", "街面秩序", "乱停车"],
    ]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows, header))
    assert result.errors == []
    assert Case.objects.get(hotline_ticket="T1").category.code == "04"
    assert Case.objects.get(hotline_ticket="T2").category.code == "0501"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01 08:15", datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),
        ("2026/3/1 8:15", datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),
        ("2026-03-01 08:15:30", datetime(2026, 3, 1, 0, 15, 30, tzinfo=UTC)),
        ("2026年3月1日 8:15", datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),
        ("2026-03-01T08:15:00+08:00", datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
        (datetime(2026, 3, 1, 8, 15), datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),
        (46082.34375, datetime(2026, 3, 1, 0, 15, tzinfo=UTC)),  # an Excel serial number
    ],
)
def test_parse_time(value, expected):  # type: ignore[no-untyped-def]
    parsed, problem = hotline.parse_time(value)
    assert problem == ""
    assert parsed == expected


@pytest.mark.parametrize("value", ["", None, "明天", "2026-13-01 08:00", "2999-01-01 08:00", "1899-12-30"])
def test_parse_time_refuses(value):  # type: ignore[no-untyped-def]
    parsed, problem = hotline.parse_time(value)
    assert parsed is None
    assert problem


def test_unreadable_files(tree, operator):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="XLSX"):
        hotline.import_file(actor=operator, file_name="a.xlsx", data=b"not a workbook")
    with pytest.raises(ValidationFailed, match=r"\.xls"):
        hotline.import_file(actor=operator, file_name="a.xls", data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest")
    with pytest.raises(ValidationFailed, match="empty"):
        hotline.import_file(actor=operator, file_name="a.csv", data=b"")


# --- the API -----------------------------------------------------------------------------------------------------


URL = "/api/v1/cases/hotline/import"


def upload(api, data: bytes, name: str = "12345.csv", **fields: Any):  # type: ignore[no-untyped-def]
    return api.client.post(
        URL, data={"file": SimpleUploadedFile(name, data, content_type="text/csv"), **fields}, headers=api.headers
    )


def test_api_import(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    rows = [*GOOD, ["GD20260301099", "不是时间", "标题", "", "积水", "", "", "", ""]]

    response = upload(api, csv_bytes(rows))

    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["created"]) == 3
    assert body["skipped"] == []
    assert body["errors"] == [{"row": 5, "field": "reported_at", "message": body["errors"][0]["message"]}]
    numbers = set(Case.objects.values_list("number", flat=True))
    assert set(body["created"]) == numbers

    again = upload(api, csv_bytes(rows)).json()
    assert again["created"] == []
    assert sorted(again["skipped"]) == sorted(TICKETS)
    assert [e["row"] for e in again["errors"]] == [5]


def test_api_import_xlsx_with_mapping(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    data = xlsx_bytes([["N-1", datetime(2026, 3, 1, 8, 15), "乱停车"]], header=["单号", "时间", "事由"])
    mapping = json.dumps({"ticket": "单号", "reported_at": "时间", "title": "事由"})

    response = upload(api, data, name="export.xlsx", mapping=mapping)

    assert response.status_code == 200, response.content
    assert len(response.json()["created"]) == 1
    assert Case.objects.get(hotline_ticket="N-1").category.code == "0706"


def test_api_bad_mapping(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)

    response = upload(api, csv_bytes(GOOD), mapping=json.dumps({"colour": "颜色"}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"][0]["field"] == "mapping.colour"

    response = upload(api, csv_bytes(GOOD), mapping="{not json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "mapping"

    response = upload(api, csv_bytes(GOOD), mapping=json.dumps(["ticket"]))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_api_missing_column(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = upload(api, csv_bytes([["GD1", "标题"]], header=["工单编号", "诉求标题"]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert [d["field"] for d in error["details"]] == ["reported_at"]
    assert not Case.objects.exists()


def test_api_refuses_a_grid_worker(api, tree, worker):  # type: ignore[no-untyped-def]
    api.as_user(worker)
    response = upload(api, csv_bytes(GOOD))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not Case.objects.exists()


def test_api_needs_a_file(api, tree, operator):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = api.client.post(URL, data={}, headers=api.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def test_an_unknown_category_is_taken_in_flagged_and_the_desk_sets_it(  # type: ignore[no-untyped-def]
    api, client, tree, operator
):
    """A hotline ticket is never lost for its category: it comes in with the fallback category (其他), flagged,
    first on the desk; the desk sets the category (page and API), which clears the flag."""
    rows = [
        GOOD[0],
        ["GD20260301011", "2026-03-01 10:00", "外星人", "", "外星人入侵", "社区1第1网格1号楼", "", "", ""],
        ["GD20260301012", "2026-03-01 10:05", "无人机", "", "低空/无人机扰民", "", "", "", ""],
    ]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))
    assert result.errors == [] and len(result.created) == 3

    known = Case.objects.get(hotline_ticket="GD20260301001")
    alien = Case.objects.get(hotline_ticket="GD20260301011")
    drone = Case.objects.get(hotline_ticket="GD20260301012")
    assert not known.category_unconfirmed and known.category_text == ""
    assert alien.category_unconfirmed and alien.category.name == "其他" and alien.category_text == "外星人入侵"
    assert alien.node == tree.buildings[0] and not alien.unplaced  # its place is kept
    assert drone.category_unconfirmed and drone.category_text == "低空/无人机扰民" and drone.unplaced
    note = alien.events.get(action="report").note
    assert "外星人入侵" in note

    # On the subdistrict desk, first, with a badge; listed by the API's filter.
    client.force_login(operator)
    desk = client.get(reverse("cases-desk")).content.decode()
    assert desk.index(drone.number) < desk.index(alien.number) < desk.index(known.number)
    assert "待确认分类" in desk
    api.as_user(operator)
    listed = api.get("/api/v1/cases?category_unconfirmed=true").json()["items"]
    assert {c["number"] for c in listed} == {alien.number, drone.number}
    assert {c["category_text"] for c in listed} == {"外星人入侵", "低空/无人机扰民"}

    # The page sets the category.
    page = client.get(reverse("cases-detail", args=[alien.pk])).content.decode()
    assert 'id="form-category"' in page and "外星人入侵" in page
    noise = category("0701")
    response = client.post(
        reverse("cases-category", args=[alien.pk]), {"category-major": noise.parent_id, "category-category": noise.pk}
    )
    assert response.status_code == 302
    alien.refresh_from_db()
    assert alien.category == noise and not alien.category_unconfirmed
    assert alien.events.filter(action="categorise").exists()
    assert AuditLog.objects.filter(action="cases.categorised", object_id=str(alien.pk)).exists()
    assert 'id="form-category"' not in client.get(reverse("cases-detail", args=[alien.pk])).content.decode()

    # The API sets it too; an unknown category is a 400 naming the field; outside the scope a 404.
    bad = api.post(f"/api/v1/cases/{drone.pk}/category", {"category_id": 999999})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "category_id"
    done = api.post(f"/api/v1/cases/{drone.pk}/category", {"category_id": noise.pk})
    assert done.status_code == 200, done.content
    assert done.json()["category_unconfirmed"] is False and done.json()["category"]["id"] == noise.pk
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[1])
    api.as_user(worker)
    assert api.post(f"/api/v1/cases/{drone.pk}/category", {"category_id": noise.pk}).status_code == 404
