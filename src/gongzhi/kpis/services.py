"""Writes of the kpis app: the rollup refresh and the monthly reports.

The rollup is derived data (every row can be recomputed from the cases), so its refresh writes no audit record;
a generated report does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Case
from gongzhi.core.scope import ancestor_codes
from gongzhi.kpis import measures, periods, sql
from gongzhi.kpis.models import (
    COMMUNITY_CODE_LENGTH,
    GRID_CODE_LENGTH,
    CaseRollup,
    CycleHistogram,
    MonthClassRollup,
    MonthlyReport,
    MonthRollup,
    RollupState,
)
from gongzhi.kpis.periods import day_ranges, local_midnight, month_period, next_month

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.territory.models import Node

# Changes committed while a refresh ran may carry an updated_at just before its watermark: look back this far.
LOOKBACK = timedelta(minutes=5)
INSERT_BATCH = 2000


def _reported_on(days: Iterable[date]) -> Q:
    q = Q(pk__in=[])
    for first, last in day_ranges(days):
        q |= Q(reported_at__gte=local_midnight(first), reported_at__lt=local_midnight(last + timedelta(days=1)))
    return q


def _grouped_cases(cases: Any) -> Any:
    """A queryset of cases aggregated into rollup rows (day × grid × category × channel), every key aliased."""
    return (
        cases.annotate(
            r_day=TruncDate("reported_at"),
            r_place=Substr("node__code", 1, GRID_CODE_LENGTH),
            r_category=F("category_id"),
            r_major=F("category__parent_id"),
            r_channel=F("channel"),
        )
        .values("r_day", "r_place", "r_category", "r_major", "r_channel")
        .annotate(**measures.case_aggregates())
        .order_by()
    )


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _seconds(column: str) -> str:
    """A summed duration of the aggregate query as seconds (PostgreSQL sums intervals, SQLite microseconds)."""
    if connection.vendor == "postgresql":
        return f"COALESCE(EXTRACT(EPOCH FROM {column}), 0)"
    return f"COALESCE({column}, 0) / 1000000.0"


def _insert_days(cases: Any) -> int:
    """Write the rollup rows of these cases in the database itself (no row passes through Python)."""
    grouped, params = _grouped_cases(cases).query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql.insert_days(_q, CaseRollup._meta.db_table, grouped, _seconds), params)
        return cast(int, max(cur.rowcount, 0))  # DB-API: an int


def _insert_month(month: date) -> int:
    """The month's rows per place (grid) and per community × major class × channel, summed from its daily rows.
    Returns the month × grid rows written."""
    place = _q("place_code")
    written = _sum_days_into(MonthRollup, month, {"place_code": place})
    community = f"SUBSTR({place}, 1, {COMMUNITY_CODE_LENGTH})"
    keys = {"place_code": community, "major_category_id": _q("major_category_id"), "channel": _q("channel")}
    _sum_days_into(MonthClassRollup, month, keys)
    return written


def _sum_days_into(table: Any, month: date, keys: dict[str, str]) -> int:
    """``INSERT … SELECT`` into a month table the month's daily rows summed per key (column → SQL expression)."""
    first, last = month_period(month)
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cur:
        cur.execute(
            sql.sum_days_into(_q, table._meta.db_table, CaseRollup._meta.db_table, keys),
            [adapt(first), adapt(first), adapt(last)],
        )
        return cast(int, max(cur.rowcount, 0))  # DB-API: an int


