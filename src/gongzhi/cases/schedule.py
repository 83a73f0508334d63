"""The cases app's periodic jobs (run by ``gongzhi scheduler``)."""

from __future__ import annotations

from django.utils import timezone

from gongzhi.cases import calendar, holidays, tasks
from gongzhi.core.scheduler import Job


def enqueue_deadline_check() -> str:
    """Overdue cases marked and escalated: the task runs on the worker."""
    return f"enqueued {tasks.check_deadlines.enqueue().id}"


def load_holidays() -> dict[int, dict[str, int]]:
    """This year's and next year's statutory calendar, as soon as the installed chinese-calendar has it."""
    this = timezone.localdate().year
    known = calendar.statutory_years()
    return {y: holidays.load_national_holidays(actor=None, year=y) for y in (this, this + 1) if y in known}


JOBS = [
    Job("check_deadlines", 300, enqueue_deadline_check),
    Job("load_holidays", 24 * 3600, load_holidays),
]
