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


def test_a_handlers_return_answers_200_with_what_they_may_still_see(tree, api, staff, handler, property_company):  # type: ignore[no-untyped-def]
    """A department handler who returns a case loses sight of it: the return is saved, and the answer is the case's
    number, status and a message — not a 404 (which would make the client think nothing happened)."""
    from gongzhi.cases import workflow
    from gongzhi.cases.models import Case

    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    api.as_user(handler)
    response = api.post(f"/api/v1/cases/{case.pk}/actions/return", {"note": "不属于物业管理范围"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == case.pk and body["number"] == case.number and body["status"] == "returned"
    assert body["visible"] is False and case.number in body["message"] and body["status_label"] == "已退回"
    assert "title" not in body and "reporter_name" not in body  # nothing the handler may no longer read
    assert Case.objects.get(pk=case.pk).status == "returned"
    # Out of sight now: a second try is a 404, as for any case out of scope.
    assert api.post(f"/api/v1/cases/{case.pk}/actions/return", {"note": "再退"}).status_code == 404
    # An action that keeps the case in view still answers with the whole case.
    api.as_user(staff)
    response = api.post(f"/api/v1/cases/{case.pk}/actions/dispatch", {"handler_body_id": property_company.pk})
    assert response.status_code == 200 and response.json()["allowed_actions"] is not None


def test_dispatch_to_a_body_nobody_acts_for_needs_a_phone_hand_off(tree, api, staff, nobodys_company):  # type: ignore[no-untyped-def]
    """Nobody could acknowledge it: refused (400, naming ``phone_handoff_note``), unless the dispatcher says whom
    they phoned — which goes on the timeline."""
    from gongzhi.cases.models import Case
    from gongzhi.core.models import AuditLog

    case = new_case(staff, tree.grids[0])
    api.as_user(staff)
    url = f"/api/v1/cases/{case.pk}/actions/dispatch"
    response = api.post(url, {"handler_body_id": nobodys_company.pk})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and nobodys_company.name in error["message"]
    assert "无人处理" in error["message"]  # translated (the API speaks the request's language)
    assert [d["field"] for d in error["details"]] == ["phone_handoff_note"]
    assert Case.objects.get(pk=case.pk).status == "reported" and case.events.count() == 1
    # A blank note is no confirmation.
    assert api.post(url, {"handler_body_id": nobodys_company.pk, "phone_handoff_note": "  "}).status_code == 400
    response = api.post(url, {"handler_body_id": nobodys_company.pk, "phone_handoff_note": "电话告知王经理 11:05"})
    assert response.status_code == 200 and response.json()["status"] == "dispatched"
    timeline = api.get(f"/api/v1/cases/{case.pk}/timeline").json()
    assert [(e["action"], e["note"], e["public"]) for e in timeline[1:]] == [
        ("dispatch", "", True),
        ("phone_handoff", "电话告知王经理 11:05", False),
    ]
    audit = AuditLog.objects.get(action="cases.dispatch", object_id=str(case.pk))
    assert audit.after["phone_handoff_note"] == "电话告知王经理 11:05"


@pytest.mark.parametrize(
    ("role", "user_active", "assignment_active", "can_act"),
    [
        (Role.DEPARTMENT_HANDLER, True, True, True),
        (Role.DEPARTMENT_HANDLER, False, True, False),  # the only user is deactivated
        (Role.DEPARTMENT_HANDLER, True, False, False),  # the role was taken away
        (Role.CO_BUILDING_UNIT, True, True, False),  # may read cases, not act on them
    ],
)
def test_who_counts_as_someone_who_can_act(tree, staff, nobodys_company, role, user_active, assignment_active, can_act):  # type: ignore[no-untyped-def]
    from gongzhi.cases import workflow
    from gongzhi.core.errors import ValidationFailed

    person = user_with_role(role, body=nobodys_company)
    person.is_active = user_active
    person.save()
    person.role_assignments.update(is_active=assignment_active)
    assert workflow.bodies_with_actors([nobodys_company.pk]) == ({nobodys_company.pk} if can_act else set())
    case = new_case(staff, tree.grids[0])
    payload = {"handler_body_id": nobodys_company.pk}
    if can_act:
        workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload=payload)
    else:
        with pytest.raises(ValidationFailed) as info:
            workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload=payload)
        assert info.value.details[0].field == "phone_handoff_note"
