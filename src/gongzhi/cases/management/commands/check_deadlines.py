from django.core.management.base import BaseCommand

from gongzhi.cases.tasks import check_deadlines, run_deadline_check


class Command(BaseCommand):
    help = "Mark overdue cases and escalate them (enqueue for the worker, or --now to run here)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--now", action="store_true", help="run in this process instead of enqueuing")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["now"]:
            self.stdout.write(str(run_deadline_check()))
        else:
            result = check_deadlines.enqueue()
            self.stdout.write(f"enqueued {result.id}")
