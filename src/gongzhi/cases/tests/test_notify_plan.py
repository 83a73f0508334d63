"""Who is told what when a case moves (issue 17, ``cases.notify.plan``), transition by transition: the desk, the
handlers, the dispatcher, the owner, the reporters (merged reports included, by account or by phone); nobody twice,
nobody about their own act; the texts in Chinese with their parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import notify, services, workflow
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import category, new_case
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import co_cover

pytestmark = pytest.mark.django_db

PHONE = "13900001111"
PHONE_2 = "13900002222"
PHONE_3 = "13900003333"


@dataclass
class People:
    tree: Any
    company: Body
    village: Body
    staff: User  # community staff of community 1 (its committee leads grid 1)
    leader: User  # grid leader of grid 1
    other_leader: User  # grid leader of grid 2: not grid 1's desk
    operator: User  # subdistrict operator
    village_staff: User  # the village committee that co-covers grid 1 (村居融洽)
    both: User  # community staff AND village staff: two roles, one person
    worker: User  # grid worker of grid 1
    handler: User  # the property company's handlers
    handler_2: User
    resident: User  # a resident with an account


@pytest.fixture
def people(tree) -> People:  # type: ignore[no-untyped-def]
    company = Body.objects.create(name="府东物业公司", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])
    village = Body.objects.create(name="大干村村委会", kind=BodyKind.VILLAGE_COMMITTEE, node=tree.communities[0])
    co_cover(tree.grids[0], village)
    both = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    RoleAssignment.objects.create(user=both, role=Role.COMMUNITY_STAFF, body=village)
    handler_2 = user_with_role(Role.DEPARTMENT_HANDLER, body=company)
    RoleAssignment.objects.create(user=handler_2, role=Role.MEDIATOR, body=company)  # two roles on one body
    return People(
        tree=tree,
        company=company,
        village=village,
        staff=user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]),
        leader=user_with_role(Role.GRID_LEADER, node=tree.grids[0]),
        other_leader=user_with_role(Role.GRID_LEADER, node=tree.grids[1]),
        operator=user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office),
        village_staff=user_with_role(Role.COMMUNITY_STAFF, body=village),
        both=both,
        worker=user_with_role(Role.GRID_WORKER, node=tree.grids[0]),
        handler=user_with_role(Role.DEPARTMENT_HANDLER, body=company),
        handler_2=handler_2,
        resident=user_with_role(Role.RESIDENT),
    )


@pytest.fixture
def planned(monkeypatch) -> list[tuple[CaseEvent, list[notify.Notice]]]:  # type: ignore[no-untyped-def]
    """Each transition's plan, made where the workflow plans its notifications: inside the transaction."""
    seen: list[tuple[CaseEvent, list[notify.Notice]]] = []
    original = notify.plan

    def spy(case: Case, event: CaseEvent, actor: User | None) -> list[notify.Notice]:
        notices = original(case, event, actor)
        seen.append((event, notices))
        return notices

    monkeypatch.setattr(notify, "plan", spy)
    return seen


def act(
    planned: list, actor: User | None, case: Case, action: str, note: str = "理由", **payload: Any
) -> notify.Notice:
    """Take the action; the one notice its plan holds."""
    planned.clear()
    workflow.perform(actor=actor, case_id=case.pk, action=action, note=note, payload=payload)
    notices = [n for _event, plan in planned for n in plan]
    assert len(notices) == 1, notices
    return notices[0]


def quiet(planned: list, actor: User | None, case: Case, action: str, note: str = "理由", **payload: Any) -> None:
    planned.clear()
    workflow.perform(actor=actor, case_id=case.pk, action=action, note=note, payload=payload)
    assert [n for _event, plan in planned for n in plan] == []


def reported_plan(case: Case, actor: User | None) -> list[notify.Notice]:
    event = CaseEvent.objects.get(case=case, action="report")
    return notify.plan(case, event, actor)


def ids(p: People, *names: str) -> set[int]:
    return {getattr(p, name).pk for name in names}


# --- a new case: the desk whose intake queue it is on --------------------------------------------------------------


def test_new_case_tells_its_desk_and_the_co_covering_body_once(people):  # type: ignore[no-untyped-def]
    case = new_case(people.worker, people.tree.grids[0])
    (notice,) = reported_plan(case, people.worker)
    assert notice.kind == "case.new"
    # The committee's staff, the grid's leader, the village that co-covers the grid; "both" (two roles) once.
    assert notice.user_ids.count(people.both.pk) == 1
    assert set(notice.user_ids) == ids(people, "staff", "leader", "village_staff", "both")
    assert notice.phones == ()
    assert notice.link == f"/cases/{case.pk}/"


