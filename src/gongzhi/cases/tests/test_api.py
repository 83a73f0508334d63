"""The cases API: create, list with filters, actions, timeline, attachments — all scoped, one error shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.tests.factories import category, new_case

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_create_act_and_read_through_the_api(tree, api, property_company, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(worker)
    response = api.post(
        "/api/v1/cases",
        {
            "channel": "patrol",
            "title": "消防通道被占",
            "category_id": category("0503").pk,
            "lat": 41.9041,
            "lng": 123.4041,
        },
    )
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["urgency"] == "A" and case["node"]["id"] == tree.buildings[0].pk and case["status"] == "reported"
    assert set(case["allowed_actions"]) == {"accept", "fix_on_spot", "merge", "escalate"}
    upload = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    response = api.client.post(f"/api/v1/cases/{case['id']}/attachments", {"files": [upload]}, headers=api.headers)
    assert response.status_code == 201, response.content
    # Illegal transition: 409 naming the state and what is allowed.
    response = api.post(f"/api/v1/cases/{case['id']}/actions/close", {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and "current state: reported" in error["details"][0]["message"]
    assert "accept" in error["details"][0]["message"]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(staff)
    response = api.post(f"/api/v1/cases/{case['id']}/actions/dispatch", {"handler_body_id": property_company.pk})
    assert response.status_code == 200 and response.json()["status"] == "dispatched"
    assert response.json()["handler_body"]["name"] == property_company.name
    timeline = api.get(f"/api/v1/cases/{case['id']}/timeline").json()
    assert [e["action"] for e in timeline] == ["report", "attach", "dispatch"]
    assert timeline[1]["attachments"][0]["name"] == "p.jpg"


def test_list_filters_and_scope(tree, other_tree, api):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    a = new_case(admin, tree.grids[0], title="甲地积水")
    b = new_case(admin, tree.grids[2], title="乙地停车", category_id=category("0501").pk)
    c = new_case(admin, other_tree.grids[0], title="外街道")
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(worker)
    assert [x["id"] for x in api.get("/api/v1/cases").json()["items"]] == [a.pk]
    assert api.get(f"/api/v1/cases/{b.pk}").status_code == 404
    assert api.get(f"/api/v1/cases/{c.pk}").status_code == 404
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    api.as_user(operator)
    ids = lambda q: {x["id"] for x in api.get(f"/api/v1/cases?{q}").json()["items"]}  # noqa: E731
    assert ids("") == {a.pk, b.pk}
    assert ids(f"category_id={category('0501').pk}") == {b.pk}
    assert ids(f"category_id={category('0501').parent_id}") == {b.pk}, "a major class includes its minor ones"
    assert ids(f"node_id={tree.communities[1].pk}") == {b.pk}
    assert ids("text=积水") == {a.pk}
    assert ids("status=reported&overdue=false") == {a.pk, b.pk}
    assert ids("status=closed") == set()
    assert api.get(f"/api/v1/cases?node_id={other_tree.grids[0].pk}").status_code == 404


def test_reporter_phone_is_masked(tree, api):  # type: ignore[no-untyped-def]
    case = new_case(None, tree.grids[0], channel="resident", reporter_phone="13912345678")
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    body = api.get(f"/api/v1/cases/{case.pk}").content.decode()
    assert "13912345678" not in body and "139****5678" in body


def test_similar_endpoint(tree, api):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    first = new_case(admin, tree.grids[0], title="路面积水", lat=41.905, lng=123.405)
    api.as_user(admin)
    got = api.get(f"/api/v1/cases/similar?category_id={first.category_id}&lat=41.9051&lng=123.4051&text=积水").json()
    assert got[0]["case"]["id"] == first.pk


def test_reveal_reporter_phone_is_audited(tree, api):  # type: ignore[no-untyped-def]
    from gongzhi.core.models import AuditLog

    case = new_case(None, tree.grids[0], channel="resident", reporter_phone="13912345678")
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(staff)
    response = api.post(f"/api/v1/cases/{case.pk}/reveal")
    assert response.status_code == 200 and response.json()["value"] == "13912345678"
    assert AuditLog.objects.filter(action="privacy.reveal", actor=staff, object_id=str(case.pk)).count() == 1
    api.as_user(user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1]))
    assert api.post(f"/api/v1/cases/{case.pk}/reveal").status_code == 404


def test_case_lists_show_what_the_case_page_shows_in_a_fixed_number_of_queries(  # type: ignore[no-untyped-def]
    tree, api, property_company, django_assert_max_num_queries
):
    """The to-do and the case list page on the sort keys, then read only the page's rows and only the columns a
    list item shows: the items must equal the case page's fields, and the query count must not grow with them."""
    from gongzhi.cases import workflow

    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    for i in range(12):
        case = new_case(staff, tree.buildings[0] if i % 2 else tree.grids[0], title=f"积水{i}")
        if i % 3 == 0:
            workflow.perform(actor=staff, case_id=case.pk, action="accept")
            workflow.perform(
                actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk}
            )
    api.as_user(staff)
    api.get("/api/v1/cases/todo")  # the token's first use writes its last-used time
    for url in ("/api/v1/cases/todo", "/api/v1/cases"):
        counts = []
        for page_size in (3, 12):
            with django_assert_max_num_queries(10) as captured:
                listed = api.get(f"{url}?page_size={page_size}").json()
            counts.append(len(captured.captured_queries))
            assert listed["count"] == 12 and len(listed["items"]) == page_size
        assert counts[0] == counts[1], url  # no query per row
        for item in listed["items"]:
            shown = api.get(f"/api/v1/cases/{item['id']}").json()
            assert item == {key: shown[key] for key in item}, url
    second = api.get("/api/v1/cases/todo?page_size=5&page=2").json()["items"]
    first = api.get("/api/v1/cases/todo?page_size=10").json()["items"]
    assert [c["id"] for c in second] == [c["id"] for c in first[5:10]]
