"""Periods the KPIs count over: local midnights, months, runs of days. Pure date arithmetic, no queries: the
rollup writer (``services``), the readers (``selectors``) and the monthly reports share it.
(Migration ``0003`` keeps a frozen copy of its own.)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """The aware start of ``day`` in the project's time zone."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days → runs of consecutive days as (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def next_month(month: date) -> date:
    """The first day of the month after ``month``'s."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(month: date) -> date:
    """The first day of the month before ``month``'s."""
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_period(month: date) -> tuple[date, date]:
    """The first and the last day of ``month``'s month."""
    first = month.replace(day=1)
    return first, next_month(first) - timedelta(days=1)


def last_month(today: date | None = None) -> date:
    """The first day of the month before ``today``'s (local date)."""
    return previous_month(today or timezone.localdate())
