"""A visit's refusals are raised translatable (issue 15): Chinese on the page, Chinese from the API by default and
English with ``Accept-Language: en``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from gongzhi.visits.tests.factories import resident_of, staff

pytestmark = pytest.mark.django_db


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def test_a_refused_visit_on_the_page_and_in_the_api(client, api, tree):  # type: ignore[no-untyped-def]
    household = tree.households[0]
    resident_of(household)
    worker = staff(tree)["worker1"]
    client.force_login(worker)
    response = client.post(reverse("visits-record", args=[household.pk]), {"outcome": "met", "raise_case": "on"})
    page = response.content.decode()
    assert response.status_code == 400
    needs = "say what the household needs to raise a case"
    assert f'data-field="needs">{zh(needs)}<' in page and needs not in page
    api.as_user(worker)
    payload = {"household_id": household.pk, "outcome": "met", "raise_case": True}
    error = api.post("/api/v1/visits", payload).json()["error"]
    assert error["message"] == zh("The visit cannot be recorded.") != "The visit cannot be recorded."
    assert {"field": "needs", "message": zh(needs)} in error["details"]
    english = api.post("/api/v1/visits", payload, HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert english["message"] == "The visit cannot be recorded."
    assert {"field": "needs", "message": needs} in english["details"]
