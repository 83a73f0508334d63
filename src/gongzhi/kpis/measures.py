"""The KPI vocabulary: what is counted (measures) and how figures are formed from the counts (KPIs).

Every count is a ``Q`` over ``Case``; the same ``Q`` gives the raw aggregate (``Count(filter=q)``), the rollup
columns (built from the raw aggregate) and the drill-down list (``Case.objects.filter(q)``) — one definition, so a
figure and the cases behind it cannot disagree. Formulas and their reasons: docs/kpis.md.

The population is always a *cohort*: the cases reported in the period, on the place (and category, channel, …),
as they stand now. Every measure reads facts stored on the case by the workflow (no replay of timelines and no
"now" in a formula), which is what lets the daily rollup equal the raw computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Func, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import OPEN_STATUSES, ClosedKind, Rating, Status, Tier

VALID = ~Q(status__in=[Status.REJECTED, Status.CANCELLED, Status.MERGED])
CLOSED = Q(status__in=[Status.CLOSED, Status.FOLLOWED_UP])
OPEN = Q(status__in=list(OPEN_STATUSES))
CLOSURE_DUE = CLOSED | (OPEN & Q(overdue_count__gt=0))
RATED = ~Q(rating="")

# name → the cases it counts (within the cohort).
COUNTS: dict[str, Q] = {
    "intake": Q(),
    "valid": VALID,
    "disposed": VALID & Q(disposed_at__isnull=False),
    "disposal_due": VALID & (Q(disposed_at__isnull=False) | Q(disposal_late=True)),
    "disposed_on_time": VALID & Q(disposed_at__isnull=False, disposal_late=False),
    "closed": CLOSED,
    "closure_due": CLOSURE_DUE,
    "closed_on_time": CLOSED & Q(closed_kind=ClosedKind.NORMAL),
    "reworked": CLOSURE_DUE & Q(rework_count__gt=0),
    "open": OPEN,
    "overdue_pending": OPEN & Q(is_overdue=True),
    "postponed": VALID & Q(postpone_count__gt=0),
    "escalated": VALID & Q(escalation_count__gt=0),
    "fixed_on_spot": VALID & Q(fixed_on_spot=True),
    "rated": RATED,
    "satisfied": Q(rating=Rating.SATISFIED),
    "basically_satisfied": Q(rating=Rating.BASICALLY_SATISFIED),
    "satisfied_any": Q(rating__in=[Rating.SATISFIED, Rating.BASICALLY_SATISFIED]),
    "dissatisfied": Q(rating=Rating.DISSATISFIED),
    "resolved": RATED & Q(resolved=True),
    "responded": RATED & Q(responded=True),
    **{f"solved_t{t.value}": CLOSED & Q(tier=t.value) for t in Tier},
}


def _span(end: str, start: Any) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(F(end) - start, output_field=DurationField())


# name → (duration expression, the cases it is defined for). Stored as a sum of seconds and a count.
DURATIONS: dict[str, tuple[Any, Q]] = {
    "cycle": (_span("closed_at", F("reported_at")), CLOSED & Q(closed_at__isnull=False)),  # = CYCLE_CASES
    "to_dispatch": (_span("dispatched_at", F("reported_at")), Q(dispatched_at__isnull=False)),
    "to_acknowledge": (
        _span("acknowledged_at", F("dispatched_at")),
        Q(acknowledged_at__isnull=False, dispatched_at__isnull=False),
    ),
    "to_dispose": (
        _span("disposed_at", Coalesce("acknowledged_at", "dispatched_at", "accepted_at", "reported_at")),
        Q(disposed_at__isnull=False),
    ),
    "to_close": (_span("closed_at", F("disposed_at")), CLOSED & Q(closed_at__isnull=False, disposed_at__isnull=False)),
}


# --- the cycle time histogram (the median) --------------------------------------------------------------------

WEEK_HOURS = 168


class HoursBetween(Func):
    """Whole hours from ``start`` to ``end`` (rounded down), computed the same way by SQLite and PostgreSQL."""

    output_field = IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    # Func.as_sql also takes function/template/arg_joiner, which this SQL never uses: hence the ignore
    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"FLOOR(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 3600)::integer"
        else:  # SQLite stores UTC text; whole seconds are exact
            seconds = "CAST(strftime('%%s', {}) AS INTEGER)"
            sql = f"(({seconds.format(end_sql)} - {seconds.format(start_sql)}) / 3600)"
        return sql, [*end_params, *start_params]


def cycle_bucket() -> Case:
    """The histogram bucket of a closed case's cycle time (intake → close): the whole hour under a week, the whole
    day (in hours) beyond. Needs ``cycle_h`` annotated with :data:`CYCLE_HOURS`."""
    return Case(
        When(cycle_h__lt=0, then=Value(0)),
        When(cycle_h__lt=WEEK_HOURS, then=F("cycle_h")),
        default=F("cycle_h") / 24 * 24,
        output_field=IntegerField(),
    )


CYCLE_HOURS = HoursBetween(F("closed_at"), F("reported_at"))
CYCLE_CASES = CLOSED & Q(closed_at__isnull=False)


def bucket_hours(bucket: int) -> float:
    """The hours a bucket stands for: its start (cycle times are rounded down to the hour, or the day)."""
    return float(bucket)


def histogram_median(counts: Mapping[int, int]) -> float | None:
    """The median cycle time in hours from a histogram (bucket → cases): the middle case's bucket (the mean of the
    two middle ones for an even count), rounded down to the hour under a week and to the day beyond."""
    n = sum(counts.values())
    if not n:
        return None
    wanted = [(n - 1) // 2, n // 2]
    picks: list[float] = []
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        while wanted and wanted[0] < seen:
            picks.append(bucket_hours(bucket))
            wanted.pop(0)
        if not wanted:
            break
    return sum(picks) / len(picks)


def case_aggregates() -> dict[str, Any]:
    """Aggregate expressions over ``Case`` giving every measure (durations as timedeltas, see :func:`seconds`)."""
    out: dict[str, Any] = {name: Count("id", filter=q) if q else Count("id") for name, q in COUNTS.items()}
    for name, (expr, q) in DURATIONS.items():
        out[f"{name}_sum"] = Sum(expr, filter=q)
        out[f"{name}_n"] = Count("id", filter=q)
    return out


MEASURE_NAMES: tuple[str, ...] = (*COUNTS, *(f"{n}_sum" for n in DURATIONS), *(f"{n}_n" for n in DURATIONS))


def measure_names() -> tuple[str, ...]:
    return MEASURE_NAMES


def normalise(row: Mapping[str, Any]) -> dict[str, float]:
    """Raw aggregate row → plain numbers (timedelta sums → seconds, NULL → 0)."""
    out: dict[str, float] = {}
    for name in measure_names():
        value = row.get(name)
        if value is None:
            out[name] = 0
        elif hasattr(value, "total_seconds"):
            out[name] = value.total_seconds()
        else:
            out[name] = value
    return out


# --- KPIs: figures formed from the counts --------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: Any
    numerator: str
    denominator: str | None = None  # None: a plain count
    higher_is_better: bool = True
    unit: str = "rate"  # rate | count | hours

    @property
    def is_rate(self) -> bool:
        return self.unit == "rate"


KPIS: dict[str, Kpi] = {
    k.key: k
    for k in [
        Kpi("intake", _("Intake"), "intake", unit="count"),
        Kpi("disposal", _("Disposal rate"), "disposed", "valid"),
        Kpi("ontime_disposal", _("On-time disposal rate"), "disposed_on_time", "disposal_due"),
        Kpi("closure", _("Closure rate"), "closed", "valid"),
        Kpi("ontime_closure", _("On-time closure rate"), "closed_on_time", "closure_due"),
        Kpi("rework", _("Rework rate"), "reworked", "closure_due", higher_is_better=False),
        Kpi("overdue_pending", _("Overdue pending rate"), "overdue_pending", "valid", higher_is_better=False),
        Kpi("postponement", _("Postponement rate"), "postponed", "valid", higher_is_better=False),
        Kpi("response", _("Response rate"), "responded", "rated"),
        Kpi("resolution", _("Resolution rate"), "resolved", "rated"),
        Kpi("satisfaction", _("Satisfaction rate"), "satisfied_any", "rated"),
        Kpi("escalation", _("Escalation rate"), "escalated", "valid", higher_is_better=False),
        Kpi("tier_building", _("Solved in the building"), "solved_t1", "closed"),
        Kpi("tier_grid", _("Solved in the grid"), "solved_t2", "closed"),
        Kpi("tier_community", _("Solved in the community"), "solved_t3", "closed"),
        Kpi("tier_above", _("Solved above the community"), "solved_t4", "closed"),
        Kpi("tier_department", _("Solved by a department"), "solved_t5", "closed"),
    ]
}
# The rates shown as headline cards and in ranking tables.
HEADLINE = (
    "intake",
    "disposal",
    "ontime_disposal",
    "closure",
    "ontime_closure",
    "rework",
    "overdue_pending",
    "postponement",
    "response",
    "resolution",
    "satisfaction",
)
TIER_KPIS = ("tier_building", "tier_grid", "tier_community", "tier_above", "tier_department")

DEFAULT_SCORE_WEIGHTS = {"disposal": 30, "ontime_disposal": 20, "rework": 20, "overdue_pending": 20, "postponement": 10}


def score_weights() -> dict[str, float]:
    return dict(getattr(settings, "KPI_SCORE_WEIGHTS", None) or DEFAULT_SCORE_WEIGHTS)


def basic_weight() -> float:
    """How much a "basically satisfied" rating counts towards satisfaction (1 = as much as "satisfied")."""
    return float(getattr(settings, "KPI_BASICALLY_SATISFIED_WEIGHT", 1.0))


def drill_q(kpi: Kpi, part: str) -> Q:
    """The cases behind one part of a KPI: ``num``erator, ``den``ominator, or the ``gap`` (in den, not in num)."""
    if part == "num":
        return COUNTS[kpi.numerator]
    if part == "den":
        return COUNTS[kpi.denominator] if kpi.denominator else COUNTS[kpi.numerator]
    if part == "gap" and kpi.denominator:
        return COUNTS[kpi.denominator] & ~COUNTS[kpi.numerator]
    raise ValueError(part)


def bad_part(kpi: Kpi) -> str:
    """The part listing the cases that pull a KPI down (late, reworked, overdue …)."""
    if kpi.denominator is None:
        return "num"
    return "gap" if kpi.higher_is_better else "num"


class Figures:
    """The KPI values of one set of counts (a row of a breakdown, or a total)."""

    def __init__(self, counts: Mapping[str, float], *, median_cycle_hours: float | None = None) -> None:
        self.counts = {name: counts.get(name, 0) or 0 for name in measure_names()}
        self.median_cycle_hours = median_cycle_hours

    def __getitem__(self, key: str) -> float | None:
        return self.value(key)

    def value(self, key: str) -> float | None:
        kpi = KPIS[key]
        num = self.counts[kpi.numerator]
        if kpi.denominator is None:
            return num
        den = self.counts[kpi.denominator]
        if not den:
            return None
        if key == "satisfaction":
            num = self.counts["satisfied"] + basic_weight() * self.counts["basically_satisfied"]
        return num / den

    def fraction(self, key: str) -> tuple[float, float | None]:
        kpi = KPIS[key]
        return self.counts[kpi.numerator], (self.counts[kpi.denominator] if kpi.denominator else None)

    def hours(self, name: str) -> float | None:
        """Mean hours of a duration (``cycle``, ``to_dispatch`` …), None when no case has it."""
        n = self.counts[f"{name}_n"]
        return self.counts[f"{name}_sum"] / n / 3600 if n else None

    @property
    def score(self) -> float | None:
        """Composite score 0–100: Σ weight × rate (1 − rate where lower is better) over the weights' total.
        Rates without data are left out and the remaining weights rescaled; None when none has data."""
        total = got = 0.0
        for key, weight in score_weights().items():
            value = self.value(key)
            if value is None:
                continue
            total += weight
            got += weight * (value if KPIS[key].higher_is_better else 1 - value)
        return round(100 * got / total, 1) if total else None

    def as_dict(self) -> dict[str, Any]:
        return {
            **{key: self.value(key) for key in KPIS},
            "score": self.score,
            "cycle_hours_mean": self.hours("cycle"),
            "cycle_hours_median": self.median_cycle_hours,
            **{f"{name}_hours_mean": self.hours(name) for name in DURATIONS if name != "cycle"},
        }
