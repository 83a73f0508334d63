import time

from django.core.management.base import BaseCommand
from django.db import OperationalError, connections

from gongzhi.cases.tasks import check_deadlines, run_deadline_check


class Command(BaseCommand):
    help = (
        "Mark overdue cases and escalate them: enqueue the task for the worker (default), run it here (--now), "
        "or keep enqueuing it every N seconds (--every N: the scheduler `make demo`/`make serve` run, or cron)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--now", action="store_true", help="run in this process instead of enqueuing")
        parser.add_argument("--every", type=int, default=0, help="enqueue again every N seconds, forever")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["now"]:
            self.stdout.write(str(run_deadline_check()))
            return
        while True:
            try:
                result = check_deadlines.enqueue()
            except OperationalError as exc:  # a locked or lost database: try again next round
                if options["every"] <= 0:
                    raise
                self.stderr.write(f"check_deadlines not enqueued ({exc}); trying again in {options['every']} s")
                connections.close_all()
            else:
                self.stdout.write(f"enqueued check_deadlines {result.id}")
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
