"""``gongzhi plan_meetings``: plan the standing meetings now (the scheduler does it hourly)."""

from typing import Any

from django.core.management.base import BaseCommand

from gongzhi.meetings import services


class Command(BaseCommand):
    help = "Plan this month's and next month's standing meetings (night talks on their day, joint meetings)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"planned {services.plan_recurring()}")
