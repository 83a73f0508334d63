"""The transition table, exhaustively: every action from every state, plus role, scope and note checks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.choices import Status, Tier
from gongzhi.cases.models import CaseEvent
from gongzhi.cases.tests.factories import PATHS, new_case, payload_for, walk
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Message

pytestmark = pytest.mark.django_db

ACTIONS = list(workflow.TRANSITIONS)


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_from_every_state(status, action, tree, admin, property_company):  # type: ignore[no-untyped-def]
    other = new_case(admin, tree.grids[0], title="另一件")
    case = walk(admin, new_case(admin, tree.grids[0]), status, handler_body=property_company, other_case=other)
    transition = workflow.TRANSITIONS[action]
    events_before = CaseEvent.objects.filter(case=case).count()
    payload = payload_for(action, handler_body=property_company, other_case=other)
    if status in transition.sources:
        workflow.perform(actor=admin, case_id=case.pk, action=action, note="理由", payload=payload)
        case.refresh_from_db()
        assert case.status == (transition.target or status)
        event = CaseEvent.objects.filter(case=case).latest("id")
        assert (event.action, event.from_status, event.to_status) == (action, status, case.status)
        assert event.actor == admin
        assert AuditLog.objects.filter(action=f"cases.{action}", object_id=str(case.pk)).exists()
    else:
        with pytest.raises(Conflict) as info:
            workflow.perform(actor=admin, case_id=case.pk, action=action, note="理由", payload=payload)
        assert f"current state: {status}" in info.value.details[0].message
        case.refresh_from_db()
        assert case.status == status
        assert CaseEvent.objects.filter(case=case).count() == events_before


def test_unknown_action(tree, admin):  # type: ignore[no-untyped-def]
    case = new_case(admin, tree.grids[0])
    with pytest.raises(ValidationFailed, match="Unknown action"):
        workflow.perform(actor=admin, case_id=case.pk, action="teleport")


@pytest.mark.parametrize("action", [a for a, t in workflow.TRANSITIONS.items() if t.note_required])
def test_note_required(action, tree, admin, property_company):  # type: ignore[no-untyped-def]
    transition = workflow.TRANSITIONS[action]
    start = next(s for s in PATHS if s in transition.sources)
    case = walk(admin, new_case(admin, tree.grids[0]), start, handler_body=property_company)
    with pytest.raises(ValidationFailed) as info:
        workflow.perform(
            actor=admin,
            case_id=case.pk,
            action=action,
            note="  ",
            payload=payload_for(action, handler_body=property_company),
        )
    assert info.value.details[0].field == "note"


def test_the_chain_with_real_roles(tree, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    """Grid worker reports → community dispatches to the property company → it disposes → worker verifies."""
    case = new_case(worker, tree.buildings[0], title="府东小区绿化带晾晒被子")
    assert case.tier == Tier.BUILDING and case.owner_body == tree.committees[0] and case.owner_user == worker
    workflow.perform(actor=staff, case_id=case.pk, action="accept")
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    # The handler only sees the case once it is dispatched to their body.
    workflow.perform(actor=handler, case_id=case.pk, action="acknowledge")
    workflow.perform(actor=handler, case_id=case.pk, action="start")
    workflow.perform(actor=handler, case_id=case.pk, action="dispose", note="已劝导收回被子")
    workflow.perform(actor=worker, case_id=case.pk, action="verify")
    workflow.perform(actor=worker, case_id=case.pk, action="close")
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_kind == "normal"
    assert [e.action for e in case.events.order_by("at", "id")] == [
        "report",
        "accept",
        "dispatch",
        "acknowledge",
        "start",
        "dispose",
        "verify",
        "close",
    ]


def test_role_checks(tree, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0])
    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0])
    with pytest.raises(Forbidden, match="role"):
        workflow.perform(
            actor=head, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk}
        )
    # A handler who is not (yet) the case's handler cannot see it at all.
    with pytest.raises(NotFound):
        workflow.perform(actor=handler, case_id=case.pk, action="acknowledge")
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    # A grid worker on the ground sees it but is not the handler.
    with pytest.raises(Forbidden, match="handler"):
        workflow.perform(actor=worker, case_id=case.pk, action="acknowledge")
    # Staff of another community: not found.
    outsider = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])
    with pytest.raises(NotFound):
        workflow.perform(actor=outsider, case_id=case.pk, action="return", note="x")


def test_return_goes_back_to_the_dispatcher(
    tree,
    staff,
    handler,
    property_company,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
):
    case = new_case(staff, tree.grids[0])
    with django_capture_on_commit_callbacks(execute=True):
        workflow.perform(
            actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk}
        )
        workflow.perform(actor=handler, case_id=case.pk, action="return", note="不属于物业管理范围")
    assert Message.objects.filter(user=handler, kind="case.dispatched", object_id=str(case.pk)).count() == 1
    case.refresh_from_db()
    assert case.status == Status.RETURNED and case.handler_body is None and case.return_count == 1
    returned = Message.objects.get(user=staff, kind="case.returned", object_id=str(case.pk))
    assert "不属于物业管理范围" in returned.body, "the reason goes with it"
    assert [t.action for t in workflow.allowed_actions(staff, case)][:1] == ["dispatch"]


def test_rework_returns_to_the_same_handler_and_counts(tree, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    for action in ("acknowledge", "start"):
        workflow.perform(actor=handler, case_id=case.pk, action=action)
    for round_ in (1, 2):
        workflow.perform(actor=handler, case_id=case.pk, action="dispose", note=f"第{round_}次处置")
        workflow.perform(actor=worker, case_id=case.pk, action="verify")
        workflow.perform(actor=worker, case_id=case.pk, action="rework", note="现场仍有积水")
        workflow.perform(actor=handler, case_id=case.pk, action="start")
    case.refresh_from_db()
    assert case.rework_count == 2 and case.handler_body == property_company and case.status == Status.IN_PROGRESS


def test_fix_on_spot_is_still_recorded_and_verified(tree, worker):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.grids[0], fixed_on_spot_note="已当场清理")
    assert case.status == Status.DISPOSED and case.fixed_on_spot and case.due_step == "verify"
    other = user_with_role(Role.GRID_LEADER, node=tree.grids[0])
    workflow.perform(actor=other, case_id=case.pk, action="verify")
    workflow.perform(actor=other, case_id=case.pk, action="close")


def test_manual_escalation_climbs_the_tiers(tree, staff):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.buildings[0])
    owners = []
    for _ in range(4):
        workflow.perform(
            actor=staff if _ < 2 else user_with_role(Role.ADMIN),
            case_id=case.pk,
            action="escalate",
            note="楼栋解决不了",
        )
        case.refresh_from_db()
        owners.append((case.tier, case.owner_body_id))
    assert owners == [
        (Tier.GRID, tree.committees[0].pk),
        (Tier.COMMUNITY, tree.committees[0].pk),
        (Tier.SUBDISTRICT, tree.office.pk),
        (Tier.DEPARTMENT, tree.office.pk),
    ]
    with pytest.raises(Conflict, match="top tier"):
        workflow.perform(actor=user_with_role(Role.ADMIN), case_id=case.pk, action="escalate", note="x")


def test_allowed_actions_are_what_perform_accepts(tree, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.grids[0])
    assert {t.action for t in workflow.allowed_actions(staff, case)} == {
        "accept",
        "reject",
        "dispatch",
        "merge",
        "cancel",
        "escalate",
    }
    assert {t.action for t in workflow.allowed_actions(worker, case)} == {"accept", "fix_on_spot", "merge", "escalate"}
    assert workflow.allowed_actions(handler, case) == []


# The intake writer: where a case is born (single or bulk; cases/intake.py and the cases/hotline package are
# where intake is moving). It may name the status column in its raw COPY; its status still comes from
# workflow.create_status().
INTAKE_WRITERS = ("cases/services.py", "cases/intake.py", "cases/hotline.py", "cases/hotline/")
# The column list of the intake writer's case COPY, kept with the app's raw SQL (its values are built in
# cases/intake.py, the status from workflow.create_status()): the one list outside the intake writer that may name it.
INTAKE_COLUMN_LISTS = {("cases/sql.py", "CASE_COPY_COLUMNS")}
_CASE_WRITES = (
    "create", "update", "bulk_create", "get_or_create", "update_or_create", "Case", "Dispute", "PoliceNotice"
)
# The status machines (core.statemachine) write a status for their workflow module, and only these use them: a case's
# (cases/workflow.py), a dispute's and a police notice's (disputes/workflow.py).
WORKFLOW_MODULES = ("cases/workflow.py", "disputes/workflow.py")
_CREATE_STATUS = ("create_status", "notice_create_status")
_SQL_WRITE = re.compile(r"\b(UPDATE|INSERT INTO|COPY)\b")
_STATUS_WORD = re.compile(r"\bstatus\b")
_WRITE_COLUMNS = re.compile(r"(COPY|INSERT|ROW|WRITE)\w*COLUMNS$", re.IGNORECASE)


# Statuses of other apps' own records, each written by that app's services alone (a hazard's register, a need's
# place on the list): a write whose value is one of these enums' members is not a case's, a dispute's or a notice's.
OWN_STATUS_ENUMS = frozenset(
    {"HazardStatus", "NeedStatus", "ClaimStatus", "MeetingStatus", "TopicStatus", "DecisionStatus", "NominationStatus"}
)


def _is_own_status(value: ast.expr) -> bool:
    """``HazardStatus.CLOSED`` and the like (:data:`OWN_STATUS_ENUMS`), or a choice between two of them."""
    if isinstance(value, ast.IfExp):
        return _is_own_status(value.body) and _is_own_status(value.orelse)
    return (
        isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in OWN_STATUS_ENUMS
    )


def _is_create_status(value: ast.expr) -> bool:
    """``workflow.create_status()`` (or ``create_status()``; ``notice_create_status()`` for a police notice): the one
    status a case, a dispute or a notice is born with."""
    func = value.func if isinstance(value, ast.Call) else None
    return (isinstance(func, ast.Attribute) and func.attr in _CREATE_STATUS) or (
        isinstance(func, ast.Name) and func.id in _CREATE_STATUS
    )


def case_status_writes(rel: str, source: str) -> list[str]:
    """Where ``source`` (the module at ``rel``) writes a case status other than through cases/workflow.py:
    ``x.status = …``, ``setattr(x, "status", …)``, ``Case(status=…)`` / ``.create|update|bulk_create…(status=…)``
    or ``(**{"status": …})`` not from ``create_status()``, and raw SQL or COPY naming a status column outside the
    intake writer (``UPDATE … status``, a ``*_COLUMNS`` list holding ``"status"``)."""
    tree_ = ast.parse(source)
    docstrings = {
        id(n.value) for n in ast.walk(tree_) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    intake = rel.startswith(INTAKE_WRITERS)
    write_columns = _WRITE_COLUMNS if not rel.endswith("/sql.py") else re.compile("COLUMNS$", re.IGNORECASE)
    found = []
    for node in ast.walk(tree_):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets) and not (
                node.value is not None and _is_own_status(node.value)
            ):
                found.append(f"{where} .status =")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "setattr" and len(node.args) >= 2:
                attr = node.args[1]
                if isinstance(attr, ast.Constant) and attr.value == "status":
                    found.append(f"{where} setattr status")
            if name in _CASE_WRITES:
                for kw in node.keywords:
                    if kw.arg == "status" and not _is_create_status(kw.value) and not _is_own_status(kw.value):
                        found.append(f"{where} {name}(status=)")
                    if kw.arg is None and isinstance(kw.value, ast.Dict):  # update(**{"status": …})
                        for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                            if isinstance(key, ast.Constant) and key.value == "status" and not _is_create_status(value):
                                found.append(f"{where} {name}(**{{'status': …}})")
        if intake:
            continue
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        elif isinstance(node, ast.JoinedStr):  # f"UPDATE {table} SET status = …"
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if text is not None and _SQL_WRITE.search(text) and _STATUS_WORD.search(text):
            found.append(f"{where} raw SQL names status")
        # The column lists raw writers name their columns in (``_CASE_ROW_COLUMNS``, ``PERSON_COPY_COLUMNS``, any
        # ``*COLUMNS`` of an app's sql.py); not the lists reads load (``CASE_OUT_COLUMNS``).
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name) and write_columns.search(t.id) and (rel, t.id) not in INTAKE_COLUMN_LISTS
                for t in node.targets
            )
            and isinstance(node.value, ast.Tuple | ast.List)
            and any(isinstance(e, ast.Constant) and e.value == "status" for e in node.value.elts)
        ):
            found.append(f"{where} column list with status")
    return found


def test_only_workflow_writes_case_status() -> None:
    """A lint rule: no module but cases/workflow.py writes a case's status, and none writes a dispute's or a police
    notice's (disputes/workflow.py moves them through core.statemachine, without a ``.status =`` of its own; see
    :func:`case_status_writes`)."""
    import gongzhi

    root = Path(gongzhi.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel == "cases/workflow.py" or "/migrations/" in rel or "/tests/" in rel:
            continue
        offenders += case_status_writes(rel, path.read_text(encoding="utf-8"))
    assert offenders == [], f"status written outside its workflow module: {offenders}"


def test_only_the_workflow_modules_use_the_state_machine() -> None:
    """core.statemachine writes a status for the workflow that drives it: only the workflow modules import it (any
    other module moves a status by calling its app's workflow)."""
    import gongzhi

    root = Path(gongzhi.__file__).parent
    users = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if "/tests/" in rel or rel == "core/statemachine.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
            if any("statemachine" in n for n in names):
                users.append(rel)
    assert sorted(set(users)) == sorted(WORKFLOW_MODULES)


def test_the_dispute_workflow_writes_no_status_itself() -> None:
    """disputes/workflow.py is not exempt from the rule: its statuses move through the shared machine."""
    import gongzhi

    source = (Path(gongzhi.__file__).parent / "disputes" / "workflow.py").read_text(encoding="utf-8")
    assert case_status_writes("disputes/workflow.py", source) == []


@pytest.mark.parametrize(
    "source",
    [
        "case.status = 'closed'",
        "setattr(case, 'status', 'closed')",
        "Case(number='1', status=Status.CLOSED)",
        "models.Case(status='closed')",
        "Case.objects.filter(pk=1).update(status='closed')",
        "Case.objects.filter(pk=1).update(**{'status': 'closed'})",
        "Case.objects.bulk_create([Case(status=s) for s in x])",
        "cursor.execute('UPDATE cases_case SET status = %s WHERE id = %s', ['closed', 1])",
        "cursor.execute(f'UPDATE {table} SET status = %s', ['closed'])",
        "cursor.copy(f\"COPY cases_case (id, number, status) FROM STDIN\")",
        "_CASE_ROW_COLUMNS = ('id', 'number', 'status')",
        "CASE_COPY_COLUMNS = ['id', 'number', 'status']",
        "dispute.status = 'agreed'",
        "notice.status = 'answered'",
        "Dispute(number='1', status=Status.AGREED)",
        "PoliceNotice(number='1', status='answered')",
        "Dispute.objects.filter(pk=1).update(status='closed')",
        "PoliceNotice.objects.filter(pk=1).update(**{'status': 'answered'})",
        "cursor.execute('UPDATE disputes_dispute SET status = %s', ['closed'])",
        "cursor.execute('UPDATE disputes_policenotice SET status = %s', ['answered'])",
    ],
)
def test_the_status_rule_catches(source: str) -> None:
    assert case_status_writes("visits/services.py", source), source


def test_other_apps_own_statuses_are_theirs() -> None:
    assert case_status_writes("inspections/services.py", "hazard.status = HazardStatus.CLOSED") == []
    assert case_status_writes("participation/services.py", "Need.objects.update(status=NeedStatus.OPEN)") == []
    assert case_status_writes("inspections/services.py", "case.status = Status.CLOSED")
    assert case_status_writes("inspections/services.py", "hazard.status = 'closed'")


def test_reads_may_list_the_status_column() -> None:
    assert case_status_writes("cases/schemas.py", "CASE_OUT_COLUMNS = ('id', 'number', 'status')") == []
    assert case_status_writes("cases/sql.py", "CASE_OUT_COLUMNS = ('id', 'number', 'status')")


def test_only_the_intake_copy_list_of_cases_sql_may_name_the_status() -> None:
    source = "CASE_COPY_COLUMNS = ('id', 'number', 'status')"
    assert case_status_writes("cases/sql.py", source) == []
    assert case_status_writes("visits/sql.py", source)
    assert case_status_writes("cases/sql.py", "CASE_STATUS_COLUMNS = ('id', 'status')")
    assert case_status_writes("cases/sql.py", "UPDATE_SQL = 'UPDATE cases_case SET status = %s'")


@pytest.mark.parametrize(
    "source",
    [
        "Case(number='1', status=workflow.create_status())",
        "Case.objects.bulk_create([Case(status=workflow.create_status())])",
        "cursor.copy(f\"COPY cases_case (id, number, status) FROM STDIN\")",
        "_CASE_ROW_COLUMNS = ('id', 'number', 'status')",
    ],
)
def test_the_intake_writer_names_the_column_but_takes_the_status_from_the_workflow(source: str) -> None:
    assert case_status_writes("cases/intake.py", source) == []
    assert case_status_writes("cases/hotline/writer.py", source) == []
    assert case_status_writes("cases/intake.py", "case.status = 'closed'")


def test_replay_history_follows_the_table(tree, admin):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from gongzhi.cases.models import Case

    case = Case(number="X1", reported_at=timezone.now(), channel="patrol")
    t = case.reported_at
    events = workflow.replay_history(case, [("accept", t, "a", ""), ("dispatch", t + timedelta(hours=1), "a", "")])
    assert case.status == Status.DISPATCHED
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("report", "", "reported"), ("accept", "reported", "accepted"), ("dispatch", "accepted", "dispatched")]
    with pytest.raises(Conflict):
        workflow.replay_history(Case(number="X2", reported_at=t, channel="patrol"), [("close", t, "a", "")])


