from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.cases.tests.factories import category
from gongzhi.visits.tests.factories import populate, resident_of, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):  # type: ignore[no-untyped-def]
    for household in tree.households:
        resident_of(household)
    populate(tree.buildings[0], 2)
    return staff(tree)


def _start(api, tree, people):  # type: ignore[no-untyped-def]
    api.as_user(people["staff"])
    today = timezone.localdate()
    response = api.post(
        "/api/v1/visits/campaigns",
        {
            "name": "冬季走访",
            "area_id": tree.communities[0].pk,
            "starts": str(today),
            "ends": str(today + datetime.timedelta(days=14)),
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_campaign_visit_and_live_coverage_through_the_api(api, tree, people):  # type: ignore[no-untyped-def]
    campaign = _start(api, tree, people)
    assert campaign["total"] == {
        "code": tree.communities[0].code,
        "name": tree.communities[0].name,
        "targets": 4,
        "covered": 0,
        "remaining": 4,
        "percent": 0.0,
    }
    api.as_user(people["worker1"])
    mine = api.get(f"/api/v1/visits/campaigns/{campaign['id']}/targets?mine=true&uncovered=true").json()
    assert mine["count"] == 3
    cat = category("0105")
    response = api.post(
        "/api/v1/visits",
        {
            "household_id": mine["items"][0]["household_id"],
            "outcome": "met",
            "needs": "门口路灯不亮",
            "raise_case": True,
            "category_id": cat.pk,
        },
    )
    assert response.status_code == 201, response.content
    visit = response.json()
    assert visit["case_id"] and visit["case_number"] and visit["campaign_id"] == campaign["id"]
    coverage = api.get(f"/api/v1/visits/campaigns/{campaign['id']}/coverage?by=grid").json()
    assert [(c["code"], c["targets"], c["covered"], c["percent"]) for c in coverage] == [
        (tree.grids[0].code, 3, 1, 33.3)
    ]
    api.as_user(people["staff"])
    coverage = api.get(f"/api/v1/visits/campaigns/{campaign['id']}/coverage?by=grid").json()
    assert [(c["targets"], c["covered"]) for c in coverage] == [(3, 1), (1, 0)]
    assert api.get(f"/api/v1/visits/campaigns/{campaign['id']}").json()["total"]["percent"] == 25.0
    bad = api.get(f"/api/v1/visits/campaigns/{campaign['id']}/coverage?by=planet")
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "by"


def test_errors_have_the_one_shape_and_name_the_field(api, tree, people):  # type: ignore[no-untyped-def]
    api.as_user(people["worker1"])
    response = api.post("/api/v1/visits", {"household_id": tree.households[0].pk, "outcome": "chatted"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "outcome", "message": "应为以下之一：met, not_home, refused, moved_away"}
    ]
    response = api.post(
        "/api/v1/visits", {"household_id": tree.households[0].pk, "outcome": "chatted"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["error"]["details"] == [
        {"field": "outcome", "message": "expected one of met, not_home, refused, moved_away"}
    ]
    response = api.post("/api/v1/visits", {"household_id": tree.households[0].pk})
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_failed"


def test_out_of_scope_is_404(api, tree, other_tree, people):  # type: ignore[no-untyped-def]
    campaign = _start(api, tree, people)
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    stranger = user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0], body=other_tree.committees[0])
    api.as_user(stranger)
    for url in (f"/api/v1/visits/campaigns/{campaign['id']}", f"/api/v1/visits/campaigns/{campaign['id']}/coverage"):
        assert api.get(url).status_code == 404, url
    assert api.get("/api/v1/visits/campaigns").json()["count"] == 0
    response = api.post("/api/v1/visits", {"household_id": tree.households[0].pk, "outcome": "met"})
    assert response.status_code == 404


def test_care_plans_overdue_endpoint(api, tree, people):  # type: ignore[no-untyped-def]
    person = resident_of(tree.households[0])
    api.as_user(people["staff"])
    start = timezone.localdate() - datetime.timedelta(days=9)
    response = api.post("/api/v1/visits/care-plans", {"person_id": person.pk, "every_days": 7, "starts": str(start)})
    assert response.status_code == 201, response.content
    api.as_user(people["worker1"])
    overdue = api.get("/api/v1/visits/care-plans?overdue=true&mine=true").json()
    assert [(p["person_id"], p["days_overdue"]) for p in overdue["items"]] == [(person.pk, 9)]
    assert person.phone not in str(overdue) and person.id_number not in str(overdue)
