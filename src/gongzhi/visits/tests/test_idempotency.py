"""A household visit recorded offline and sent again (the phone's queue) is one visit (core.idempotency)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from gongzhi.visits.models import Visit
from gongzhi.visits.tests.factories import populate, resident_of, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):  # type: ignore[no-untyped-def]
    for household in tree.households:
        resident_of(household)
    populate(tree.buildings[0], 2)
    return staff(tree)


def test_api_visit_replayed_ten_times_is_one_visit(api, tree, people):  # type: ignore[no-untyped-def]
    api.as_user(people["worker1"])
    key = str(uuid.uuid4())
    body = {"household_id": tree.households[0].pk, "outcome": "met", "needs": "门口路灯不亮"}
    answers = [api.post("/api/v1/visits", body, HTTP_IDEMPOTENCY_KEY=key) for _ in range(10)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert Visit.objects.filter(household=tree.households[0]).count() == 1
    other = api.post("/api/v1/visits", {**body, "needs": "别的"}, HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_page_visit_replayed_ten_times_is_one_visit(client, tree, people):  # type: ignore[no-untyped-def]
    client.force_login(people["worker1"])
    household = tree.households[0]
    key = str(uuid.uuid4())
    answers = [
        client.post(reverse("visits-record", args=[household.pk]), {"outcome": "met", "idempotency_key": key})
        for _ in range(10)
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("visits-household", args=[household.pk]))
    }
    assert Visit.objects.filter(household=household).count() == 1


def test_a_visits_gps_accuracy_is_stored(api, tree, people):  # type: ignore[no-untyped-def]
    api.as_user(people["worker1"])
    body = {"household_id": tree.households[0].pk, "outcome": "met", "lat": 41.9041, "lng": 123.4041}
    assert api.post("/api/v1/visits", {**body, "gps_accuracy": 8}).status_code == 201
    assert Visit.objects.get(household=tree.households[0]).gps_accuracy == 8
    bad = api.post("/api/v1/visits", {**body, "gps_accuracy": -3})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "gps_accuracy"
