"""``gongzhi scheduler [--once] [--list] [--only NAME …]``: the one process running the periodic jobs of every app
(``<app>/schedule.py``; see :mod:`gongzhi.core.scheduler`). ``make demo``/``make serve`` run it under
``gongzhi supervise``; in production run one per database (systemd with ``Restart=always``, or ``supervise``)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gongzhi.core.scheduler import Scheduler, discover


class Command(BaseCommand):
    help = "Run the periodic jobs (deadline check, KPI refresh and monthly reports, registry sweep, holidays)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and stop")
        parser.add_argument("--list", action="store_true", help="list the jobs and their intervals, run nothing")
        parser.add_argument("--only", action="append", help="run only this job (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = discover()
        if options["only"]:
            unknown = set(options["only"]) - {job.name for job in jobs}
            if unknown:
                raise CommandError(f"No such job: {', '.join(sorted(unknown))}")
            jobs = [job for job in jobs if job.name in options["only"]]
        if options["list"]:
            for job in jobs:
                self.stdout.write(f"{job.name:<24} every {job.every:>7.0f} s")
            return
        scheduler = Scheduler(jobs, out=self.say)
        if options["once"]:
            scheduler.run_pending()
            return
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.say(f"scheduler: {', '.join(job.name for job in jobs)}")
        scheduler.run_forever(lambda: stopping)

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
