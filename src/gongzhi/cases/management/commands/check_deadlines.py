from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gongzhi.cases.tasks import check_deadlines, run_deadline_check


class Command(BaseCommand):
    help = (
        "Mark overdue cases and escalate them: enqueue the task for the worker (default) or run it here (--now). "
        "`gongzhi scheduler` enqueues it every 5 minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="run in this process instead of enqueuing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            self.stdout.write(str(run_deadline_check()))
            return
        self.stdout.write(f"enqueued check_deadlines {check_deadlines.enqueue().id}")
