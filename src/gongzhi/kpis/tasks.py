"""Background work of the kpis app (the Tasks API of the django-tasks backport).

* ``refresh_rollups``: bring the daily rollup up to date (every five minutes, ``gongzhi scheduler``).
* ``monthly_reports``: generate last month's report for the subdistrict and every community (on the 1st).
"""

from __future__ import annotations

from datetime import date

from django_tasks import task

from gongzhi.kpis import services


@task()
def refresh_rollups() -> dict[str, object]:
    return services.refresh_rollup()


@task()
def monthly_reports(month: str | None = None) -> dict[str, object]:
    """``month``: ``YYYY-MM-01`` (default: last month)."""
    return services.generate_month_reports(month=date.fromisoformat(month) if month else None)
