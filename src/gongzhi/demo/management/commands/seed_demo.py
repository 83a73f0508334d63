"""``gongzhi seed_demo [--scale N] [--reset]``: build the demo subdistrict 道义街道 (and N−1 copies beside it)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from gongzhi.cases import calendar, holidays
from gongzhi.core.audit import record
from gongzhi.demo import builder, names
from gongzhi.demo import open311 as demo_open311
from gongzhi.demo.logins import logins_table
from gongzhi.kpis import selectors as kpis_selectors
from gongzhi.kpis import services as kpis


class Command(BaseCommand):
    help = (
        "Build the demo subdistrict 道义街道 (16 communities, 7 villages, 182 grids, 2,169 buildings) and its log-ins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="How many subdistricts like 道义 to build side by side (street codes 006, 007, …). Default 1.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete every demo subdistrict and the demo log-ins, then rebuild."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale: int = options["scale"]
        if not 1 <= scale <= names.MAX_COPIES:
            raise CommandError(f"--scale must be between 1 and {names.MAX_COPIES}")
        started = time.perf_counter()

        if options["reset"]:
            self.stdout.write("Deleting the demo data…")
            deleted = builder.delete_demo(self.say)
            self.stdout.write(f"Deleted {deleted:,} rows in {time.perf_counter() - started:.1f}s")

        present = builder.existing_copies(scale)
        todo = [k for k in range(scale) if k not in present]
        if not todo:
            builder.add_missing_notices(scale, self.say)  # a demo built before it had notices
            builder.add_missing_participation(scale, self.say)  # … or the three lists
            if options["reset"] or kpis_selectors.rollup_state() is None:
                self._rollup()
            self.stdout.write(
                f"The demo subdistrict is already built ({scale} × {names.street_name(0)}街道); nothing to do."
            )
            self.stdout.write(self.style.SUCCESS(logins_table()))
            if demo_open311.ensure_key(self.say):
                self.stdout.write(self.style.SUCCESS(demo_open311.line()))
            return
        if present:
            self.stdout.write(f"Already built: {', '.join(names.street_code(k) for k in sorted(present))}")
        if 0 in todo:
            taken = builder.conflicting_usernames()
            if taken:
                raise CommandError(
                    f"Demo log-in names already taken: {', '.join(taken)}. Remove those users or run with --reset."
                )

        self._holidays()
        password_hash = builder.demo_password_hash()
        totals: dict[str, int] = {}
        first = None
        for k in todo:  # each copy in its own transaction, so memory stays flat at any scale
            ctx = builder.build_copy(k, self.say, password_hash)
            first = first or ctx.subdistrict
            for key, value in ctx.counts.items():
                if key == "plan":
                    continue
                totals[key] = totals.get(key, 0) + value
        elapsed = time.perf_counter() - started

        with transaction.atomic():
            record(
                actor=None,
                action="demo.seeded",
                obj=first,
                node_code=first.code if first else "",
                after={"scale": scale, "copies": [names.street_code(k) for k in todo], **totals},
                note=f"seed_demo built {len(todo)} subdistrict(s) in {elapsed:.1f}s",
            )
        self._rollup()
        summary = ", ".join(f"{key} {value:,}" for key, value in totals.items())
        self.stdout.write(self.style.SUCCESS(f"Built {len(todo)} subdistrict(s) in {elapsed:.1f}s: {summary}"))
        self.stdout.write(self.style.SUCCESS(logins_table()))
        if demo_open311.ensure_key(self.say):
            self.stdout.write(self.style.SUCCESS(demo_open311.line()))

    def _holidays(self) -> None:
        """The demo year's deadlines run on the real statutory calendar (chinese-calendar): load it first."""
        this = timezone.localdate().year
        for year in (this - 1, this):
            if year in calendar.statutory_years():
                counts = holidays.load_national_holidays(actor=None, year=year)
                self.say(f"Holidays {year}: {counts['created']} new, {counts['updated']} changed")

    def _rollup(self) -> None:
        """The dashboard reads the daily rollup: build it over the whole year of demo cases."""
        started = time.perf_counter()
        done = kpis.refresh_rollup(full=True)
        self.say(f"KPI rollup: {done['rows']:,} rows over {done['days']} days  {time.perf_counter() - started:6.2f}s")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
