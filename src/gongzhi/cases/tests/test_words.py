"""No English in the Chinese UI (issue 16): old system notes, the 12345 import's problems named by field labels and
kept as codes (a job's problems shown in the reader's language)."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline
from gongzhi.cases.models import Case, CaseEvent, HotlineImport, HotlineMapping
from gongzhi.cases.tests.factories import new_case
from gongzhi.cases.tests.test_hotline import GOOD, csv_bytes

pytestmark = pytest.mark.django_db

notes_migration = importlib.import_module("gongzhi.cases.migrations.0012_system_notes_in_site_language")

BAD_ROWS = [
    GOOD[0],
    ["GD20260301010", "三月一日上午", "路灯不亮", "", "积水", "", "", "", ""],  # row 3: not a time
    ["GD20260301012", "2026-03-01 11:00", "噪音", "", "噪音扰民", "", "", "138-abcd-5678", ""],  # row 4: phone
]


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)


def test_old_english_system_notes_are_rewritten_in_the_site_language(tree, admin):  # type: ignore[no-untyped-def]
    case = new_case(admin, tree.buildings[0])
    at = case.created_at
    old = {
        "escalated": "Deadline missed: escalated automatically.",
        "desk": "Location matched no grid: held by the subdistrict desk.",
        "both": "Location matched no grid: held by the subdistrict desk. The 12345 category “外星人入侵” matched none "
        "of ours: the desk sets the category.",
        "staff": "住户已搬离，电话确认",
    }
    events = {key: CaseEvent.objects.create(case=case, at=at, action="note", note=note) for key, note in old.items()}

    notes_migration.forwards(apps, None)

    notes = {key: CaseEvent.objects.get(pk=e.pk).note for key, e in events.items()}
    assert notes["escalated"] == "超过办理时限：已自动上报升级。"
    assert notes["desk"] == "位置未匹配到任何网格：由街道受理台暂管。"
    assert notes["both"].startswith("位置未匹配到任何网格") and "外星人入侵" in notes["both"]
    assert "matched none" not in notes["both"] and "12345" in notes["both"]
    assert notes["staff"] == old["staff"]  # a person's note is left as written


def test_the_import_page_names_fields_by_label_in_chinese(client, tree, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    upload = SimpleUploadedFile("bad.csv", csv_bytes(BAD_ROWS), content_type="text/csv")
    with translation.override("zh-hans"):
        page = client.post(reverse("cases-hotline"), {"file": upload}, headers={"Accept-Language": "zh-hans"})
    html = page.content.decode()
    table = html[html.index('id="error-rows"') :]
    assert "“三月一日上午”不是有效的时间" in table and "来电时间" in table and "联系电话" in table
    for english in ("reported_at", "reporter_phone", "is not a time", "is not digits"):
        assert english not in table.split("</table>")[0].replace('data-field="reported_at"', "").replace(
            'data-field="reporter_phone"', ""
        ), english


def visible(html: str) -> str:
    """The text of a page as read (no tags, no attributes)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_a_missing_column_is_named_by_its_label(client, tree, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    header = ["工单编号", "诉求标题"]  # no call time
    upload = SimpleUploadedFile("cols.csv", csv_bytes([["GD1", "积水"]], header), content_type="text/csv")
    page = client.post(reverse("cases-hotline"), {"file": upload}, headers={"Accept-Language": "zh-hans"})
    text = visible(page.content.decode())
    assert page.status_code == 400 and "来电时间" in text and "reported_at" not in text
    assert "文件缺少必填列：来电时间" in text


ODD_HEADER = ["单号", "时间", "事项", "类别", "位置"]
ODD_ROWS = [["ODD-1", "2026-03-01 08:15", "路灯不亮", "积水", "社区1第1网格1号楼"]]


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, name
    return match.group(1)


def test_the_column_step_offers_the_files_columns_with_guesses(client, tree, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    header = ["工单号", "受理时间", "标题", "备注"]
    upload = SimpleUploadedFile("a.csv", csv_bytes([["T1", "2026-03-01 08:15", "积水", ""]], header), "text/csv")
    page = client.post(reverse("cases-hotline"), {"file": upload, "check_columns": "on"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="mapping-form"' in html and not Case.objects.exists()
    ticket = _select(html, "col_ticket")
    assert all(f'value="{h}"' in ticket for h in header)  # the file's own columns to choose from
    assert '<option value="工单号" selected>' in ticket  # guessed by the header's name
    assert '<option value="受理时间" selected>' in _select(html, "col_reported_at")
    assert '<option value="" selected>' in _select(html, "col_address")  # not in the file
    assert re.search(r'<label for="id_col_ticket">工单编号<span class="req"', html)  # its label, marked required
    assert "<textarea" not in html  # no JSON to type


def test_a_mapping_is_validated_per_field_and_remembered_per_desk(  # type: ignore[no-untyped-def]
    client, tree, other_tree, operator
):
    client.force_login(operator)
    upload = SimpleUploadedFile("odd.csv", csv_bytes(ODD_ROWS, ODD_HEADER), "text/csv")
    page = client.post(reverse("cases-hotline"), {"file": upload})  # the columns do not fit: the column step
    html = page.content.decode()
    assert page.status_code == 400 and 'id="mapping-form"' in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    errors = dict(re.findall(r'<p class="field-error" data-field="(col_\w+)">([^<]+)</p>', html))
    assert {"col_ticket", "col_title", "col_reported_at"} <= set(errors)
    assert errors["col_reported_at"] == "缺少 来电时间 列：应为“来电时间 / 受理时间”，或手动对应"  # what is wrong, by label

    # A required field left out: refused next to that field, nothing imported.
    chosen = {"token": token, "col_ticket": "单号", "col_reported_at": "时间", "col_title": "", "col_category": "类别"}
    page = client.post(reverse("cases-hotline"), chosen)
    html = page.content.decode()
    assert page.status_code == 400 and not Case.objects.exists()
    assert re.search(r'data-field="col_title">[^<]+<', html) and not re.search(r'data-field="col_ticket">', html)

    chosen = {**chosen, "col_title": "事项", "col_address": "位置"}
    page = client.post(reverse("cases-hotline"), chosen)
    assert page.status_code == 200, visible(page.content.decode())[-2000:]
    assert Case.objects.get().hotline_ticket == "ODD-1"
    kept = HotlineMapping.objects.get()
    assert kept.node_code == tree.subdistrict.code
    assert kept.mapping == {
        "ticket": "单号",
        "reported_at": "时间",
        "title": "事项",
        "category": "类别",
        "address": "位置",
    }

    # The next file of that source goes in without asking, and the step offers the kept mapping.
    rows = [["ODD-2", "2026-03-02 09:00", "噪音", "积水", ""]]
    page = client.post(reverse("cases-hotline"), {"file": SimpleUploadedFile("b.csv", csv_bytes(rows, ODD_HEADER))})
    assert page.status_code == 200 and Case.objects.filter(hotline_ticket="ODD-2").exists()
    upload = SimpleUploadedFile("c.csv", csv_bytes(rows, ODD_HEADER))
    html = client.post(reverse("cases-hotline"), {"file": upload, "check_columns": "on"}).content.decode()
    assert '<option value="事项" selected>' in _select(html, "col_title")

    # Another subdistrict's desk has its own (none yet).
    other = user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict)
    client.force_login(other)
    page = client.post(reverse("cases-hotline"), {"file": SimpleUploadedFile("d.csv", csv_bytes(rows, ODD_HEADER))})
    assert page.status_code == 400 and 'id="mapping-form"' in page.content.decode()


def test_a_jobs_problems_are_codes_shown_in_the_readers_language(tree, operator, api):  # type: ignore[no-untyped-def]
    result = hotline.import_file(actor=operator, file_name="bad.csv", data=csv_bytes(BAD_ROWS))
    job = HotlineImport.objects.create(
        actor=operator, file_name="bad.csv", state="done", errors=result.error_dicts(), message="", node_code=""
    )
    kept = {e["field"]: e["message"] for e in job.errors}
    assert kept["reported_at"] == {
        "msgid": "“%(value)s” is not a time (e.g. 2026-03-01 08:15)",
        "params": {"value": "三月一日上午"},
    }

    api.as_user(operator)
    chinese = api.get(f"/api/v1/cases/hotline/imports/{job.pk}").json()
    assert {e["field"]: e["message"] for e in chinese["errors"]}["reported_at"] == (
        "“三月一日上午”不是有效的时间（例如 2026-03-01 08:15）"
    )
    english = api.client.get(
        f"/api/v1/cases/hotline/imports/{job.pk}", headers={**api.headers, "Accept-Language": "en"}
    ).json()
    assert {e["field"]: e["message"] for e in english["errors"]}["reported_at"].endswith(
        "is not a time (e.g. 2026-03-01 08:15)"
    )
