"""Working time: Monday–Friday, 08:30–17:30 local time, minus holidays, plus make-up working days (调休).

``add_working_time(start, amount, unit)`` is the deadline arithmetic: a limit of 4 working hours set on Friday at
16:00 falls due on Monday at 11:00 (1.5 h on Friday, 2.5 h on Monday); 2 working days from Friday 10:00 fall due
on Tuesday 10:00. A start outside working time counts from the next working moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from gongzhi.cases.choices import DeadlineUnit

DAY_START = time(8, 30)
DAY_END = time(17, 30)
DAY_HOURS = (datetime.combine(date.min, DAY_END) - datetime.combine(date.min, DAY_START)).seconds / 3600


class WorkCalendar:
    def __init__(self, exceptions: dict[date, bool] | None = None) -> None:
        self.exceptions = exceptions or {}

    @classmethod
    def load(cls, around: Iterable[date] = ()) -> WorkCalendar:
        from gongzhi.cases.models import CalendarDay

        return cls(dict(CalendarDay.objects.values_list("date", "is_workday")))

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def _next_working_moment(self, moment: datetime) -> datetime:
        tz = moment.tzinfo
        day = moment.date()
        while True:
            start = datetime.combine(day, DAY_START, tzinfo=tz)
            end = datetime.combine(day, DAY_END, tzinfo=tz)
            if self.is_workday(day) and moment < end:
                return max(moment, start)
            day += timedelta(days=1)
            moment = datetime.combine(day, DAY_START, tzinfo=tz)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """``start`` + ``amount`` working hours or days. Aware datetimes in, aware (local time) out."""
        local = timezone.localtime(start) if timezone.is_aware(start) else timezone.make_aware(start)
        if unit == DeadlineUnit.WORKING_DAYS:
            moment = self._next_working_moment(local)
            day, remaining = moment.date(), int(amount)
            while remaining > 0:
                day += timedelta(days=1)
                if self.is_workday(day):
                    remaining -= 1
            return datetime.combine(day, moment.timetz())
        remaining_seconds = amount * 3600
        moment = self._next_working_moment(local)
        while True:
            end = datetime.combine(moment.date(), DAY_END, tzinfo=moment.tzinfo)
            available = (end - moment).total_seconds()
            if remaining_seconds <= available:
                return moment + timedelta(seconds=remaining_seconds)
            remaining_seconds -= available
            moment = self._next_working_moment(end + timedelta(seconds=1))

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 if end is earlier)."""
        if end <= start:
            return 0.0
        start, end = timezone.localtime(start), timezone.localtime(end)
        total = 0.0
        moment = self._next_working_moment(start)
        while moment < end:
            day_end = datetime.combine(moment.date(), DAY_END, tzinfo=moment.tzinfo)
            total += (min(day_end, end) - moment).total_seconds()
            moment = self._next_working_moment(day_end + timedelta(seconds=1))
        return total / 3600


def add_working_time(start: datetime, amount: float, unit: str, calendar: WorkCalendar | None = None) -> datetime:
    return (calendar or WorkCalendar.load()).add(start, amount, unit)
