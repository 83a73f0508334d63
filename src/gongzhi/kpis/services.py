"""Writes of the kpis app: the rollup refresh and the monthly reports.

The rollup is derived data (every row can be recomputed from the cases), so its refresh writes no audit record;
a generated report does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.kpis import measures
from gongzhi.kpis.models import GRID_CODE_LENGTH, CaseRollup, RollupState

# Changes committed while a refresh ran may carry an updated_at just before its watermark: look back this far.
LOOKBACK = timedelta(minutes=5)
INSERT_BATCH = 2000


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days → runs of consecutive days as (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _reported_on(days: Iterable[date]) -> Q:
    q = Q(pk__in=[])
    for first, last in day_ranges(days):
        q |= Q(reported_at__gte=local_midnight(first), reported_at__lt=local_midnight(last + timedelta(days=1)))
    return q


def rollup_rows(cases: Any) -> list[CaseRollup]:
    """Aggregate a queryset of cases into rollup rows (day × grid × category × channel)."""
    grouped = (
        cases.annotate(
            r_day=TruncDate("reported_at"),
            r_place=Substr("node__code", 1, GRID_CODE_LENGTH),
        )
        .values("r_day", "r_place", "category_id", "category__parent_id", "channel")
        .annotate(**measures.case_aggregates())
        .order_by()
    )
    rows = []
    for g in grouped:
        rows.append(
            CaseRollup(
                day=g["r_day"],
                place_code=g["r_place"],
                category_id=g["category_id"],
                major_category_id=g["category__parent_id"],
                channel=g["channel"],
                **measures.normalise(g),
            )
        )
    return rows


def _rebuild_days(days: set[date]) -> int:
    """Replace the rollup rows of these days by a fresh aggregation of their cases, a month at a time."""
    by_month: dict[tuple[int, int], set[date]] = {}
    for day in days:
        by_month.setdefault((day.year, day.month), set()).add(day)
    written = 0
    for chunk in by_month.values():
        CaseRollup.objects.filter(day__in=sorted(chunk)).delete()
        rows = rollup_rows(Case.objects.filter(_reported_on(chunk)))
        CaseRollup.objects.bulk_create(rows, batch_size=INSERT_BATCH)
        written += len(rows)
    return written


def _all_days() -> set[date]:
    first = Case.objects.order_by("reported_at").values_list("reported_at", flat=True).first()
    last = Case.objects.order_by("-reported_at").values_list("reported_at", flat=True).first()
    if first is None or last is None:
        return set()
    start, end = timezone.localdate(first), timezone.localdate(last)
    return {start + timedelta(days=i) for i in range((end - start).days + 1)}


def refresh_rollup(*, full: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Bring the rollup up to date: the days whose cases changed since the last refresh (or all days).

    Serialised by a lock on the state row; safe to call from the periodic task and by hand at the same time.
    """
    now = now or timezone.now()
    RollupState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(pk=1)
        if full or state.refreshed_at is None:
            CaseRollup.objects.all().delete()
            days = _all_days()
            state.rebuilt_at = now
        else:
            changed = (
                Case.objects.filter(updated_at__gte=state.refreshed_at - LOOKBACK)
                .annotate(r_day=TruncDate("reported_at"))
                .values_list("r_day", flat=True)
                .distinct()
            )
            days = set(changed)
        rows = _rebuild_days(days) if days else 0
        state.refreshed_at = now
        state.days_refreshed = len(days)
        state.save()
    return {"days": len(days), "rows": rows, "full": full}
