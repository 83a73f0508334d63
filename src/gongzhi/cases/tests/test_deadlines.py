"""Deadline arithmetic on the work calendar, and automatic escalation when a deadline is missed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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


NINE_TO_FIVE = [(time(9, 0), time(17, 0))]
LUNCH_BREAK = [(time(9, 0), time(12, 0)), (time(13, 30), time(17, 30))]
MONDAY_HOLIDAY = {date(2026, 11, 23): False}  # 2026-11-23 is a Monday
WORKED_SATURDAY = {date(2026, 11, 21): True}  # 调休: Saturday 2026-11-21 is worked


# A subdistrict's own sessions, holidays and make-up days: deadlines count only time inside a session.
@pytest.mark.parametrize(
    ("sessions", "days", "start", "amount", "unit", "due"),
    [
        # The example: 9:00–17:00, Friday 16:00 + 4 h before a Monday holiday → Tuesday 12:00.
        (NINE_TO_FIVE, MONDAY_HOLIDAY, at(2026, 11, 20, 16, 0), 4, H, at(2026, 11, 24, 12, 0)),
        (NINE_TO_FIVE, {}, at(2026, 11, 20, 16, 0), 4, H, at(2026, 11, 23, 12, 0)),
        (NINE_TO_FIVE, {}, at(2026, 11, 23, 9, 0), 8, H, at(2026, 11, 23, 17, 0)),  # exactly one day
        (NINE_TO_FIVE, MONDAY_HOLIDAY, at(2026, 11, 20, 10, 0), 1, D, at(2026, 11, 24, 10, 0)),
        # A lunch break stops the clock.
        (LUNCH_BREAK, {}, at(2026, 11, 23, 11, 0), 2, H, at(2026, 11, 23, 14, 30)),
        (LUNCH_BREAK, {}, at(2026, 11, 23, 11, 0), 1, H, at(2026, 11, 23, 12, 0)),  # ends as the morning ends
        (LUNCH_BREAK, {}, at(2026, 11, 23, 16, 30), 4, H, at(2026, 11, 24, 12, 0)),  # 1 h today, 3 h tomorrow
        (LUNCH_BREAK, {}, at(2026, 11, 23, 9, 0), 7, H, at(2026, 11, 23, 17, 30)),  # 3 h + 4 h: the whole day
        # Starting outside every session: in the lunch break, before opening, after closing, on a Sunday.
        (LUNCH_BREAK, {}, at(2026, 11, 23, 12, 30), 1, H, at(2026, 11, 23, 14, 30)),
        (LUNCH_BREAK, {}, at(2026, 11, 23, 7, 0), 1, H, at(2026, 11, 23, 10, 0)),
        (LUNCH_BREAK, {}, at(2026, 11, 23, 18, 0), 1, H, at(2026, 11, 24, 10, 0)),
        (LUNCH_BREAK, {}, at(2026, 11, 22, 15, 0), 0, H, at(2026, 11, 23, 9, 0)),
        (LUNCH_BREAK, {}, at(2026, 11, 23, 12, 30), 1, D, at(2026, 11, 24, 13, 30)),
        # An adjusted working Saturday works the same sessions.
        (LUNCH_BREAK, WORKED_SATURDAY, at(2026, 11, 20, 17, 0), 2, H, at(2026, 11, 21, 10, 30)),
        (LUNCH_BREAK, {}, at(2026, 11, 20, 17, 0), 2, H, at(2026, 11, 23, 10, 30)),
        (LUNCH_BREAK, WORKED_SATURDAY, at(2026, 11, 20, 10, 0), 1, D, at(2026, 11, 21, 10, 0)),
        # No sessions set: today's 08:30–17:30.
        ([], {}, at(2026, 11, 20, 16, 0), 4, H, at(2026, 11, 23, 11, 0)),
    ],
)
def test_working_sessions(sessions, days, start, amount, unit, due) -> None:  # type: ignore[no-untyped-def]
    assert WorkCalendar(days, sessions).add(start, amount, unit) == due


def test_working_hours_between_skip_breaks_and_days_off() -> None:
    cal = WorkCalendar(MONDAY_HOLIDAY, LUNCH_BREAK)
    assert cal.day_hours == 7
    assert cal.working_hours_between(at(2026, 11, 24, 11, 0), at(2026, 11, 24, 14, 30)) == pytest.approx(2)
    assert cal.working_hours_between(at(2026, 11, 20, 17, 0), at(2026, 11, 24, 10, 0)) == pytest.approx(1.5)
    # Overlapping sessions (stored by hand) are joined, not counted twice.
    assert WorkCalendar({}, [(time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))]).day_hours == 4


@pytest.mark.django_db
def test_each_subdistrict_works_its_own_sessions_and_days(tree, other_tree) -> None:  # type: ignore[no-untyped-def]
    """Stored sessions and calendar days drive the clocks the workflow starts: 道义 works 9:00–17:00 and keeps a
    local holiday on Monday; the other subdistrict set nothing and works 08:30–17:30 on the national calendar."""
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.cases.models import WorkSchedule, WorkSession

    schedule = WorkSchedule.objects.create(subdistrict=tree.subdistrict)
    WorkSession.objects.create(schedule=schedule, start=time(9, 0), end=time(17, 0))
    CalendarDay.objects.create(date=date(2026, 11, 23), is_workday=False, name="街道调休", subdistrict=tree.subdistrict)
    DeadlineRule.objects.create(category=None, urgency="B", step=Step.DISPATCH, amount=4, unit=H)
    assert WorkCalendar.for_code(tree.grids[0].code).sessions == ((time(9, 0), time(17, 0)),)
    results = {}
    for ground in (tree, other_tree):
        worker = user_with_role(Role.GRID_WORKER, node=ground.grids[0])
        case = new_case(worker, ground.grids[0], urgency="B")
        workflow.perform(actor=worker, case_id=case.pk, action="accept", now=at(2026, 11, 20, 16, 0))
        case.refresh_from_db()
        results[ground.subdistrict.code] = case.due_at
    assert results[tree.subdistrict.code] == at(2026, 11, 24, 12, 0)
    assert results[other_tree.subdistrict.code] == at(2026, 11, 23, 11, 0)
    # A national holiday holds everywhere; the subdistrict's own row for a date wins over it.
    CalendarDay.objects.create(date=date(2026, 11, 24), is_workday=False, name="国家假日")
    CalendarDay.objects.create(date=date(2026, 11, 24), is_workday=True, name="街道照常", subdistrict=tree.subdistrict)
    assert not WorkCalendar.for_code(other_tree.subdistrict.code).is_workday(date(2026, 11, 24))
    assert WorkCalendar.for_code(tree.subdistrict.code).is_workday(date(2026, 11, 24))
    assert WorkCalendar.load().exceptions == {date(2026, 11, 24): False}


@pytest.mark.django_db
def test_the_admin_edits_a_subdistricts_sessions(tree, admin_client) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from gongzhi.cases.models import WorkSchedule

    url = reverse("admin:cases_workschedule_add")
    form = {
        "subdistrict": tree.subdistrict.pk,
        "sessions-TOTAL_FORMS": "2",
        "sessions-INITIAL_FORMS": "0",
        "sessions-0-start": "09:00",
        "sessions-0-end": "12:00",
        "sessions-1-start": "11:30",
        "sessions-1-end": "17:30",
    }
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form)
    assert response.status_code == 200 and not WorkSchedule.objects.exists()  # overlapping: refused
    form["sessions-1-start"] = "13:30"
    assert admin_client.post(url, form).status_code == 302
    assert WorkCalendar.for_code(tree.subdistrict.code).sessions == (
        (time(9, 0), time(12, 0)),
        (time(13, 30), time(17, 30)),
    )


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
    # Written in the site's language whoever runs the task (this test runs in English), and shown in Chinese.
    assert event.note == "超过办理时限：已自动上报升级。"
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("zh-hans"):
        html = render_to_string("cases/_timeline.html", {"timeline": [{"event": event, "label": "", "photos": []}]})
    assert "系统（时限检查）" in html and "system" not in html
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


def _overdue_pending() -> set[int]:
    from gongzhi.cases.models import Case
    from gongzhi.kpis.measures import COUNTS

    return set(Case.objects.filter(COUNTS["overdue_pending"]).values_list("id", flat=True))


@pytest.mark.django_db
def test_a_return_neither_moves_the_clock_nor_clears_overdue(tree, staff, handler, property_company) -> None:  # type: ignore[no-untyped-def]
    """Dispatched 09:00 with 1 working hour to acknowledge; the clock runs out, the handler returns it, the desk
    dispatches it again: the case stays overdue (and in the overdue figure) until someone acknowledges it."""
    case = new_case(staff, tree.grids[0], urgency="A")
    workflow.perform(
        actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk},
        now=at(2026, 11, 23, 9, 0),
    )  # fmt: skip
    case.refresh_from_db()
    due = case.due_at
    assert due == at(2026, 11, 23, 10, 0) and case.due_step == Step.ACKNOWLEDGE
    assert run_deadline_check(at(2026, 11, 23, 10, 30))["overdue"] == 1
    assert case.pk in _overdue_pending()
    workflow.perform(actor=handler, case_id=case.pk, action="return", note="不归我们管", now=at(2026, 11, 23, 11, 0))
    case.refresh_from_db()
    assert case.status == "returned" and case.is_overdue and case.overdue_count == 1
    assert case.due_at == due and case.due_step == Step.ACKNOWLEDGE
    assert case.pk in _overdue_pending()
    # Dispatched again: still the first dispatch's clock, still overdue.
    workflow.perform(
        actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk},
        now=at(2026, 11, 23, 11, 30),
    )  # fmt: skip
    case.refresh_from_db()
    assert case.is_overdue and case.due_at == due and case.pk in _overdue_pending()
    # Escalated by hand: the clock stays too.
    workflow.perform(actor=staff, case_id=case.pk, action="escalate", note="再次逾期", now=at(2026, 11, 23, 11, 45))
    case.refresh_from_db()
    assert case.is_overdue and case.due_at == due and case.overdue_count == 1
    # The late work is done: acknowledged. Now the disposal clock runs and the case is no longer overdue.
    workflow.perform(actor=handler, case_id=case.pk, action="acknowledge", now=at(2026, 11, 23, 14, 0))
    case.refresh_from_db()
    assert not case.is_overdue and case.due_step == Step.DISPOSE and case.overdue_count == 1
    assert case.pk not in _overdue_pending()


@pytest.mark.django_db
def test_a_case_returned_in_time_runs_late_on_the_same_clock(tree, staff, handler, property_company) -> None:  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0], urgency="A")
    workflow.perform(
        actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk},
        now=at(2026, 11, 23, 9, 0),
    )  # fmt: skip
    workflow.perform(actor=handler, case_id=case.pk, action="return", note="不归我们管", now=at(2026, 11, 23, 9, 30))
    case.refresh_from_db()
    assert case.due_at == at(2026, 11, 23, 10, 0) and not case.is_overdue
    # Nobody dispatched it again in time: the deadline task finds it overdue while it waits at the desk.
    assert run_deadline_check(at(2026, 11, 23, 10, 5))["overdue"] == 1
    case.refresh_from_db()
    assert case.is_overdue and case.status == "returned"


@pytest.mark.django_db
def test_postponing_an_overdue_case_keeps_it_overdue(tree, staff, handler, property_company) -> None:  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0], urgency="A")
    workflow.perform(
        actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk},
        now=at(2026, 11, 23, 9, 0),
    )  # fmt: skip
    workflow.perform(actor=handler, case_id=case.pk, action="acknowledge", now=at(2026, 11, 23, 9, 10))
    workflow.perform(actor=handler, case_id=case.pk, action="start", now=at(2026, 11, 23, 9, 20))
    assert run_deadline_check(at(2026, 11, 23, 14, 0))["overdue"] == 1  # 4 working hours to dispose: missed
    workflow.perform(
        actor=staff, case_id=case.pk, action="postpone", note="等材料", payload={"until": at(2026, 11, 30, 17, 30)},
        now=at(2026, 11, 23, 15, 0),
    )  # fmt: skip
    case.refresh_from_db()
    assert case.is_overdue and case.due_at is None and case.pk in _overdue_pending()
    workflow.perform(actor=staff, case_id=case.pk, action="resume", now=at(2026, 11, 24, 9, 0))
    case.refresh_from_db()
    assert case.is_overdue and case.due_step == Step.DISPOSE and case.pk in _overdue_pending()
    workflow.perform(actor=handler, case_id=case.pk, action="dispose", note="已处理", now=at(2026, 11, 24, 10, 0))
    case.refresh_from_db()
    assert not case.is_overdue and case.disposal_late and case.overdue_count == 1
