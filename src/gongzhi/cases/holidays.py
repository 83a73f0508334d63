"""The national work calendar's writer: the State Council's holidays and make-up working days (调休) of a year, read
from the chinese-calendar package (``calendar.statutory_days``), stored as the national ``CalendarDay`` rows. Run by
``gongzhi load_holidays`` and daily by the scheduler (``cases/schedule.py``), and by ``seed_demo``. A service like
those of ``services.py`` (keyword-only, explicit actor, one transaction, audited); kept in its own module while the
intake moves out of ``services.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext

from gongzhi.cases import calendar
from gongzhi.cases.models import CalendarDay
from gongzhi.core import audit
from gongzhi.core.errors import ErrorDetail, ValidationFailed

if TYPE_CHECKING:
    from gongzhi.accounts.models import User


def load_national_holidays(*, actor: User | None, year: int) -> dict[str, int]:
    """Store ``year``'s statutory holidays and make-up working days (from chinese-calendar) as the national
    ``CalendarDay`` rows: a statutory date overwrites the national row of that date, a statutory row the package no
    longer has is deleted; national rows typed by hand for other dates and every subdistrict's own rows stay.
    Idempotent: loading a year twice changes nothing the second time."""
    try:
        days = calendar.statutory_days(year)
    except calendar.NoStatutoryCalendar:
        known = calendar.statutory_years()
        raise ValidationFailed(
            gettext("The installed chinese-calendar has no holidays for %(year)s (it knows %(first)s–%(last)s).")
            % {"year": year, "first": known.start, "last": known.stop - 1},
            [ErrorDetail(field="year", message=str(year))],
        ) from None
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    with transaction.atomic():
        national = CalendarDay.objects.select_for_update().filter(subdistrict__isnull=True, date__year=year)
        existing = {row.date: row for row in national}
        for day, (is_workday, name) in days.items():
            row = existing.get(day)
            if row is None:
                CalendarDay.objects.create(date=day, is_workday=is_workday, name=name, statutory=True)
                counts["created"] += 1
            elif (row.is_workday, row.name, row.statutory) != (is_workday, name, True):
                row.is_workday, row.name, row.statutory = is_workday, name, True
                row.save(update_fields=["is_workday", "name", "statutory", "updated_at"])
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        stale = [row.pk for day, row in existing.items() if row.statutory and day not in days]
        counts["deleted"] = CalendarDay.objects.filter(pk__in=stale).delete()[0]
        if counts["created"] or counts["updated"] or counts["deleted"]:
            audit.record(
                actor=actor,
                action="cases.holidays_loaded",
                object_type=CalendarDay._meta.label_lower,
                object_repr=f"{year}",
                after={"year": year, **counts},
                note="chinese-calendar",
            )
    return counts
