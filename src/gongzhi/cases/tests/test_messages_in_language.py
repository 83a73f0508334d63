"""A case's refusals are raised translatable (issue 15): the page shows them in Chinese, the API answers in Chinese by
default and in English with ``Accept-Language: en``."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.tests.factories import new_case

pytestmark = pytest.mark.django_db
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def zh(msgid: str, **params: object) -> str:
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert CHINESE.search(text), f"no Chinese for {msgid!r}"
    return text % params if params else text


def test_a_refused_action_on_the_page_and_in_the_api(
    client, api, tree, admin, worker, staff, handler, property_company
):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    client.force_login(handler)
    for action in ("acknowledge", "start"):
        assert client.post(reverse("cases-act", args=[case.pk, action])).status_code == 302
    # The page: a file that lacks the hotline's columns; the message names them (a value put into it).
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(operator)
    upload = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", "text/csv")
    page = client.post(reverse("cases-hotline"), {"file": upload}).content.decode()
    assert zh("The file lacks required columns: %(columns)s. Nothing was imported.").split("%")[0] in page
    assert "lacks required columns" not in page and "no column for" not in page
    # The API: Chinese by default, with the values put in; English when asked.
    api.as_user(admin)
    url = f"/api/v1/cases/{case.pk}/actions/close"
    error = api.post(url, {}).json()["error"]
    assert error["code"] == "conflict" and CHINESE.search(error["message"]) and case.number in error["message"]
    assert error["details"][0]["field"] == "action"
    assert error["details"][0]["message"].startswith(zh("current state: %(status)s; allowed: %(value)s").split("%")[0])
    english = api.post(url, {}, HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert english["message"].startswith(f"Case {case.number} is ") and "is not possible now" in english["message"]
    assert english["details"][0]["message"].startswith("current state: in_progress; allowed: ")
    # A plain refusal (no values) too.
    api.as_user(handler)
    error = api.post(f"/api/v1/cases/{case.pk}/actions/dispose", {}).json()["error"]
    assert error["message"] == zh("A note is required for this action.")