def cycle_histograms(cases: Any) -> dict[str, Counter[int]]:
    """Cycle-time histograms of these cases per place: each case counts at its grid (or its own place above grid
    level) and at every ancestor (the community, the subdistrict)."""
    grouped = (
        cases.filter(measures.CYCLE_CASES)
        .annotate(r_place=Substr("node__code", 1, GRID_CODE_LENGTH), cycle_h=measures.CYCLE_HOURS)
        .annotate(r_bucket=measures.cycle_bucket())
        .values("r_place", "r_bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[str, Counter[int]] = {}
    for row in grouped:
        code = row["r_place"]
        for place in (*ancestor_codes(code), code):
            out.setdefault(place, Counter())[row["r_bucket"]] += row["n"]
    return out


def _rebuild_days(days: set[date]) -> tuple[int, set[date]]:
    """Replace the rollup rows of these days by a fresh aggregation of their cases, a month at a time; then the
    month rows and histograms of the months they fall in. Returns the daily rows written and the months."""
    by_month: dict[date, set[date]] = {}
    for day in days:
        by_month.setdefault(day.replace(day=1), set()).add(day)
    written = 0
    for chunk in by_month.values():
        CaseRollup.objects.filter(day__in=sorted(chunk)).delete()
        written += _insert_days(Case.objects.filter(_reported_on(chunk)))
    for month in sorted(by_month):
        _rebuild_month(month)
    return written, set(by_month)


def _rebuild_month(month: date) -> None:
    MonthRollup.objects.filter(month=month).delete()
    MonthClassRollup.objects.filter(month=month).delete()
    _insert_month(month)
    CycleHistogram.objects.filter(month=month).delete()
    cases = Case.objects.filter(
        reported_at__gte=local_midnight(month), reported_at__lt=local_midnight(next_month(month))
    )
    CycleHistogram.objects.bulk_create(
        [
            CycleHistogram(month=month, place_code=code, counts={str(k): v for k, v in sorted(hist.items())})
            for code, hist in cycle_histograms(cases).items()
        ],
        batch_size=INSERT_BATCH,
    )


def _all_days() -> set[date]:
    first = Case.objects.order_by("reported_at").values_list("reported_at", flat=True).first()
    last = Case.objects.order_by("-reported_at").values_list("reported_at", flat=True).first()
    if first is None or last is None:
        return set()
    start, end = timezone.localdate(first), timezone.localdate(last)
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


def refresh_rollup(*, full: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Bring the rollups up to date: the days whose cases changed since the last refresh (or all days), then the
    months those days fall in.

    Serialised by a lock on the state row; safe to call from the periodic task and by hand at the same time.
    """
    now = now or timezone.now()
    RollupState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(pk=1)
        full = full or state.refreshed_at is None
        if full:
            CaseRollup.objects.all().delete()
            MonthRollup.objects.all().delete()
            MonthClassRollup.objects.all().delete()
            CycleHistogram.objects.all().delete()
            days = _all_days()
            state.rebuilt_at = now
        else:
            assert state.refreshed_at is not None  # not a full refresh: refreshed before
            changed = (
                Case.objects.filter(updated_at__gte=state.refreshed_at - LOOKBACK)
                .annotate(r_day=TruncDate("reported_at"))
                .values_list("r_day", flat=True)
                .distinct()
            )
            days = set(changed)
        rows, months = _rebuild_days(days) if days else (0, set())
        state.refreshed_at = now
        state.days_refreshed = len(days)
        state.save()
    return {"days": len(days), "months": len(months), "rows": rows, "full": full}


# --- monthly reports ------------------------------------------------------------------------------------------------


def _report_file_name(node: Node, month: date) -> str:
    return f"kpi-{node.code}-{month:%Y-%m}.xlsx"


@transaction.atomic
def generate_monthly_report(*, actor: User | None, node: Node, month: date) -> MonthlyReport:
    """Generate (or regenerate) the monthly report of a place: the XLSX workbook of ``kpis.reports`` stored as the
    ``MonthlyReport`` of (month, place), replacing an earlier one. ``actor`` None is the monthly task.

    A user must be allowed to add reports at the place (not seeing it at all: ``NotFound``; seeing it without the
    right: ``Forbidden``). The figures are the place's own, read as the system principal, so a stored report is the
    same whoever generated it."""
    from django.core.files.base import ContentFile

    from gongzhi.core.access import reaches
    from gongzhi.core.audit import record
    from gongzhi.core.errors import Forbidden, NotFound
    from gongzhi.kpis import reports

    if actor is not None:
        if not (reaches(actor, "kpis.monthlyreport", "view", node) or reaches(actor, "cases.case", "view", node)):
            raise NotFound(_("No such place."))
        if not reaches(actor, "kpis.monthlyreport", "add", node):
            raise Forbidden(_("You may not generate reports for this place."))
    first = month.replace(day=1)
    report = reports.month_report(user=reports.SYSTEM, place=node, month=first)
    data = reports.month_report_xlsx(report)
    row = MonthlyReport.objects.select_for_update().filter(month=first, node=node).first()
    before = None
    old_name: str | None = ""
    if row is None:
        row = MonthlyReport(month=first, node=node)
    else:
        before = {"intake": row.intake, "file": row.file.name, "created_at": row.created_at.isoformat()}
        old_name = row.file.name
    row.created_by = actor if getattr(actor, "pk", None) else None
    row.intake = int(report.total.counts["intake"])
    row.file.save(_report_file_name(node, first), ContentFile(data), save=False)
    row.save()
    if old_name and old_name != row.file.name:
        storage, name = row.file.storage, old_name
        transaction.on_commit(lambda: storage.delete(name))
    record(
        actor=actor,
        action="kpis.report_generated",
        obj=row,
        node_code=node.code,
        before=before,
        after={"month": f"{first:%Y-%m}", "intake": row.intake, "file": row.file.name},
        note="" if actor is not None else "monthly task",
    )
    return row


def generate_month_reports(*, month: date | None = None) -> dict[str, Any]:
    """The monthly task: the report of ``month`` (default: last month) for every subdistrict, community and village.
    Each place is its own transaction; a failure is reported and does not stop the others."""
    from gongzhi.kpis import reports

    first = (month or periods.last_month()).replace(day=1)
    done: list[str] = []
    failed: dict[str, str] = {}
    for node in reports.report_places():
        try:
            generate_monthly_report(actor=None, node=node, month=first)
        except Exception as exc:  # one place's failure must not stop the month's other reports
            failed[node.code] = f"{type(exc).__name__}: {exc}"
        else:
            done.append(node.code)
    return {"month": f"{first:%Y-%m}", "generated": len(done), "places": done, "failed": failed}
