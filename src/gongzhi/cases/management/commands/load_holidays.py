"""``gongzhi load_holidays [--year N ...]``: the national holidays and make-up working days (调休) of a year from the
chinese-calendar package into the work calendar. Without ``--year``: this year and the next, as far as the installed
package knows them (the scheduler runs it daily, so a new year arrives with ``pip install -U chinese-calendar``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from gongzhi.cases import calendar, holidays
from gongzhi.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Load the statutory holidays and make-up working days of a year (chinese-calendar) into the work calendar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append", help="the year (repeatable); default: this and next")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["year"]:
            years = options["year"]
        else:
            this = timezone.localdate().year
            years = [y for y in (this, this + 1) if y in calendar.statutory_years()]
        for year in years:
            try:
                counts = holidays.load_national_holidays(actor=None, year=year)
            except ValidationFailed as exc:
                raise CommandError(str(exc.message)) from None
            self.stdout.write(f"{year}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