def test_new_case_not_on_the_co_covered_grid_skips_the_village(people):  # type: ignore[no-untyped-def]
    case = new_case(people.operator, people.tree.grids[1], channel="desk", reporter_phone=PHONE)
    (notice,) = reported_plan(case, people.operator)
    assert set(notice.user_ids) == ids(people, "staff", "other_leader", "both")


def test_unplaced_case_goes_to_the_subdistrict_desk(people):  # type: ignore[no-untyped-def]
    case = new_case(None, people.tree.subdistrict, channel="resident", reporter_phone=PHONE)
    (notice,) = reported_plan(case, None)
    assert set(notice.user_ids) == ids(people, "operator")


def test_nobody_is_told_of_their_own_report(people):  # type: ignore[no-untyped-def]
    case = new_case(people.both, people.tree.grids[0], channel="desk", reporter_phone=PHONE)
    (notice,) = reported_plan(case, people.both)
    assert people.both.pk not in notice.user_ids
    assert set(notice.user_ids) == ids(people, "staff", "leader", "village_staff")


# --- the transitions, table-driven --------------------------------------------------------------------------------

# (name, steps before: (actor, action, payload)), the step planned, its kind, who is told.
H = "handler"
S = "staff"
DISPATCH = (S, "dispatch", {"handler_body_id": "company"})
TO_WORK = [(S, "accept", {}), DISPATCH, (H, "acknowledge", {}), (H, "start", {})]
TRANSITIONS: list[tuple[str, list[tuple[str, str, dict[str, str]]], tuple[str, str, dict[str, str]], str, set[str]]] = [
    ("dispatch to a body", [(S, "accept", {})], DISPATCH, "case.dispatched", {"handler", "handler_2"}),
    (
        "dispatch to a grid",
        [(S, "accept", {})],
        (S, "dispatch", {"handler_node_id": "grid"}),
        "case.dispatched",
        {"worker", "leader"},
    ),
    ("return", [(S, "accept", {}), DISPATCH], (H, "return", {}), "case.returned", {"staff"}),
    ("dispose", TO_WORK, (H, "dispose", {}), "case.disposed", {"staff"}),  # the dispatcher verifies
    # Nobody dispatched it: the desk verifies.
    ("fixed on the spot", [], ("worker", "fix_on_spot", {}), "case.disposed", {"staff", "leader", "both"}),
    (
        "rework",
        [*TO_WORK, (H, "dispose", {}), (S, "verify", {})],
        (S, "rework", {}),
        "case.rework",
        {"handler", "handler_2"},
    ),
    ("escalate", TO_WORK, (H, "escalate", {}), "case.escalated", {"handler_2", "staff", "leader", "both"}),
    (
        "escalate at the deadline",
        TO_WORK,
        ("", "escalate", {}),
        "case.overdue",
        {"handler", "handler_2", "staff", "leader", "both"},
    ),
    (
        "rated dissatisfied",
        [*TO_WORK, (H, "dispose", {}), (S, "verify", {}), (S, "close", {})],
        (S, "follow_up", {"rating": "dissatisfied"}),
        "case.dissatisfied",
        {"worker"},
    ),
]


def _resolve(p: People, payload: dict[str, str]) -> dict[str, Any]:
    refs = {"company": p.company.pk, "grid": p.tree.grids[0].pk}
    return {k: refs.get(v, v) for k, v in payload.items()}


@pytest.mark.parametrize(
    ("before", "step", "kind", "told"), [t[1:] for t in TRANSITIONS], ids=[t[0] for t in TRANSITIONS]
)
def test_who_is_told(people, planned, before, step, kind, told):  # type: ignore[no-untyped-def]
    case = new_case(people.worker, people.tree.grids[0])  # on patrol: the worker owns it
    for who, action, payload in before:
        workflow.perform(
            actor=getattr(people, who), case_id=case.pk, action=action, note="测试", payload=_resolve(people, payload)
        )
    who, action, payload = step
    actor = getattr(people, who) if who else None
    notice = act(planned, actor, case, action, note="不归我们管", **_resolve(people, payload))
    assert notice.kind == kind
    assert set(notice.user_ids) == ids(people, *told)
    assert len(notice.user_ids) == len(set(notice.user_ids))
    assert notice.phones == ()
    assert actor is None or actor.pk not in notice.user_ids
    assert notice.link == f"/cases/{case.pk}/"
    once = f"case:{case.pk}:overdue:" if kind == "case.overdue" else f"case:{case.pk}:event:"  # once per deadline
    assert notice.dedupe.startswith(once)
    assert notice.params["reason"] == "不归我们管" and notice.params["number"] == case.number