def test_overlapping_bodies_see_and_co_handle_but_are_told_once(  # type: ignore[no-untyped-def]
    tree, staff, property_company, django_capture_on_commit_callbacks
):
    """村居融洽: a co-body of the place sees the case and may act on it; the owner stays the lead body; a person
    reached through two bodies gets one notification."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.cases import selectors
    from gongzhi.territory.tests.factories import co_cover

    grid = tree.grids[0]
    co_cover(grid, tree.committees[1])  # community 2's committee co-covers community 1's first grid
    co_staff = user_with_role(Role.COMMUNITY_STAFF, body=tree.committees[1])
    case = new_case(staff, grid)
    assert case.owner_body == tree.committees[0]
    assert selectors.case_list(user=co_staff).filter(pk=case.pk).exists()
    # The same person is posted on the grid and works for the property company.
    both = user_with_role(Role.GRID_WORKER, node=grid)
    RoleAssignment.objects.create(user=both, role=Role.DEPARTMENT_HANDLER, body=property_company)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.perform(actor=co_staff, case_id=case.pk, action="dispatch",
                         payload={"handler_body_id": property_company.pk, "handler_node_id": grid.pk})
    assert Message.objects.filter(user=both, object_id=str(case.pk)).count() == 1
    case.refresh_from_db()
    assert case.owner_body == tree.committees[0], "co-handling never changes the owner"


def test_scope_decided_in_memory_is_the_filters(tree, admin, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    """``allowed_actions`` decides scope on the case in hand (``ScopeRule.admits``): over cases in every state,
    placed in two communities and handed to a body, it agrees with ``restrict`` for every kind of user."""
    from gongzhi.cases.models import Case
    from gongzhi.core.scope import scope_of

    other_staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])
    other_worker = user_with_role(Role.GRID_WORKER, node=tree.grids[-1])
    other = new_case(admin, tree.grids[0], title="另一件")
    for i, status in enumerate(PATHS):
        place = tree.buildings[0] if i % 2 else tree.grids[-1]
        walk(admin, new_case(admin, place), status, handler_body=property_company, other_case=other)
    cases = list(Case.objects.select_related("node", "handler_node"))
    assert len({c.place_code[:12] for c in cases}) == 2 and any(c.handler_body_id for c in cases)
    sizes = set()
    for user in (admin, worker, staff, handler, other_staff, other_worker):
        for action in ("view", "change"):
            allowed = set(Case.objects.restrict(user, action).values_list("pk", flat=True))
            scope = scope_of(user, Case, action)
            assert {c.pk for c in cases if Case.scope_rule.admits(scope, c)} == allowed, (user.username, action)
            sizes.add(len(allowed))
        for case in cases:
            if case.pk not in allowed:
                assert workflow.allowed_actions(user, case) == []
    assert len(sizes) > 2  # the users see different parts of the cases: the comparison discriminates


@pytest.mark.parametrize(
    "source",
    [
        "Dispute(number='1', status=workflow.create_status())",
        "PoliceNotice(number='1', status=workflow.notice_create_status())",
    ],
)
def test_a_dispute_or_notice_is_born_with_its_workflows_status(source: str) -> None:
    assert case_status_writes("disputes/services.py", source) == []
