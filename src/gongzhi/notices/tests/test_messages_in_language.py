"""A notice's refusals are raised translatable (issue 15): Chinese on the page, Chinese from the API by default and
English with ``Accept-Language: en``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db
NOBODY = "No household matches: nobody lives there yet, or nobody carries these tags."


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def test_a_refused_notice_on_the_page_and_in_the_api(client, api, ground, staff):  # type: ignore[no-untyped-def]
    grid = ground.tree.grids[0].pk
    client.force_login(staff)
    response = client.post(
        reverse("notices-new"), {"title": "通知", "body": "内容", "area": grid, "tags": ["disabled"]}
    )
    page = response.content.decode()
    assert response.status_code == 400 and zh(NOBODY) in page and "No household" not in page
    assert zh("no households to deliver to") in page
    api.as_user(staff)
    payload = {"title": "通知", "body": "内容", "area_id": grid, "tags": ["disabled"]}
    error = api.post("/api/v1/notices", payload).json()["error"]
    assert error["message"] == zh(NOBODY) != NOBODY
    assert error["details"] == [{"field": "tags", "message": zh("no households to deliver to")}]
    english = api.post("/api/v1/notices", payload, HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert english["message"] == NOBODY and english["details"][0]["message"] == "no households to deliver to"