@pytest.mark.parametrize("action", ["accept", "acknowledge", "start", "verify"])
def test_steps_nobody_waits_for_tell_nobody(people, planned, action):  # type: ignore[no-untyped-def]
    case = new_case(people.worker, people.tree.grids[0])
    path = {"accept": [], "acknowledge": ["accept", "dispatch"], "start": ["accept", "dispatch", "acknowledge"]}
    path["verify"] = [*path["start"], "start", "dispose"]
    actors = {"accept": people.staff, "dispatch": people.staff, "verify": people.staff}
    for step in path[action]:
        workflow.perform(
            actor=actors.get(step, people.handler),
            case_id=case.pk,
            action=step,
            note="测试",
            payload={"handler_body_id": people.company.pk} if step == "dispatch" else {},
        )
    quiet(planned, actors.get(action, people.handler), case, action)


# --- the reporters: by account, or by the phone they gave; merged reports included ---------------------------------


def test_closed_tells_every_reporter_of_the_merged_reports(people, planned):  # type: ignore[no-untyped-def]
    case = services.report_case(  # 我要反映, signed in: placed by where it is
        actor=people.resident,
        channel="resident",
        title="小区门口积水",
        category_id=category().pk,
        lat=41.905,
        lng=123.405,
    )
    by_phone = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=PHONE, title="又积水了")
    by_call = new_case(people.staff, people.tree.buildings[0], channel="desk", reporter_phone=PHONE_2, title="积水")
    twice = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=PHONE, title="还在积水")
    mine_too = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=people.resident.phone)
    # A report merged into by_phone before by_phone is merged in: told once when merged, and again at the close.
    chained = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=PHONE_3, title="积水严重")
    assert act(planned, people.staff, chained, "merge", into_case_id=by_phone.pk).phones == (PHONE_3,)
    for dup in (by_phone, by_call, twice, mine_too):
        merged = act(planned, people.staff, dup, "merge", into_case_id=case.pk)
        assert merged.kind == "case.merged"
        assert merged.user_ids == () and merged.phones == (dup.reporter_phone,)
        assert merged.link == f"/cases/public/track/?number={dup.tracking_code[:4]}-{dup.tracking_code[4:8]}-" + (
            f"{dup.tracking_code[8:12]}-{dup.tracking_code[12:]}"
        )
    for who, action in [
        ("staff", "accept"),
        ("staff", "dispatch"),
        ("handler", "acknowledge"),
        ("handler", "start"),
        ("handler", "dispose"),
        ("staff", "verify"),
    ]:
        workflow.perform(
            actor=getattr(people, who),
            case_id=case.pk,
            action=action,
            note="测试",
            payload={"handler_body_id": people.company.pk} if action == "dispatch" else {},
        )
    notice = act(planned, people.staff, case, "close")
    assert notice.kind == "case.closed"
    assert notice.user_ids == (people.resident.pk,)  # the staff member who took the call is not its reporter
    # PHONE reported twice: one message; the resident's own phone: told in the account, not texted besides.
    assert sorted(notice.phones) == [PHONE, PHONE_2, PHONE_3]
    assert notice.link.startswith("/cases/public/track/?number=")
    assert notice.params["code"] in notice.link
    with translation.override("zh-hans"):
        text = str(notice.text) % notice.params
    assert (
        text
        == f"您反映的问题 {case.number}“小区门口积水”已办结。请凭查询码 {notice.params['code']} 查看办理情况并评价。"
    )


def test_rejected_tells_the_reporter_the_reply_never_a_staff_note(people, planned):  # type: ignore[no-untyped-def]
    case = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=PHONE)
    notice = act(planned, people.staff, case, "reject", note="内部：重复报")
    assert (notice.kind, notice.user_ids, notice.phones) == ("case.rejected", (), (PHONE,))
    assert notice.params["reason"] == ""  # an internal note stays internal
    other = new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=PHONE_2, title="路灯")
    planned.clear()
    workflow.perform(actor=people.staff, case_id=other.pk, action="reject", note="不属于受理范围", reply=True)
    ((_event, (replied,)),) = planned
    assert replied.params["reason"] == "不属于受理范围"


def test_reporter_who_rejects_their_own_report_is_not_told(people, planned):  # type: ignore[no-untyped-def]
    case = new_case(people.staff, people.tree.grids[0], channel="patrol")
    quiet(planned, people.staff, case, "reject", note="重复")


# --- texts and queries ---------------------------------------------------------------------------------------------


