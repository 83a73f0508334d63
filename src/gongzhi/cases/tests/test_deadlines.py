"""Deadline arithmetic on the work calendar, and automatic escalation when a deadline is missed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gongzhi.cases import deadlines, workflow
from gongzhi.cases.calendar import WorkCalendar
from gongzhi.cases.choices import DeadlineUnit, Step, Tier
from gongzhi.cases.models import CalendarDay, DeadlineRule
from gongzhi.cases.tasks import check_deadlines, run_deadline_check
from gongzhi.cases.tests.factories import category, new_case

TZ = ZoneInfo("Asia/Shanghai")
H, D = DeadlineUnit.WORKING_HOURS, DeadlineUnit.WORKING_DAYS


def at(y, m, d, hh=9, mm=0):  # type: ignore[no-untyped-def]
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


# 2026-11-20 is a Friday.
@pytest.mark.parametrize(
    ("start", "amount", "unit", "due"),
    [
        (at(2026, 11, 20, 16, 0), 4, H, at(2026, 11, 23, 11, 0)),  # Friday 16:00 + 4h → Monday 11:00
        (at(2026, 11, 20, 10, 0), 2, D, at(2026, 11, 24, 10, 0)),  # Friday + 2 days → Tuesday
        (at(2026, 11, 21, 12, 0), 1, H, at(2026, 11, 23, 9, 30)),  # Saturday: the clock starts Monday 08:30
        (at(2026, 11, 23, 7, 0), 9, H, at(2026, 11, 23, 17, 30)),  # a whole working day, before opening
        (at(2026, 11, 23, 17, 30), 1, H, at(2026, 11, 24, 9, 30)),  # at closing time
        (at(2026, 11, 23, 9, 0), 0, H, at(2026, 11, 23, 9, 0)),
        (at(2026, 11, 23, 9, 0), 10, D, at(2026, 12, 7, 9, 0)),  # two weeks
    ],
)
def test_working_time(start, amount, unit, due) -> None:  # type: ignore[no-untyped-def]
    assert WorkCalendar().add(start, amount, unit) == due


def test_holidays_and_make_up_days() -> None:
    # National Day week 2026: Oct 1–7 off, Saturday Oct 10 worked (调休).
    days = {date(2026, 10, d): False for d in range(1, 8)}
    days[date(2026, 10, 10)] = True
    cal = WorkCalendar(days)
    assert cal.add(at(2026, 9, 30, 16, 0), 3, H) == at(2026, 10, 8, 10, 0)
    assert cal.add(at(2026, 10, 9, 10, 0), 1, D) == at(2026, 10, 10, 10, 0)
    assert cal.working_hours_between(at(2026, 9, 30, 16, 0), at(2026, 10, 8, 10, 0)) == pytest.approx(3)


@pytest.mark.django_db
def test_calendar_loads_stored_days_and_rules_apply(tree) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    CalendarDay.objects.create(date=date(2026, 11, 24), is_workday=False, name="测试假日")
    DeadlineRule.objects.create(category=category("0105"), urgency="B", step=Step.DISPATCH, amount=3, unit=H)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    case = new_case(staff, tree.grids[0], urgency="B")
    workflow.perform(actor=staff, case_id=case.pk, action="accept", now=at(2026, 11, 23, 16, 0))
    case.refresh_from_db()
    # 3 working hours from Monday 16:00: 1.5 h on Monday, Tuesday is a holiday, 1.5 h on Wednesday.
    assert case.due_step == Step.DISPATCH and case.due_at == at(2026, 11, 25, 10, 0)
    assert deadlines.limit_for(case, Step.DISPOSE) == deadlines.DEFAULT_LIMITS["B"][Step.DISPOSE]


@pytest.mark.django_db
def test_missed_deadline_escalates_automatically(tree, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.grids[0], urgency="A")
    workflow.perform(actor=worker, case_id=case.pk, action="accept", now=at(2026, 11, 23, 9, 0))
    case.refresh_from_db()
    assert case.due_at == at(2026, 11, 23, 10, 0) and case.tier == Tier.GRID
    assert run_deadline_check(at(2026, 11, 23, 9, 59)) == {"overdue": 0, "escalated": 0}
    assert run_deadline_check(at(2026, 11, 23, 10, 1)) == {"overdue": 1, "escalated": 1}
    case.refresh_from_db()
    assert case.is_overdue and case.overdue_count == 1
    assert case.tier == Tier.COMMUNITY and case.owner_body == tree.committees[0] and case.escalation_count == 1
    event = case.events.latest("id")
    assert event.action == "escalate" and event.actor is None and event.actor_label == "system"
    # Flagged once: the next run does nothing more.
    assert run_deadline_check(at(2026, 11, 23, 11, 0)) == {"overdue": 0, "escalated": 0}
    # The next step's clock clears the flag but keeps the count (closing counts as overdue).
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    workflow.perform(
        actor=staff,
        case_id=case.pk,
        action="dispatch",
        payload={"handler_node_id": tree.grids[0].pk},
        now=at(2026, 11, 23, 11, 0),
    )
    case.refresh_from_db()
    assert not case.is_overdue and case.overdue_count == 1 and case.due_step == Step.ACKNOWLEDGE


@pytest.mark.django_db
def test_the_task_runs_through_the_tasks_api(tree) -> None:  # type: ignore[no-untyped-def]
    result = check_deadlines.enqueue()
    assert result.return_value == {"overdue": 0, "escalated": 0}


def test_every_step_has_a_default_limit() -> None:
    for urgency in ("A", "B", "C"):
        assert set(deadlines.DEFAULT_LIMITS[urgency]) == set(Step.values)
    _ = timedelta


@pytest.mark.django_db
def test_the_command_runs_the_check(tree) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check_deadlines", "--now", stdout=out)
    assert "'overdue': 0" in out.getvalue()
    out = StringIO()
    call_command("check_deadlines", stdout=out)
    assert "enqueued check_deadlines" in out.getvalue()
