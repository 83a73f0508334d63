import time

from django.core.management.base import BaseCommand

from gongzhi.kpis import periods, reports, selectors
from gongzhi.kpis.tasks import monthly_reports, refresh_rollups
from gongzhi.territory.choices import NodeKind


def missing_reports(month):  # type: ignore[no-untyped-def]
    """Does a subdistrict lack its report of ``month``? (Read as the system principal: no user is signed in.)"""
    for place in reports.report_places():
        if place.kind != NodeKind.SUBDISTRICT:
            continue
        if not selectors.report_list(user=reports.SYSTEM, node=place).filter(month=month).exists():
            return True
    return False


class Command(BaseCommand):
    help = (
        "The KPI scheduler: each round enqueues the rollup refresh and, when last month's report of a subdistrict "
        "is missing, the monthly reports (once per month). One round by default (or --once); --every N repeats "
        "every N seconds, forever (what `make demo`/`make serve` run, or cron)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--every", type=int, default=0, help="run a round again every N seconds, forever")
        parser.add_argument("--once", action="store_true", help="run one round and stop (even with --every)")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        enqueued_months = set()
        while True:
            result = refresh_rollups.enqueue()
            self.stdout.write(f"enqueued refresh_rollups {result.id}")
            month = periods.last_month()
            if month not in enqueued_months and missing_reports(month):
                result = monthly_reports.enqueue(month=month.isoformat())
                enqueued_months.add(month)
                self.stdout.write(f"enqueued monthly_reports {month:%Y-%m} {result.id}")
            if options["once"] or options["every"] <= 0:
                return
            time.sleep(options["every"])
