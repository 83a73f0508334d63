"""``gongzhi task_worker``: the background-task worker that survives transient database errors and writes a
heartbeat (``cases.worker.ResilientWorker``). Takes django-tasks-db's ``db_worker`` options."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from gongzhi.cases.worker import ResilientWorker


class Command(DbWorkerCommand):
    help = (
        "Run the background-task worker (django-tasks-db's db_worker) so that a locked or lost database does not "
        "stop it: the task is retried later, and a heartbeat tells the pages a worker is alive."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
