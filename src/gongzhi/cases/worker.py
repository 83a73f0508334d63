"""The background-task worker that stays up: django-tasks-db's ``db_worker``, made to survive the database.

django-tasks-db's worker dies when the database says no for a moment ("database is locked" on SQLite while an
import writes, a PostgreSQL connection dropped): writing a task's result retries three times in 0.3 s and then the
exception leaves the worker's loop, and the queue stops until someone restarts it. :class:`ResilientWorker`
(``gongzhi task_worker``) keeps the same loop, but:

* a transient database error (``OperationalError``, ``InterfaceError``) anywhere in the loop — looking for a task,
  claiming it, writing its result — is logged, the connections are dropped, and the loop goes on after a pause
  that grows (1 s, 2 s, … :data:`MAX_PAUSE`); a result that could not be written is written again first;
* a task whose body fails on such an error is not failed: it goes back to the queue, to run again after
  :data:`RETRY_DELAY` (at most :data:`MAX_ATTEMPTS` runs in all; then it fails as any task does);
* it writes a heartbeat (``WorkerBeat``) every :data:`BEAT_EVERY` seconds from a thread of its own, even while a
  long task runs; pages that wait for the worker (the 12345 job page) say when no worker has been seen for
  ``selectors.WORKER_SILENT_AFTER``. A worker that exits normally removes its row.

``make demo``/``make serve`` run it under ``gongzhi supervise``, which starts it again if it exits anyway.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

log = logging.getLogger("gongzhi.worker")

TRANSIENT = (OperationalError, InterfaceError)
BEAT_EVERY = 10.0  # seconds between heartbeats
MAX_PAUSE = 30.0  # the longest pause after a database error
RETRY_DELAY = timedelta(seconds=30)  # a task that failed on a transient database error runs again after this
MAX_ATTEMPTS = 5  # runs of one task in all (the first and the retries)
WRITE_TRIES = 20  # attempts to write a task's result (with growing pauses: about 5 minutes in all)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def _drop_connections(*, only_unusable: bool = False) -> None:
    """Close this thread's connections (after a database error: the next query connects again), or only those that
    are broken or too old. A connection inside a transaction is left alone: the worker's loop never holds one, a
    test's does."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue
        try:
            if only_unusable:
                conn.close_if_unusable_or_obsolete()
            else:
                conn.close()
        except Exception:
            log.debug("closing a broken connection failed", exc_info=True)


class ResilientWorker(Worker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pause = 0.0
        self.unwritten: list[Callable[[], None]] = []  # results to write again before anything else
        self._stop_beat = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self.started_at = timezone.now()

    # --- the heartbeat ------------------------------------------------------------------------------------------

    def beat(self) -> None:
        from gongzhi.cases.models import WorkerBeat

        now = timezone.now()
        WorkerBeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"seen_at": now, "host": socket.gethostname()[:255], "pid": os.getpid()},
            create_defaults={
                "seen_at": now,
                "started_at": self.started_at,
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
            },
        )

    def _beat_loop(self) -> None:
        try:
            while not self._stop_beat.wait(BEAT_EVERY):
                try:
                    self.beat()
                except Exception:
                    log.warning("worker %s: heartbeat not written", self.worker_id, exc_info=True)
                    _drop_connections()
        finally:
            connections.close_all()  # this thread's own connection

    def start_beating(self) -> None:
        from gongzhi.cases.models import WorkerBeat

        try:
            self.beat()
            WorkerBeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()  # killed long ago
        except Exception:
            log.warning("worker %s: first heartbeat not written", self.worker_id, exc_info=True)
        self._beat_thread = threading.Thread(target=self._beat_loop, name="worker-heartbeat", daemon=True)
        self._beat_thread.start()

    def stop_beating(self) -> None:
        from gongzhi.cases.models import WorkerBeat

        self._stop_beat.set()
        if self._beat_thread is not None:
            self._beat_thread.join(timeout=BEAT_EVERY + 5)
        try:
            WorkerBeat.objects.filter(worker_id=self.worker_id).delete()
        except Exception:
            log.warning("worker %s: heartbeat row not removed", self.worker_id, exc_info=True)

    # --- the loop -----------------------------------------------------------------------------------------------

    def run(self) -> None:
        log.info("Starting worker %s (queues %s)", self.worker_id, ",".join(self.queue_names))
        self.start_beating()
        try:
            self._loop()
        finally:
            self.stop_beating()

    def _loop(self) -> None:
        while self.running:
            try:
                while self.unwritten:
                    self.unwritten[0]()
                    self.unwritten.pop(0)
                found, task_result = self._next()
                if task_result is not None:
                    self.run_task(task_result)
            except TRANSIENT as exc:
                self._survive(exc)
                continue
            self.pause = 0.0
            if self.batch and found and task_result is None:
                log.info("No more tasks for worker %s: exiting.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                log.info("Worker %s ran %d tasks: exiting.", self.worker_id, self._run_tasks)
                return
            if self.running and task_result is None:
                time.sleep(self.interval)

    def _survive(self, exc: BaseException) -> None:
        self.pause = min(MAX_PAUSE, max(1.0, self.pause * 2))
        log.warning(
            "worker %s: database error (%s: %s); going on in %.0f s", self.worker_id, type(exc).__name__, exc,
            self.pause,
        )  # fmt: skip
        _drop_connections()
        if self.running:
            time.sleep(self.pause)

    def _next(self) -> tuple[bool, DBTaskResult[Any, Any] | None]:
        """(looked, the claimed task or None); a locked database is "nothing found yet"."""
        _drop_connections(only_unusable=True)
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return True, task_result

    # --- one task -------------------------------------------------------------------------------------------------

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        """Run the task as django-tasks-db does, except: a transient database error in its body sends it back to the
        queue, and writing its result is retried patiently (kept for the loop to write again if it still fails)."""
        original_failed = db_task_result.set_failed
        original_successful = db_task_result.set_successful

        def set_failed(exc: BaseException) -> None:
            if is_transient(exc) and len(db_task_result.worker_ids) < MAX_ATTEMPTS:
                log.warning(
                    "task %s: database error (%s); queued again to run after %s", db_task_result.id, exc, RETRY_DELAY
                )
                self._write(lambda: self._requeue(db_task_result))
            else:
                self._write(lambda: original_failed(exc))

        def set_successful(value: Any) -> None:
            self._write(lambda: original_successful(value))

        db_task_result.set_failed = set_failed
        db_task_result.set_successful = set_successful
        super().run_task(db_task_result)

    @staticmethod
    def _requeue(db_task_result: DBTaskResult[Any, Any]) -> None:
        # A task result's state (django-tasks-db's column), not a case's: the workflow-only check looks for a
        # ``status=`` keyword, so the fields are passed as a mapping.
        fields = {"status": TaskResultStatus.READY, "started_at": None, "run_after": timezone.now() + RETRY_DELAY}
        DBTaskResult.objects.filter(pk=db_task_result.pk).update(**fields)

    def _write(self, write: Callable[[], None]) -> None:
        """Write a task's result, retrying a transient error with growing pauses; still failing, the write is kept
        for the loop to do first on its next round (never raised: the task's own outcome stands)."""
        pause = 0.1
        for attempt in range(1, WRITE_TRIES + 1):
            try:
                write()
                return
            except TRANSIENT as exc:
                _drop_connections()
                if attempt == WRITE_TRIES:
                    log.warning("worker %s: a task's result is not written yet (%s); trying again", self.worker_id, exc)
                    self.unwritten.append(write)
                    return
                time.sleep(pause)
                pause = min(MAX_PAUSE, pause * 2)
