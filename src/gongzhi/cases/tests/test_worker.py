"""The background-task worker survives transient database errors, retries a task that hit one, writes a heartbeat;
the 12345 job page says when no worker is alive; ``gongzhi supervise`` restarts a command that exits."""

from __future__ import annotations

import sys
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.utils import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import selectors, services, tasks, worker
from gongzhi.cases.models import WorkerBeat
from gongzhi.cases.tests.test_hotline_bulk import _big_file

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}


@pytest.fixture
def db_tasks(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """Tasks go to the database queue, as outside tests; the worker's pauses are skipped."""
    settings.TASKS = DB_TASKS
    monkeypatch.setattr(worker, "time", SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(worker, "RETRY_DELAY", timedelta(0))
    monkeypatch.setattr(worker, "BEAT_EVERY", 3600.0)  # only the first beat, in this thread


def make_worker(**kwargs: Any) -> worker.ResilientWorker:
    options = {
        "queue_names": ["*"], "interval": 0, "batch": True, "backend_name": "default", "startup_delay": False,
        "max_tasks": None, "worker_id": "test-worker", "excluded_queue_names": [],
    } | kwargs  # fmt: skip
    return worker.ResilientWorker(**options)


def test_a_locked_database_while_writing_a_result_does_not_kill_the_worker(db_tasks, monkeypatch):  # type: ignore[no-untyped-def]
    result = tasks.check_deadlines.enqueue()
    original_save = DBTaskResult.save
    refusals = {"left": 8}  # more than django-tasks-db's own three tries for the success and three for the failure

    def save(self: DBTaskResult, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") and "return_value" in kwargs["update_fields"] and refusals["left"] > 0:
            refusals["left"] -= 1
            raise OperationalError("database is locked")
        original_save(self, *args, **kwargs)

    monkeypatch.setattr(DBTaskResult, "save", save)

    make_worker().run()  # returns: the worker did not die on the error

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL" and row.return_value == {"overdue": 0, "escalated": 0}
    assert refusals["left"] == 0


def test_a_task_that_hits_a_transient_error_runs_again_later(db_tasks, monkeypatch):  # type: ignore[no-untyped-def]
    calls = []

    def flaky(now: Any = None) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return {"overdue": 0, "escalated": 0}

    monkeypatch.setattr(tasks, "run_deadline_check", flaky)
    result = tasks.check_deadlines.enqueue()

    make_worker().run()

    row = DBTaskResult.objects.get(pk=result.id)
    assert len(calls) == 2  # queued again, and run again
    assert row.status == "SUCCESSFUL" and len(row.worker_ids) == 2


def test_a_task_failing_on_a_real_error_still_fails(db_tasks, monkeypatch):  # type: ignore[no-untyped-def]
    def broken(now: Any = None) -> dict[str, int]:
        raise ValueError("a bug")

    monkeypatch.setattr(tasks, "run_deadline_check", broken)
    result = tasks.check_deadlines.enqueue()
    make_worker().run()
    assert DBTaskResult.objects.get(pk=result.id).status == "FAILED"


def test_the_loop_survives_an_error_looking_for_a_task(db_tasks, monkeypatch):  # type: ignore[no-untyped-def]
    result = tasks.check_deadlines.enqueue()
    original = worker.ResilientWorker._next
    failures = {"left": 3}

    def next_task(self: worker.ResilientWorker) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return original(self)

    monkeypatch.setattr(worker.ResilientWorker, "_next", next_task)
    make_worker().run()
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"


def test_the_worker_writes_a_heartbeat_and_removes_it_when_it_stops(db_tasks, monkeypatch):  # type: ignore[no-untyped-def]
    seen = []
    monkeypatch.setattr(worker.ResilientWorker, "_loop", lambda self: seen.extend(WorkerBeat.objects.all()))
    make_worker(worker_id="w-1").run()
    assert [b.worker_id for b in seen] == ["w-1"] and seen[0].pid > 0
    assert not WorkerBeat.objects.exists()


def test_the_job_page_says_when_no_worker_is_alive(client, tree, db_tasks, api):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    job = services.create_hotline_import(
        actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(6)), file_name="a.csv", mapping=None,
        node_code=tree.subdistrict.code,
    )  # fmt: skip
    client.force_login(operator)
    url = f"{reverse('cases-hotline')}?job={job.pk}"
    api.as_user(operator)

    page = client.get(url).content.decode()
    assert 'id="job-no-worker"' in page and "后台任务进程" in page
    assert api.get(f"/api/v1/cases/hotline/imports/{job.pk}").json()["worker_alive"] is False

    now = timezone.now()
    WorkerBeat.objects.create(worker_id="w", started_at=now, seen_at=now)
    assert 'id="job-no-worker"' not in client.get(url).content.decode()
    assert api.get(f"/api/v1/cases/hotline/imports/{job.pk}").json()["worker_alive"] is True

    WorkerBeat.objects.update(seen_at=now - selectors.WORKER_SILENT_AFTER - timedelta(seconds=1))
    assert 'id="job-no-worker"' in client.get(url).content.decode()


def test_no_worker_note_when_tasks_need_no_worker(client, tree):  # type: ignore[no-untyped-def]
    assert selectors.worker_alive() is None  # the tests' immediate backend


def test_supervise_starts_a_command_again_when_it_exits(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A child that exits is started again; --max-restarts ends the test."""
    from django.core.management.base import CommandError

    from gongzhi.core.management.commands import supervise

    starts = []

    class FakeProcess:
        def __init__(self, argv: list[str]) -> None:
            starts.append(argv)

        def poll(self) -> int:
            return 1  # exits at once

    monkeypatch.setattr(supervise.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(supervise.time, "sleep", lambda seconds: None)
    with pytest.raises(CommandError, match="exited 3 times"):
        call_command("supervise", "task_worker --queue-name '*'", "--delay", "0", "--max-restarts", "2")
    assert len(starts) == 3
    assert starts[0] == [sys.executable, "-m", "gongzhi.manage", "task_worker", "--queue-name", "*"]
