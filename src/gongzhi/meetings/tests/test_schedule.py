"""The standing meetings' calendar: the night talk on the 15th moved to the next working day over weekends and
(configurable) holidays, a short month's last day for a day it lacks; the joint meeting's rotating chair across a
year, a member body leaving the rota skipped."""

from __future__ import annotations

import datetime

import pytest

from gongzhi.cases import holidays
from gongzhi.cases.models import CalendarDay
from gongzhi.meetings import services
from gongzhi.meetings.models import Meeting, RotaMember, Series
from gongzhi.meetings.tests.conftest import at, kind
from gongzhi.territory.models import Body

pytestmark = pytest.mark.django_db
D = datetime.date


def weekdays(day: datetime.date) -> bool:
    return day.weekday() < 5


def test_the_15th_moves_to_the_next_working_day_over_weekends_and_holidays() -> None:
    holidays = {D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 5)}

    def working(day: datetime.date) -> bool:
        return weekdays(day) and day not in holidays

    assert services.planned_day(2026, 1, 15, working) == D(2026, 1, 15)  # a Thursday
    assert services.planned_day(2026, 2, 15, working) == D(2026, 2, 16)  # Sunday → Monday
    assert services.planned_day(2026, 8, 15, working) == D(2026, 8, 17)  # Saturday → Monday
    # The 31st in February is its last day (Saturday 28th → Monday 2 March, over the month's end).
    assert services.planned_day(2026, 2, 31, working) == D(2026, 3, 2)
    assert services.planned_day(2026, 4, 31, working) == D(2026, 4, 30)
    # Over holidays: 1, 2 October holidays, 3–4 weekend, 5 a holiday → Tuesday the 6th.
    assert services.planned_day(2026, 10, 1, working) == D(2026, 10, 6)


def test_the_scheduler_plans_a_year_of_night_talks_on_the_calendar_of_the_subdistrict(tree, staff) -> None:  # type: ignore[no-untyped-def]
    """The national holidays (loaded as the scheduler does) and a holiday typed into the subdistrict's calendar (the
    configurable list) move the meeting; a make-up working Sunday keeps it; planning twice plans nothing more."""
    holidays.load_national_holidays(actor=None, year=2026)
    CalendarDay.objects.create(date=D(2026, 6, 15), is_workday=False, subdistrict=tree.subdistrict, name="本地假日")
    CalendarDay.objects.create(date=D(2026, 11, 15), is_workday=True, subdistrict=tree.subdistrict, name="调休")
    series = Series.objects.create(kind=kind("night_talk"), title="第一网格夜谈会", place=tree.grids[0])
    for month in range(1, 13):
        services.plan_recurring(today=D(2026, month, 1))
    assert services.plan_recurring(today=D(2026, 12, 1)) == 0
    days = [m.starts_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
            for m in Meeting.objects.filter(series=series).order_by("starts_at")]  # fmt: skip
    by_month = {(d.year, d.month if d.day > 5 else d.month - 1): d for d in days}
    assert by_month[(2026, 1)] == D(2026, 1, 15)  # Thursday
    assert by_month[(2026, 2)] == D(2026, 2, 24)  # Sunday, then the Spring Festival holiday (16–23 Feb) → Tuesday
    assert by_month[(2026, 3)] == D(2026, 3, 16)  # Sunday → Monday
    assert by_month[(2026, 6)] == D(2026, 6, 16)  # the local holiday → Tuesday
    assert by_month[(2026, 10)] == D(2026, 10, 15)  # Thursday
    assert by_month[(2026, 11)] == D(2026, 11, 15)  # a Sunday made a working day (调休)
    assert len([d for d in days if d.year == 2026]) == 12


def _rota(tree, names):  # type: ignore[no-untyped-def]
    series = Series.objects.create(
        kind=kind("joint"), title="三驾马车联席会议", place=tree.communities[0], day_of_month=10
    )
    bodies = [Body.objects.create(name=n, kind="other", node=tree.communities[0]) for n in names]
    for i, body in enumerate(bodies, start=1):
        RotaMember.objects.create(series=series, body=body, position=i)
    return series, bodies


def test_rotating_chair_across_a_year_with_a_body_leaving_the_rota(tree, staff) -> None:  # type: ignore[no-untyped-def]
    series, (_party, _committee, _owners, property_co) = _rota(tree, ["社区党委", "居委会", "业委会", "物业公司"])
    chairs = []
    for month in range(1, 13):
        if month == 7:  # the property company leaves the rota after June (its contract ended)
            services.leave_rota(actor=staff, series_id=series.pk, body_id=property_co.pk)
        services.plan_recurring(today=D(2026, month, 1))
        meeting = Meeting.objects.filter(series=series, starts_at__month=month).get()
        chairs.append(meeting.chair_body.name)
    assert chairs == [
        "社区党委", "居委会", "业委会", "物业公司",
        "社区党委", "居委会",
        # from July the property company is skipped (June's meeting was already planned with the committee);
        "业委会", "社区党委", "居委会", "业委会", "社区党委", "居委会",
    ]  # fmt: skip


def test_the_next_chair_is_known_and_a_leaver_is_skipped(tree, staff) -> None:  # type: ignore[no-untyped-def]
    series, bodies = _rota(tree, ["甲", "乙", "丙"])
    assert services.next_chair(series) == bodies[0]
    Meeting.objects.create(kind=series.kind, series=series, title="一月", place=series.place, chair_body=bodies[0],
                           starts_at=at(D(2026, 1, 12)))  # fmt: skip
    assert services.next_chair(series) == bodies[1]
    services.leave_rota(actor=staff, series_id=series.pk, body_id=bodies[1].pk)
    assert services.next_chair(series) == bodies[2]
    # The last chair itself left: the chair passes on from its place in the order.
    assert services.rotate([(1, 10, True), (2, 20, False), (3, 30, True)], last_position=2) == 30
    assert services.rotate([(1, 10, True), (2, 20, True), (3, 30, False)], last_position=2) == 10
    assert services.rotate([], None) is None


def test_setting_the_rota_reorders_and_keeps_a_leaver_in_the_history(tree, staff) -> None:  # type: ignore[no-untyped-def]
    series, (a, b, c) = _rota(tree, ["甲", "乙", "丙"])
    services.set_rota(actor=staff, series_id=series.pk, body_ids=[c.pk, a.pk])
    rows = list(series.rota.order_by("position").values_list("body__name", "position", "is_active"))
    assert rows == [("丙", 1, True), ("甲", 2, True), ("乙", 3, False)]
    assert services.next_chair(series) == c
    services.set_rota(actor=staff, series_id=series.pk, body_ids=[b.pk, c.pk, a.pk])  # 乙 comes back first
    assert services.next_chair(series) == b
