"""The KPI refusals are raised translatable (issue 15): Chinese on the page, Chinese from the API by default and
English with ``Accept-Language: en``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def zh(msgid: str, **params: object) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid) % params if params else translation.gettext(msgid)


def test_a_bad_month_on_the_page_and_in_the_api(client, api, tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(operator)
    response = client.post(reverse("kpis-reports"), {"place": tree.subdistrict.pk, "month": "2026/13"}, follow=True)
    page = response.content.decode()
    assert zh("Bad month.") in page and escape(zh("%(raw)s: expected a month as YYYY-MM", raw="'2026/13'")) in page
    assert "Bad month" not in page and "expected a month" not in page
    api.as_user(operator)
    payload = {"place_id": tree.subdistrict.pk, "month": "2026/13"}
    error = api.post("/api/v1/kpis/reports", payload).json()["error"]
    assert error["message"] == zh("Bad month.") != "Bad month."
    assert error["details"] == [{"field": "month", "message": "'2026/13'：月份格式应为 YYYY-MM"}]
    english = api.post("/api/v1/kpis/reports", payload, HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert english["message"] == "Bad month."
    assert english["details"] == [{"field": "month", "message": "'2026/13': expected a month as YYYY-MM"}]
