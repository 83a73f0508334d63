"""The one scheduler of periodic work: each app lists its jobs in ``<app>/schedule.py`` (``JOBS``: name, interval,
a function), and one process (``gongzhi scheduler``, run under ``gongzhi supervise``) runs them when due.

The jobs are short: most only enqueue a django-tasks task for the worker (the deadline check, the KPI refresh and
the monthly reports), the rest are a few queries (the registry sweep, the year's holidays). So the scheduler is a
small loop of its own rather than APScheduler: interval jobs only, one process, no job store; a missed run is simply
the next one (every job is idempotent), and a failing job is logged and tried again at its next interval without
stopping the others. Run one scheduler per database: two would enqueue each task twice (harmless, but wasteful).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.db import connections
from django.utils.module_loading import module_has_submodule

log = logging.getLogger(__name__)

# After a failure (a database restarting, a lock), a job is tried again this soon at the latest.
RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds between two starts
    run: Callable[[], object]  # returns what to log (a task id, counts)


def discover() -> list[Job]:
    """Every installed app's ``schedule.JOBS``, in the order of ``INSTALLED_APPS``."""
    jobs: list[Job] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "schedule"):
            jobs += import_module(f"{config.name}.schedule").JOBS
    names = [job.name for job in jobs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"Scheduled jobs named twice: {duplicates}")
    return jobs


class Scheduler:
    """Runs each job at start and then every ``job.every`` seconds (from the start of its previous run)."""

    def __init__(
        self,
        jobs: list[Job],
        *,
        clock: Callable[[], float] = time.monotonic,
        out: Callable[[str], None] = log.info,
    ) -> None:
        self.jobs = jobs
        self.clock = clock
        self.out = out
        self.due = {job.name: 0.0 for job in jobs}

    def run_pending(self) -> list[str]:
        """Run the jobs that are due; the names of those that ran."""
        ran = []
        for job in self.jobs:
            started = self.clock()
            if started < self.due[job.name]:
                continue
            ran.append(job.name)
            try:
                result = job.run()
            except Exception as exc:  # one job's failure must not stop the others
                log.exception("scheduled job %s failed", job.name)
                self.out(f"{job.name}: failed ({type(exc).__name__}: {exc})")
                connections.close_all()  # a lost connection is opened anew on the next run
                self.due[job.name] = started + min(job.every, RETRY_AFTER)
            else:
                self.out(f"{job.name}: {result}")
                self.due[job.name] = started + job.every
        return ran

    def seconds_to_next(self) -> float:
        return max(0.0, min(self.due.values(), default=0.0) - self.clock())

    def run_forever(self, stopping: Callable[[], bool], sleep: Callable[[float], None] = time.sleep) -> None:
        while not stopping():
            self.run_pending()
            # Short naps, so that SIGTERM is answered within a second.
            sleep(min(1.0, self.seconds_to_next()) or 0.05)
