"""No English in the Chinese UI (issue 16): old system notes, the 12345 import's problems named by field labels and
kept as codes (a job's problems shown in the reader's language)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline
from gongzhi.cases.models import CaseEvent, HotlineImport
from gongzhi.cases.tests.factories import new_case
from gongzhi.cases.tests.test_hotline import GOOD, csv_bytes

pytestmark = pytest.mark.django_db

notes_migration = importlib.import_module("gongzhi.cases.migrations.0011_system_notes_in_site_language")

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


def test_a_missing_column_is_named_by_its_label(client, tree, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    header = ["工单编号", "诉求标题"]  # no call time
    upload = SimpleUploadedFile("cols.csv", csv_bytes([["GD1", "积水"]], header), content_type="text/csv")
    page = client.post(reverse("cases-hotline"), {"file": upload}, headers={"Accept-Language": "zh-hans"})
    html = page.content.decode()
    assert "来电时间" in html and "reported_at" not in html.replace('value="reported_at"', "")


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
