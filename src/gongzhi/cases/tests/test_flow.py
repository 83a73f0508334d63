"""Issue 16, the common path: the case page's primary button is the work's next step (never a postponement because
the case is overdue), staff notes are internal unless marked a reply, 签收并开始处置 in one tap, and the desk's batch
dispatch (all or nothing, each case refused by name and reason)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import services, workflow
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import PATHS, new_case, walk
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Message

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def _summaries(page: str, block_id: str) -> list[tuple[str, str]]:
    """(action, class) of the action buttons in one block of the case page."""
    start = page.index(f'id="{block_id}"')
    end = page.find("</div>\n", start)
    block = page[start:end] if block_id == "work-actions" else page[start:]
    return re.findall(r'<summary class="([^"]*)" id="action-([a-z_]+)"', block)


def _in_progress_for_the_committee(operator, staff, tree):  # type: ignore[no-untyped-def]
    """An overdue case the community committee works itself: dispatched to it by the subdistrict, in progress."""
    case = new_case(operator, tree.grids[0])
    workflow.perform(
        actor=operator, case_id=case.pk, action="dispatch", payload={"handler_body_id": tree.committees[0].pk}
    )
    workflow.perform(actor=staff, case_id=case.pk, action="acknowledge_start")
    Case.objects.filter(pk=case.pk).update(is_overdue=True)
    return Case.objects.get(pk=case.pk)


# --- the primary action is the work's next step ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_path", "role_fixture", "primary"),
    [
        ([], "staff", "accept"),
        (["accept"], "staff", "dispatch"),
        (["accept"], "worker", "fix_on_spot"),
    ],
)
def test_the_next_step_comes_first_per_status_and_role(
    request, tree, worker, staff, status_path, role_fixture, primary
):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.grids[0])
    for action in status_path:
        workflow.perform(actor=staff, case_id=case.pk, action=action)
    user = request.getfixturevalue(role_fixture)
    actions = workflow.allowed_actions(user, Case.objects.get(pk=case.pk))
    assert actions[0].action == primary


@pytest.mark.parametrize("status", list(PATHS))
def test_every_state_leads_with_its_next_step(status, tree, admin, property_company):  # type: ignore[no-untyped-def]
    """Over every state (as the administrator, who may take everything): the first action is the work's next step,
    and no postponement, return, rejection, cancellation, merge or escalation is ever first."""
    other = new_case(admin, tree.grids[0], title="另一件")
    case = walk(admin, new_case(admin, tree.grids[0]), status, handler_body=property_company, other_case=other)
    case.is_overdue = True  # overdue changes nothing in the order
    actions = [t.action for t in workflow.allowed_actions(admin, case)]
    steps = workflow.NEXT_STEPS.get(status, ())
    if steps:
        assert actions[0] == steps[0]
        assert actions[: len(steps)] == list(steps)
    assert not actions or actions[0] not in {"postpone", "return", "reject", "cancel", "merge", "escalate"}


def test_an_overdue_case_in_progress_offers_the_work_not_a_postponement(client, tree, operator, staff):  # type: ignore[no-untyped-def]
    case = _in_progress_for_the_committee(operator, staff, tree)
    allowed = [t.action for t in workflow.allowed_actions(staff, case)]
    assert "postpone" in allowed and allowed[0] == "dispose"
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert 'class="badge badge-overdue"' in page, "overdue shows as a badge"
    work = _summaries(page, "work-actions")
    assert work[0] == ("button button-primary", "dispose")
    other = dict((a, c) for c, a in _summaries(page, "other-actions"))
    assert other["postpone"] == "button" and other["escalate"] == "button"
    assert not any(a == "postpone" for _c, a in work)
    # Postponed, the next step is to resume.
    workflow.perform(actor=staff, case_id=case.pk, action="postpone", note="等配件", payload={"until": None})
    assert workflow.allowed_actions(staff, Case.objects.get(pk=case.pk))[0].action == "resume"


def test_a_desk_user_who_is_not_the_handler_gets_no_red_button(client, tree, operator, staff, property_company):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    handler = user_with_role(Role.DEPARTMENT_HANDLER, body=property_company)
    workflow.perform(actor=handler, case_id=case.pk, action="acknowledge_start")
    Case.objects.filter(pk=case.pk).update(is_overdue=True)
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert 'id="action-postpone"' in page
    assert (
        "button-primary"
        not in page.split('id="case-actions"')[1].split('id="action-postpone"')[0].split("<summary")[-1]
    )
    assert _summaries(page, "work-actions") == []


# --- notes: internal unless a reply ---------------------------------------------------------------------------------


def test_notes_are_internal_unless_marked_a_reply(client, tree, worker, staff, property_company):  # type: ignore[no-untyped-def]
    case = new_case(None, tree.buildings[0], channel="resident", reporter_phone=PHONE, title="楼道灯坏了")
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    reply_box = re.search(r'<input type="checkbox" name="note-reply"[^>]*>', page)
    assert reply_box and "checked" not in reply_box.group(0), "回复反映人 is unchecked by default"
    assert "回复反映人" in page
    # The note form, unchecked: internal.
    client.post(reverse("cases-note", args=[case.pk]), {"note-note": "住户说话很冲"})
    # An action's note, the box unchecked: the step shows, the note does not.
    client.post(reverse("cases-act", args=[case.pk, "accept"]), {"accept-note": "先问物业有没有备件"})
    # Marked as a reply: shown.
    client.post(reverse("cases-note", args=[case.pk]), {"note-note": "您好，已安排电工明天上门", "note-reply": "on"})
    events = {e.note: e for e in CaseEvent.objects.filter(case=case)}
    assert not events["住户说话很冲"].public and not events["住户说话很冲"].reply
    assert events["先问物业有没有备件"].public and not events["先问物业有没有备件"].reply
    assert events["您好，已安排电工明天上门"].reply
    # The API: no ``reply`` given, internal; ``reply: true`` shown.
    workflow.perform(
        actor=staff, case_id=case.pk, action="dispatch", note="派物业", payload={"handler_body_id": property_company.pk}
    )
    client.logout()
    response = client.post(reverse("cases-public-track"), {"code": case.number, "phone": PHONE})
    page = html_of(response)
    assert "已受理" in page and "已派遣" in page, "the steps are shown"
    assert "您好，已安排电工明天上门" in page
    for internal in ("住户说话很冲", "先问物业有没有备件", "派物业"):
        assert internal not in page


def test_the_api_note_default_is_internal_and_public_true_still_replies(tree, api, staff):  # type: ignore[no-untyped-def]
    case = new_case(None, tree.buildings[0], channel="resident", reporter_phone=PHONE, title="垃圾没清")
    api.as_user(staff)
    assert api.post(f"/api/v1/cases/{case.pk}/actions/accept", {"note": "内部：已电话核实"}).status_code == 200
    timeline = api.get(f"/api/v1/cases/{case.pk}/timeline").json()
    assert (timeline[-1]["public"], timeline[-1]["reply"]) == (True, False)
    track = api.get(f"/api/v1/cases/public/track?number={case.number}&phone={PHONE}").json()
    assert "内部：已电话核实" not in str(track) and any(e["action"] == "accept" for e in track["timeline"])
    # The older ``public: true`` still makes the note a reply; ``reply: true`` is the new way.
    api.post(f"/api/v1/cases/{case.pk}/actions/escalate", {"note": "已上报街道协调", "public": True})
    api.post(f"/api/v1/cases/{case.pk}/actions/escalate", {"note": "街道已接手", "reply": True})
    track = api.get(f"/api/v1/cases/public/track?number={case.number}&phone={PHONE}").json()
    notes = [e["note"] for e in track["timeline"]]
    assert "已上报街道协调" in notes and "街道已接手" in notes


# --- 签收并开始处置 -----------------------------------------------------------------------------------------------------


def test_acknowledge_and_start_in_one_step(client, tree, staff, handler, property_company, other_tree):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    assert [t.action for t in workflow.allowed_actions(handler, Case.objects.get(pk=case.pk))][:2] == [
        "acknowledge",
        "acknowledge_start",
    ]
    client.force_login(handler)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert 'id="action-acknowledge_start"' in page and "签收并开始处置" in page
    response = client.post(
        reverse("cases-act", args=[case.pk, "acknowledge_start"]), {"acknowledge_start-note": "马上到"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress" and case.acknowledged_at is not None
    events = list(case.events.order_by("at", "id").values_list("action", "from_status", "to_status", "note"))
    assert events[-2:] == [
        ("acknowledge", "dispatched", "acknowledged", ""),
        ("start", "acknowledged", "in_progress", "马上到"),
    ]
    assert set(AuditLog.objects.filter(object_id=str(case.pk)).values_list("action", flat=True)) >= {
        "cases.acknowledge",
        "cases.start",
    }
    # Not dispatched any more: a conflict, nothing written.
    with pytest.raises(Exception) as info:
        workflow.perform(actor=handler, case_id=case.pk, action="acknowledge_start")
    assert getattr(info.value, "status", None) == 409


def test_acknowledge_and_start_out_of_scope_is_404_and_all_or_nothing(
    client, tree, staff, property_company, other_tree
):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    outsider = user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0], body=other_tree.committees[0])
    with pytest.raises(NotFound):
        workflow.perform(actor=outsider, case_id=case.pk, action="acknowledge_start")
    client.force_login(outsider)
    assert client.post(reverse("cases-act", args=[case.pk, "acknowledge_start"])).status_code == 404
    # The grid worker sees it but is not the handler: refused, and nothing (not even the acknowledgement) is kept.
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    with pytest.raises(Exception) as info:
        workflow.perform(actor=worker, case_id=case.pk, action="acknowledge_start")
    assert getattr(info.value, "status", None) == 403
    case.refresh_from_db()
    assert case.status == "dispatched" and not case.events.filter(action="acknowledge").exists()


def test_a_failing_second_step_rolls_back_the_first(tree, staff, handler, property_company, monkeypatch):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValidationFailed("start refused")

    start = workflow.TRANSITIONS["start"]
    monkeypatch.setitem(workflow.TRANSITIONS, "start", workflow.Transition(**{**start.__dict__, "effect": boom}))
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=handler, case_id=case.pk, action="acknowledge_start")
    case.refresh_from_db()
    assert case.status == "dispatched" and not case.events.filter(action="acknowledge").exists()


# --- batch dispatch from the desk -----------------------------------------------------------------------------------


def test_batch_dispatch_all_or_nothing_with_reasons(
    client, tree, other_tree, worker, staff, property_company, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    a = new_case(worker, tree.grids[0], title="路灯不亮")
    b = new_case(worker, tree.grids[0], title="井盖松动")
    closed = new_case(worker, tree.grids[0], title="已处理的")
    workflow.perform(actor=staff, case_id=closed.pk, action="cancel", note="重复")
    elsewhere = new_case(
        user_with_role(Role.GRID_WORKER, node=other_tree.grids[0]), other_tree.grids[0], title="别处的"
    )
    # One case cannot go (cancelled), one is out of scope: nothing is dispatched, each is named with the reason.
    with pytest.raises(ValidationFailed) as info:
        services.dispatch_many(
            actor=staff, case_ids=[a.pk, closed.pk, b.pk, elsewhere.pk], handler_body_id=property_company.pk
        )
    details = [(d.row, str(d.message)) for d in info.value.details]
    assert [row for row, _m in details] == [1, 3]
    assert closed.number in details[0][1] and "Cancelled" in details[0][1]
    assert f"#{elsewhere.pk}" in details[1][1] and elsewhere.number not in details[1][1], "nothing told of it"
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"reported"}
    assert not CaseEvent.objects.filter(action="dispatch").exists()
    # All can go: each dispatched through the workflow, each with its own timeline event, audit record, notification.
    with django_capture_on_commit_callbacks(execute=True):
        done = services.dispatch_many(
            actor=staff, case_ids=[a.pk, b.pk], handler_body_id=property_company.pk, note="请尽快"
        )
    assert {c.pk for c in done} == {a.pk, b.pk}
    for case in (a, b):
        case.refresh_from_db()
        assert case.status == "dispatched" and case.handler_body == property_company
        assert case.events.filter(action="dispatch", actor=staff, note="请尽快").count() == 1
        assert AuditLog.objects.filter(action="cases.dispatch", object_id=str(case.pk)).count() == 1
        assert Message.objects.filter(kind="case.dispatched", object_id=str(case.pk)).exists()


def test_batch_dispatch_from_the_desk_page(client, tree, worker, staff, property_company, nobodys_company):  # type: ignore[no-untyped-def]
    a = new_case(worker, tree.grids[0], title="路灯不亮")
    b = new_case(worker, tree.grids[0], title="井盖松动")
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-desk")))
    assert 'id="batch-dispatch"' in page
    assert f'name="batch-case" value="{a.pk}" form="batch-dispatch"' in page
    # To a body nobody acts for, without a phone hand-off: refused for each case, nothing changes.
    response = client.post(
        reverse("cases-desk-dispatch"), {"batch-case": [a.pk, b.pk], "batch-handler": f"body:{nobodys_company.pk}"}
    )
    assert response.status_code == 400
    page = html_of(response)
    assert a.number in page and b.number in page and nobodys_company.name in page
    assert re.search(rf'value="{a.pk}" form="batch-dispatch"[^>]*checked', page), "the ticks are kept"
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"reported"}
    # Nothing ticked: said so.
    response = client.post(reverse("cases-desk-dispatch"), {"batch-handler": f"body:{property_company.pk}"})
    assert response.status_code == 400 and "请勾选" in html_of(response)
    response = client.post(
        reverse("cases-desk-dispatch"), {"batch-case": [a.pk, b.pk], "batch-handler": f"body:{property_company.pk}"}
    )
    assert response.status_code == 302
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"dispatched"}
    # A grid worker has no dispatch: no batch form on their desk.
    client.force_login(worker)
    assert 'id="batch-dispatch"' not in html_of(client.get(reverse("cases-desk")))


def test_batch_dispatch_through_the_api(tree, other_tree, api, worker, staff, property_company):  # type: ignore[no-untyped-def]
    a = new_case(worker, tree.grids[0], title="路灯不亮")
    elsewhere = new_case(user_with_role(Role.GRID_WORKER, node=other_tree.grids[0]), other_tree.grids[0])
    api.as_user(staff)
    response = api.post(
        "/api/v1/cases/dispatch", {"case_ids": [a.pk, elsewhere.pk], "handler_body_id": property_company.pk}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [(d["field"], d["row"]) for d in error["details"]] == [("case_ids", 1)]
    assert Case.objects.get(pk=a.pk).status == "reported"
    response = api.post("/api/v1/cases/dispatch", {"case_ids": [a.pk], "handler_body_id": property_company.pk})
    assert response.status_code == 200, response.content
    assert [c["status"] for c in response.json()] == ["dispatched"]
