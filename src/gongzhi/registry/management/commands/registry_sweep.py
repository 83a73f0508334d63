from typing import Any

from django.core.management.base import BaseCommand

from gongzhi.registry import services


class Command(BaseCommand):
    help = (
        "Housekeeping of registry imports and exports: a job whose worker died (no heartbeat for 10 minutes) is "
        "marked failed, bad-rows files and export files older than 7 days are purged, stray private files removed. "
        "One round; `gongzhi scheduler` runs it every hour."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(services.sweep_jobs()))
