from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gongzhi.kpis import schedule


class Command(BaseCommand):
    help = (
        "One KPI round: enqueue the rollup refresh and, when last month's report of a subdistrict is missing, the "
        "monthly reports. `gongzhi scheduler` runs both jobs periodically; this is the round by hand (or from cron)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round (the only kind; kept for old cron lines)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"refresh_rollups {schedule.enqueue_refresh()}")
        self.stdout.write(f"monthly_reports {schedule.enqueue_monthly_reports()}")
