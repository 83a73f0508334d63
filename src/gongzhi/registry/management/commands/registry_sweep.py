import time

from django.core.management.base import BaseCommand

from gongzhi.registry import services


class Command(BaseCommand):
    help = (
        "Housekeeping of registry imports and exports: a job whose worker died (no heartbeat for 10 minutes) is "
        "marked failed, bad-rows files and export files older than 7 days are purged, stray private files removed. "
        "One round by default; --every N repeats every N seconds (cron or next to the worker)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--every", type=int, default=0, help="run again every N seconds, forever")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        while True:
            self.stdout.write(str(services.sweep_jobs()))
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