def test_texts_render_in_chinese_with_their_parameters(people, planned):  # type: ignore[no-untyped-def]
    case = new_case(people.worker, people.tree.grids[0], title="井盖缺失")
    workflow.perform(actor=people.staff, case_id=case.pk, action="accept")
    notice = act(planned, people.staff, case, "dispatch", handler_body_id=people.company.pk)
    case.refresh_from_db()
    assert notice.params["deadline"] and notice.params["number"] == case.number
    with translation.override("zh-hans"):
        text = str(notice.text) % notice.params
    assert text == f"案件 {case.number}“井盖缺失”已派给您，请于 {notice.params['deadline']} 前办理。"
    for rule in notify.RULES:  # every text has its translation, and takes the parameters given
        english = str(rule.text) % notice.params
        with translation.override("zh-hans"):
            zh = str(rule.text) % notice.params
        assert zh != english and ("案件" in zh or "问题" in zh), rule.kind


def test_a_plan_costs_at_most_two_queries(people, planned):  # type: ignore[no-untyped-def]
    case = new_case(people.worker, people.tree.grids[0])
    dups = [
        new_case(None, people.tree.buildings[0], channel="resident", reporter_phone=f"1390000{i:04d}") for i in range(5)
    ]
    for dup in dups:
        workflow.perform(actor=people.staff, case_id=dup.pk, action="merge", payload={"into_case_id": case.pk})
    workflow.perform(actor=people.staff, case_id=case.pk, action="reject", note="测试")
    case = Case.objects.select_related("node").get(pk=case.pk)
    event = CaseEvent.objects.filter(case=case).latest("id")
    with CaptureQueriesContext(connection) as queries:
        (notice,) = notify.plan(case, event, people.staff)
    assert len(notice.phones) == 5
    assert len(queries) <= 2
    report = CaseEvent.objects.get(case=case, action="report")
    with CaptureQueriesContext(connection) as queries:
        notify.plan(case, report, None)
    assert len(queries) == 1


# --- a 12345 import: one digest per desk ----------------------------------------------------------------------------


