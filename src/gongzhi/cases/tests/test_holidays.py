"""The national work calendar comes from chinese-calendar: statutory holidays and make-up working days (调休)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gongzhi.cases import calendar, holidays
from gongzhi.cases.calendar import WorkCalendar
from gongzhi.cases.choices import DeadlineUnit
from gongzhi.cases.models import CalendarDay
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_statutory_days_of_2025() -> None:
    days = calendar.statutory_days(2025)
    assert days[date(2025, 10, 1)] == (False, "国庆节")  # a Wednesday
    assert days[date(2025, 1, 28)] == (False, "春节")
    assert days[date(2025, 9, 28)] == (True, "国庆节调休上班")  # a Sunday worked
    assert days[date(2025, 2, 8)] == (True, "春节调休上班")  # a Saturday worked
    assert date(2025, 10, 4) not in days  # a Saturday inside the holiday is a weekend anyway
    assert all(d.year == 2025 for d in days)
    assert all(is_workday == (d.weekday() >= 5) for d, (is_workday, _name) in days.items())


def test_loading_a_year_fills_the_national_calendar_and_the_deadlines_follow() -> None:
    counts = holidays.load_national_holidays(actor=None, year=2025)
    assert counts["created"] == len(calendar.statutory_days(2025)) and counts["deleted"] == 0
    assert not CalendarDay.objects.filter(subdistrict__isnull=False).exists()
    national = WorkCalendar.load()
    assert not national.is_workday(date(2025, 10, 1)) and national.is_workday(date(2025, 9, 28))
    # 1 working day from Tuesday 30 September 10:00: the holiday week (1–8 October) is skipped: Thursday 9 October.
    start = timezone.make_aware(datetime(2025, 9, 30, 10))
    assert national.add(start, 1, DeadlineUnit.WORKING_DAYS).date() == date(2025, 10, 9)
    assert WorkCalendar().add(start, 1, DeadlineUnit.WORKING_DAYS).date() == date(2025, 10, 1)  # without it
    assert AuditLog.objects.filter(action="cases.holidays_loaded").count() == 1
    # Idempotent: nothing changes, nothing is audited.
    again = holidays.load_national_holidays(actor=None, year=2025)
    assert again["created"] == again["updated"] == again["deleted"] == 0
    assert AuditLog.objects.filter(action="cases.holidays_loaded").count() == 1


def test_local_days_and_hand_typed_national_days_stay(tree) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(date=date(2025, 10, 1), is_workday=True, name="值班", subdistrict=tree.subdistrict)
    CalendarDay.objects.create(date=date(2025, 12, 31), is_workday=False, name="本地假日")  # national, by hand
    CalendarDay.objects.create(date=date(2025, 10, 1), is_workday=True, name="错的")  # wrong: the package fixes it
    CalendarDay.objects.create(date=date(2025, 3, 3), is_workday=False, name="撤销", statutory=True)  # withdrawn
    counts = holidays.load_national_holidays(actor=None, year=2025)
    assert counts["updated"] == 1 and counts["deleted"] == 1
    assert CalendarDay.objects.get(date=date(2025, 10, 1), subdistrict=None).name == "国庆节"
    assert CalendarDay.objects.filter(date=date(2025, 12, 31), subdistrict=None, statutory=False).exists()
    assert not CalendarDay.objects.filter(date=date(2025, 3, 3)).exists()
    # The subdistrict's own row still wins over the national holiday.
    assert WorkCalendar.for_code(tree.subdistrict.code).is_workday(date(2025, 10, 1))
    assert not WorkCalendar.load().is_workday(date(2025, 10, 1))


def test_a_year_the_package_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        holidays.load_national_holidays(actor=None, year=1999)
    assert exc.value.details[0].field == "year"
    with pytest.raises(CommandError):
        call_command("load_holidays", "--year", "1999", stdout=io.StringIO())
    assert not CalendarDay.objects.exists()


def test_the_command_loads_this_year_and_the_next_it_knows(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2025, 6, 1))
    out = io.StringIO()
    call_command("load_holidays", stdout=out)
    assert "2025: created" in out.getvalue() and "2026: created" in out.getvalue()
    assert CalendarDay.objects.filter(date__year=2026, statutory=True).exists()
