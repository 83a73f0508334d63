"""Deadlines: per category × urgency × step, in working hours or days on the work calendar.

Rules are looked up on the category, then its major class, then the default rule for any category, then the
built-in limits below. The clock of a case is the limit of the step it is in; a background task marks cases whose
clock ran out as overdue and escalates them (``tasks.check_deadlines``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F

from gongzhi.cases.calendar import WorkCalendar
from gongzhi.cases.choices import OPEN_STATUSES, DeadlineUnit, Step, Urgency
from gongzhi.cases.models import Case, DeadlineRule

H, D = DeadlineUnit.WORKING_HOURS, DeadlineUnit.WORKING_DAYS
# Built-in limits (amount, unit) when no rule is stored: dispatch and acknowledge in hours, disposal in days.
DEFAULT_LIMITS: dict[str, dict[str, tuple[int, str]]] = {
    Urgency.A: {Step.DISPATCH: (1, H), Step.ACKNOWLEDGE: (1, H), Step.DISPOSE: (4, H), Step.VERIFY: (2, H)},
    Urgency.B: {Step.DISPATCH: (2, H), Step.ACKNOWLEDGE: (4, H), Step.DISPOSE: (3, D), Step.VERIFY: (1, D)},
    Urgency.C: {Step.DISPATCH: (4, H), Step.ACKNOWLEDGE: (1, D), Step.DISPOSE: (10, D), Step.VERIFY: (2, D)},
}


def limit_for(case: Case, step: str) -> tuple[int, str]:
    category_ids = [case.category_id]
    parent_id = getattr(case.category, "parent_id", None)
    if parent_id:
        category_ids.append(parent_id)
    rules = {
        r.category_id: r
        for r in DeadlineRule.objects.filter(urgency=case.urgency, step=step).filter(category_id__in=category_ids)
    }
    for cid in category_ids:
        if cid in rules:
            return rules[cid].amount, rules[cid].unit
    default = DeadlineRule.objects.filter(urgency=case.urgency, step=step, category__isnull=True).first()
    if default is not None:
        return default.amount, default.unit
    return DEFAULT_LIMITS[case.urgency][step]


def calendar_for(case: Case, calendar: WorkCalendar | None = None) -> WorkCalendar:
    """The work calendar of the case's subdistrict (its sessions, holidays and make-up days), unless given."""
    if calendar is not None:
        return calendar
    return WorkCalendar.for_code(case.place_code or case.node.code)


def start_clock(
    case: Case, step: str, now: datetime, calendar: WorkCalendar | None = None, *, step_done: bool = True
) -> None:
    """The clock of ``step`` starts now. ``step_done``: the step the case was late in is done (dispatched,
    acknowledged, reported done …), so "overdue" ends with it; a new clock that does not finish the late work (a
    resumed postponement) leaves an overdue case overdue — and counted — until that work is done."""
    amount, unit = limit_for(case, step)
    case.due_step = step
    case.due_at = calendar_for(case, calendar).add(now, amount, unit)
    if step_done:
        case.is_overdue = False


def settle(case: Case, now: datetime) -> None:
    """Before a transition: a clock that already ran out counts as missed even if the deadline task has not flagged
    it yet (it runs every few minutes), so lateness is never lost between two runs of the task."""
    if case.due_at is not None and not case.is_overdue and case.due_at < now:
        case.is_overdue = True
        case.overdue_count += 1
        if case.due_step == Step.DISPOSE:
            case.disposal_late = True


def stop_clock(case: Case) -> None:
    """The case is over (closed, merged, cancelled, rejected): no clock, nothing pending."""
    case.due_step = ""
    case.due_at = None
    case.is_overdue = False


def pause_clock(case: Case) -> None:
    """An approved postponement: no clock until it resumes; a case that was already overdue stays overdue."""
    case.due_step = ""
    case.due_at = None


def keep_clock(case: Case) -> None:
    """The step's clock runs on (e.g. starting work after acknowledging: disposal is still what is timed; a return
    and the dispatch after it: the case is still waiting to be taken on, and the clock it is on does not move)."""


def mark_overdue(*, now: datetime) -> list[int]:
    """Flag open cases whose clock ran out; return the ids newly flagged (each is then escalated once)."""
    with transaction.atomic():
        ids = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(status__in=OPEN_STATUSES, due_at__lt=now, is_overdue=False)
            .values_list("id", flat=True)[:5000]
        )
        if ids:
            # update() skips auto_now: updated_at is set by hand so the KPI rollups see the change.
            Case.objects.filter(pk__in=ids).update(
                is_overdue=True, overdue_count=F("overdue_count") + 1, updated_at=now
            )
            Case.objects.filter(pk__in=ids, due_step=Step.DISPOSE).update(disposal_late=True)
    return ids
