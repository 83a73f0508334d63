"""The one scheduler of periodic work (``gongzhi scheduler``, core/scheduler.py; the jobs in each app's schedule.py)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.core.scheduler import Job, Scheduler, discover


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_jobs_run_at_start_and_then_every_interval() -> None:
    clock, runs, lines = Clock(), [], []
    fast = Job("fast", 10, lambda: runs.append("fast") or "ok")
    slow = Job("slow", 60, lambda: runs.append("slow") or "ok")
    scheduler = Scheduler([fast, slow], clock=clock, out=lines.append)
    assert scheduler.run_pending() == ["fast", "slow"]
    assert scheduler.run_pending() == []
    assert scheduler.seconds_to_next() == 10
    clock.now += 10
    assert scheduler.run_pending() == ["fast"]
    clock.now += 50
    assert scheduler.run_pending() == ["fast", "slow"]
    assert runs == ["fast", "slow", "fast", "fast", "slow"] and lines[0] == "fast: ok"


def test_a_failing_job_is_logged_retried_and_stops_nothing() -> None:
    clock, lines, calls = Clock(), [], []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("database gone")

    scheduler = Scheduler([Job("broken", 3600, broken), Job("fine", 3600, lambda: "ok")], clock=clock, out=lines.append)
    assert scheduler.run_pending() == ["broken", "fine"]
    assert lines == ["broken: failed (RuntimeError: database gone)", "fine: ok"]
    clock.now += 60  # retried within a minute, not after the hour
    assert scheduler.run_pending() == ["broken"] and len(calls) == 2


def test_run_forever_stops_when_asked() -> None:
    clock, runs = Clock(), []
    scheduler = Scheduler([Job("tick", 1, lambda: runs.append(1))], clock=clock, out=lambda _: None)

    def sleep(seconds: float) -> None:
        clock.now += seconds

    scheduler.run_forever(lambda: len(runs) >= 3, sleep=sleep)
    assert len(runs) == 3 and clock.now == pytest.approx(1003.0)  # three runs a second apart, then the nap that saw the stop


def test_every_periodic_job_is_discovered() -> None:
    jobs = {job.name: job.every for job in discover()}
    assert jobs == {
        "idempotency_expire": 3600,
        "check_deadlines": 300,
        "load_holidays": 86400,
        "registry_sweep": 3600,
        "messaging_requeue": 60,
        "messaging_digest": 600,
        "inspections_generate_rounds": 3600,
        "inspections_rounds_due": 3600,
        "inspections_hazards_overdue": 3600,
        "dispute_follow_ups": 3600,
        "service_activity_reminders": 3600,
        "meetings_plan_recurring": 3600,
        "meetings_follow_projects": 3600,
        "triage_train": 3600,
        "kpi_refresh": 300,
        "monthly_reports": 3600,
    }


def test_no_command_keeps_a_loop_of_its_own() -> None:
    """Periodic work is a job of the scheduler, not a ``while True: sleep`` in a command (only the scheduler, the
    supervisor and the task worker wait)."""
    import gongzhi

    waiting = {"scheduler.py", "supervise.py", "task_worker.py"}
    offenders = []
    for path in Path(gongzhi.__file__).parent.glob("*/management/commands/*.py"):
        if path.name in waiting:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "sleep":
                offenders.append(f"{path.parent.parent.parent.name}/{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_the_command_runs_each_job_once_and_lists_them() -> None:
    out = io.StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "check_deadlines" in out.getvalue() and "every     300 s" in out.getvalue()
    out = io.StringIO()
    call_command("scheduler", "--once", "--only", "check_deadlines", "--only", "registry_sweep", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["check_deadlines", "registry_sweep"]
    assert lines[0].startswith("check_deadlines: enqueued")
    with pytest.raises(CommandError):
        call_command("scheduler", "--once", "--only", "nope", stdout=io.StringIO())
