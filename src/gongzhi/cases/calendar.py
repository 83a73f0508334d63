"""Working time: each subdistrict's sessions (``WorkSchedule``: e.g. 09:00–12:00 and 13:30–17:30, or 09:00–17:00;
08:30–17:30 when it sets none) on Monday–Friday, minus holidays, plus make-up working days (调休, ``CalendarDay``:
national rows, and the subdistrict's own, which win).

``WorkCalendar.add(start, amount, unit)`` is the deadline arithmetic. On 08:30–17:30 a limit of 4 working hours set
on Friday at 16:00 falls due on Monday at 11:00 (1.5 h on Friday, 2.5 h on Monday); on 09:00–17:00 with Monday a
holiday, on Tuesday at 12:00 (1 h on Friday, 3 h on Tuesday). Only time inside a session counts: a lunch break
stops the clock. 2 working days from Friday 10:00 fall due on Tuesday 10:00. A start outside working time counts
from the next working moment.

The national rows are the State Council's holidays and make-up working days, read from the ``chinese-calendar``
package (:func:`statutory_days`; ``gongzhi load_holidays --year N`` stores them, the scheduler keeps the next
year's in once the package has it); a subdistrict's own rows (local days) are typed in the admin.

One calendar is two small queries (``WorkCalendar.for_code``): the workflow loads the one of the case's subdistrict
for each clock it starts; a bulk writer loads one per subdistrict and passes it on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from gongzhi.cases.choices import DeadlineUnit

DAY_START = time(8, 30)
DAY_END = time(17, 30)
DEFAULT_SESSIONS: tuple[tuple[time, time], ...] = ((DAY_START, DAY_END),)
DAY_HOURS = (datetime.combine(date.min, DAY_END) - datetime.combine(date.min, DAY_START)).seconds / 3600
SUBDISTRICT_CODE_LENGTH = 9
# A calendar with no working time ahead (every day a holiday) would never reach a deadline: give up after this.
MAX_DAYS_AHEAD = 3660


# chinese-calendar names the holidays in English; the calendar shows them as the State Council's notice does.
HOLIDAY_NAMES = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
    "anti_fascist_70th_day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class NoStatutoryCalendar(LookupError):
    """The installed chinese-calendar has no data for the year (a new year's is published each November)."""


def statutory_years() -> range:
    """The years the installed chinese-calendar knows."""
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def statutory_days(year: int) -> dict[date, tuple[bool, str]]:
    """The national exceptions to the Monday–Friday week of ``year``: holidays on weekdays (``False``) and make-up
    working days on weekends (``True``, 调休), each with its holiday's Chinese name. Weekend days inside a holiday
    are weekends anyway and are left out."""
    import chinese_calendar

    if year not in statutory_years():
        raise NoStatutoryCalendar(year)
    by_name = {h.value: h.name for h in chinese_calendar.Holiday}
    out: dict[date, tuple[bool, str]] = {}
    for day, holiday in chinese_calendar.holidays.items():
        if day.year == year and day.weekday() < 5:
            out[day] = (False, HOLIDAY_NAMES.get(by_name.get(holiday, ""), holiday))
    for day, holiday in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            name = HOLIDAY_NAMES.get(by_name.get(holiday, ""), holiday)
            out[day] = (True, f"{name}调休上班")
    return dict(sorted(out.items()))


def _merged(sessions: Iterable[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    """Sessions in order, overlapping or touching ones joined, empty ones dropped."""
    out: list[tuple[time, time]] = []
    for start, end in sorted(s for s in sessions if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class WorkCalendar:
    def __init__(
        self, exceptions: dict[date, bool] | None = None, sessions: Iterable[tuple[time, time]] | None = None
    ) -> None:
        self.exceptions = exceptions or {}
        self.sessions = _merged(sessions or ()) or DEFAULT_SESSIONS
        self.day_hours = sum(_seconds(end) - _seconds(start) for start, end in self.sessions) / 3600

    @classmethod
    def load(cls, *, code: str = "") -> WorkCalendar:
        """The calendar of the subdistrict whose territory code starts ``code`` (any code below it will do); without
        a code, the national holidays and 08:30–17:30."""
        from gongzhi.cases.models import CalendarDay, WorkSession

        sub = code[:SUBDISTRICT_CODE_LENGTH]
        if not sub:
            rows = CalendarDay.objects.filter(subdistrict__isnull=True).values_list("date", "is_workday")
            return cls(dict(rows))
        days = CalendarDay.objects.filter(Q(subdistrict__isnull=True) | Q(subdistrict__code=sub))
        exceptions: dict[date, bool] = {}
        # National rows first, the subdistrict's own after them: the local row of a date wins.
        for day, is_workday, local in days.values_list("date", "is_workday", "subdistrict_id").order_by(
            "subdistrict_id", "date"
        ):
            if local is not None or day not in exceptions:
                exceptions[day] = is_workday
        sessions = WorkSession.objects.filter(schedule__subdistrict__code=sub).values_list("start", "end")
        return cls(exceptions, list(sessions))

    @classmethod
    def for_code(cls, code: str) -> WorkCalendar:
        return cls.load(code=code)

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def _session_at(self, moment: datetime) -> tuple[datetime, datetime]:
        """The working moment at or after ``moment`` and the end of its session."""
        tz = moment.tzinfo
        day = moment.date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_workday(day):
                for start, end in self.sessions:
                    session_end = datetime.combine(day, end, tzinfo=tz)
                    if moment < session_end:
                        return max(moment, datetime.combine(day, start, tzinfo=tz)), session_end
            day += timedelta(days=1)
            moment = datetime.combine(day, time.min, tzinfo=tz)
        raise ValueError(f"No working time within {MAX_DAYS_AHEAD} days of {moment:%Y-%m-%d}.")

    def _next_working_moment(self, moment: datetime) -> datetime:
        return self._session_at(moment)[0]

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
        moment, end = self._session_at(local)
        while True:
            available = (end - moment).total_seconds()
            if remaining_seconds <= available:
                return moment + timedelta(seconds=remaining_seconds)
            remaining_seconds -= available
            moment, end = self._session_at(end)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 if end is earlier)."""
        if end <= start:
            return 0.0
        start, end = timezone.localtime(start), timezone.localtime(end)
        total = 0.0
        moment, session_end = self._session_at(start)
        while moment < end:
            total += (min(session_end, end) - moment).total_seconds()
            moment, session_end = self._session_at(session_end)
        return total / 3600