def test_a_hotline_import_tells_each_desk_once_with_its_count(people, client):  # type: ignore[no-untyped-def]
    """The batch path writes no "case.new" per case: after the import each person on a desk gets ONE message with
    how many of the new cases wait there — exactly the cases ``plan`` would have told them of one by one (the
    village co-covering grid 1, a person on two desks counted once per case); the importer is not told."""
    from gongzhi.cases import hotline
    from gongzhi.cases.tests.test_hotline import GOOD, csv_bytes
    from gongzhi.messaging.models import Message

    rows = [
        [f"GD2026{i:05d}", "2026-03-01 08:15", f"积水{i}", "积水", "积水", address, "王先生", "13812345678", "一般"]
        for i, address in enumerate(
            ["社区1第1网格1号楼"] * 2 + ["社区1第2网格1号楼", "社区2第1网格1号楼", "幸福路99号"]
        )
    ]
    result = hotline.import_file(actor=people.operator, file_name="a.csv", data=csv_bytes(rows + GOOD[:1]))
    assert result.created_count == 6 and result.errors == []
    expected: dict[int, int] = {}
    for case in Case.objects.filter(channel="hotline").select_related("node"):
        for uid in set(notify._staff(case, frozenset({"desk", "desk_co"}))) - {people.operator.pk}:
            expected[uid] = expected.get(uid, 0) + 1
    told = {m.user_id: m for m in Message.objects.filter(kind="case.imported")}
    assert {uid: m.text["params"]["count"] for uid, m in told.items()} == expected
    assert expected[people.staff.pk] == 4 and expected[people.both.pk] == 4  # community 1's four cases, once
    assert expected[people.village_staff.pk] == 3  # the village co-covers grid 1 only
    assert expected[people.leader.pk] == 3 and people.other_leader.pk in expected
    assert people.operator.pk not in told  # the importer
    assert not Message.objects.filter(kind="case.new").exists()  # not one per case
    staff = told[people.staff.pk]
    assert staff.link == "/cases/desk/?channel=hotline"
    with translation.override("zh-hans"):
        assert staff.body == "12345 导入：您的受理台新增 4 件案件。"
    # The link: the staff's intake queue, the hotline's cases only.
    walk_in = new_case(people.worker, people.tree.grids[0])
    client.force_login(people.staff)
    page = client.get(staff.link, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="desk-channel"' in page and walk_in.number not in page
    from gongzhi.cases import selectors

    shown = list(selectors.intake_queue(user=people.staff, channel="hotline"))
    assert len(shown) == 4 and all(c.number in page for c in shown)
    assert walk_in.number in client.get("/cases/desk/").content.decode()

    again = [[f"GX{i}", *row[1:]] for i, row in enumerate(rows[:2])]
    hotline.import_file(actor=people.operator, file_name="b.csv", data=csv_bytes(again))
    assert [m.text["params"]["count"] for m in Message.objects.filter(kind="case.imported", user=people.staff)] == [
        2,
        4,
    ]  # a second import: a second message (newest first)


# --- overdue: the owner and the next tier, once per missed deadline ------------------------------------------------

OVERDUE = [
    # (name, steps before, what the deadline task does, who is told)
    (
        "escalatable: escalated at the deadline",
        TO_WORK,
        "escalate",
        {"handler", "handler_2", "staff", "leader", "both"},
    ),
    # Waiting for verification: not escalatable; the owner (the worker who took it in) and the tier above the grid.
    ("verifying: not escalatable", [*TO_WORK, (H, "dispose", {})], "overdue", {"worker", "staff", "leader", "both"}),
]


@pytest.mark.parametrize(("before", "does", "told"), [t[1:] for t in OVERDUE], ids=[t[0] for t in OVERDUE])
def test_overdue_tells_the_owner_and_the_next_tier_once(people, before, does, told):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from gongzhi.cases import tasks
    from gongzhi.messaging.models import Message

    case = new_case(people.worker, people.tree.grids[0])
    for who, action, payload in before:
        workflow.perform(
            actor=getattr(people, who), case_id=case.pk, action=action, note="测试", payload=_resolve(people, payload)
        )
    case.refresh_from_db()
    late = case.due_at + timedelta(minutes=1)
    assert tasks.run_deadline_check(now=late)["overdue"] == 1
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert event is not None and event.action == does and event.actor_id is None
    messages = Message.objects.filter(kind="case.overdue", object_id=str(case.pk))
    assert sorted(messages.values_list("user_id", flat=True)) == sorted(ids(people, *told))  # each once
    # The job runs again (and again later): nobody is told twice about the same missed deadline.
    tasks.run_deadline_check(now=late)
    tasks.run_deadline_check(now=late + timedelta(hours=1))
    workflow.record_overdue(case_id=case.pk, now=late)  # even were the miss reported twice
    assert messages.count() == len(told)


def test_intake_only_queues_the_telling_the_worker_tells_the_desk_after_commit(  # type: ignore[no-untyped-def]
    people, django_capture_on_commit_callbacks
):
    """Intake stays fast: the request writes no message (no messaging query at all); once it commits one task
    (``cases.tasks.tell``) plans and writes the desk's messages — the same people ``plan`` names, once."""
    from gongzhi.messaging.models import Message

    with django_capture_on_commit_callbacks(execute=False) as queued, CaptureQueriesContext(connection) as queries:
        case = new_case(people.worker, people.tree.grids[0])
    assert not any("messaging_" in q["sql"] for q in queries.captured_queries)
    assert not Message.objects.filter(object_id=str(case.pk)).exists()
    # One task tells; the other callback, if any, is the arrival listeners' (the learned triage's own task).
    queued = [q for q in queued if q.__qualname__.startswith("send_after_commit")]
    assert len(queued) == 1
    queued[0]()  # the commit: the task runs (the tests' immediate backend)
    told = set(Message.objects.filter(kind="case.new", object_id=str(case.pk)).values_list("user_id", flat=True))
    assert told == ids(people, "staff", "leader", "village_staff", "both")
    queued[0]()  # a task run twice tells nobody twice
    assert Message.objects.filter(kind="case.new", object_id=str(case.pk)).count() == len(told)


def test_an_import_that_stops_still_tells_the_desks_of_the_cases_written(people, monkeypatch):  # type: ignore[no-untyped-def]
    """The batches written before an error are cases on desks: their staff hear of them all the same (one message),
    and the error still stops the import."""
    from gongzhi.cases import hotline, intake
    from gongzhi.cases.hotline import writer
    from gongzhi.cases.tests.test_hotline import csv_bytes
    from gongzhi.messaging.models import Message

    rows = [
        [f"GS{i}", "2026-03-01 08:15", f"积水{i}", "积水", "积水", "社区1第1网格1号楼", "王先生", "13812345678", ""]
        for i in range(4)
    ]
    monkeypatch.setattr(writer, "BATCH_ROWS", 2)
    written = intake.report_many
    calls = []

    def second_fails(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return written(**kwargs)

    monkeypatch.setattr(intake, "report_many", second_fails)
    with pytest.raises(RuntimeError):
        hotline.import_file(actor=people.operator, file_name="a.csv", data=csv_bytes(rows))
    staff = Message.objects.get(kind="case.imported", user=people.staff)
    assert staff.text["params"]["count"] == 2  # the first batch's two cases
