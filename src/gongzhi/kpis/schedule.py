"""The KPI app's periodic jobs (run by ``gongzhi scheduler``): the rollup refresh every five minutes and, once a
month, the monthly reports when a subdistrict lacks last month's."""

from __future__ import annotations

from datetime import date

from gongzhi.core.scheduler import Job
from gongzhi.kpis import periods, reports, selectors
from gongzhi.kpis.tasks import monthly_reports, refresh_rollups
from gongzhi.territory.choices import NodeKind


def missing_reports(month: date) -> bool:
    """Does a subdistrict lack its report of ``month``? (Read as the system principal: no user is signed in.)"""
    for place in reports.report_places():
        if place.kind != NodeKind.SUBDISTRICT:
            continue
        if not selectors.report_list(user=reports.SYSTEM, node=place).filter(month=month).exists():
            return True
    return False


def enqueue_refresh() -> str:
    return f"enqueued {refresh_rollups.enqueue().id}"


_enqueued_months: set[date] = set()  # a month's reports are enqueued once per scheduler process


def enqueue_monthly_reports() -> str:
    month = periods.last_month()
    if month in _enqueued_months or not missing_reports(month):
        return "nothing missing"
    result = monthly_reports.enqueue(month=month.isoformat())
    _enqueued_months.add(month)
    return f"enqueued {month:%Y-%m} {result.id}"


JOBS = [
    Job("kpi_refresh", 300, enqueue_refresh),
    Job("monthly_reports", 3600, enqueue_monthly_reports),
]
