"""Reads of the KPIs, always within the caller's scope.

A figure is about a *place* (the subdistrict, a community, a grid …) and a period of intake. It is read from the
daily rollup when that gives exactly the same answer as the cases (the place is a grid or above, the breakdown is
by time, place, category or channel, and the user sees the whole place), otherwise straight from the cases. The
cases behind any figure come from :func:`drill`, always from the cases themselves.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import CharField, Count, DateField, F, Q, QuerySet, Value
from django.db.models.functions import Substr, TruncDate, TruncMonth, TruncWeek, TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case, Category
from gongzhi.core.access import reaches
from gongzhi.core.errors import ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.schemas import INT64_MAX, INT64_MIN
from gongzhi.core.scope import CODE_LEVELS, ScopedQuerySet, code_prefix_q
from gongzhi.kpis import measures, sql
from gongzhi.kpis.measures import Figures
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
from gongzhi.kpis.periods import local_midnight, month_period
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.kpis.reports import Reader

# Breakdown dimensions. "major" is the major class (大类) of the category.
TIME_DIMS = ("day", "week", "month", "year")
PLACE_DIMS = ("community", "grid")
ROLLUP_DIMS = (*TIME_DIMS, *PLACE_DIMS, "category", "major", "channel")
DIMENSIONS = (*ROLLUP_DIMS, "body", "worker")
DIMENSION_LABELS = {
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
    "year": _("Year"),
    "community": _("Community"),
    "grid": _("Grid"),
    "category": _("Category"),
    "major": _("Major class"),
    "channel": _("Channel"),
    "body": _("Handling body"),
    "worker": _("Worker"),
}
PLACE_CODE_LENGTH = {"community": 12, "grid": 15}


def child_level(place: Node) -> str | None:
    """The level one down from a place: communities of a subdistrict, grids of a community, buildings of a grid."""
    length = len(place.code)
    if length < 12:
        return "community"
    if length < 15:
        return "grid"
    if length < 19:
        return "building"
    return None


@dataclass(frozen=True)
class KpiQuery:
    """Which cases a figure is about: intake between ``start`` and ``end`` (inclusive) under ``place``."""

    place: Node
    start: date
    end: date
    category_id: int | None = None  # a minor category, or a major class (all its minor ones)
    channel: str | None = None
    body_id: int | None = None  # handling body (department)
    worker_id: int | None = None  # the person who reported the case done
    # Every case the user sees, wherever it lies (``place`` then only anchors the page): a worker's own figures
    # count the cases they disposed outside their grid too (handled there on dispatch), and so does their list.
    anywhere: bool = False

    def with_(self, **changes: Any) -> KpiQuery:
        return KpiQuery(**{**self.__dict__, **changes})  # dataclasses.replace, without its per-call introspection


@dataclass
class Row:
    key: Any
    label: str
    figures: Figures
    code: str = ""  # a place's territory code (place breakdowns), for the map
    query: KpiQuery | None = None  # the query of this row alone (for drill-down links)


def default_place(*, user: User) -> Node | None:
    """The topmost place whose cases the user may see (the subdistrict for an operator)."""
    from gongzhi.territory import selectors as territory

    roots = [n for n in territory.scope_roots(user=user) if reaches(user, "cases.case", "view", n)]
    return roots[0] if roots else None


def place_get(*, user: User, node_id: int) -> Node:
    """A place whose figures the user may read: one they see in full (404 otherwise, like any other object)."""
    node = Node.objects.select_related("lead_body", "parent").filter(pk=node_id).first()
    if node is None or not reaches(user, "cases.case", "view", node):
        raise NotFound(_("No such place."))
    return node


# The days a period may span. Dates at the calendar's ends (0001-01-01, 9999-12-31) cannot be turned into local
# datetimes and back (the offset overflows Python's dates), and no case is that old or that far ahead.
FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2100, 12, 31)


def parse_period(start: str | date | None, end: str | date | None, *, today: date | None = None) -> tuple[date, date]:
    """Start and end of a period; defaults to the last twelve months up to today. Both lie within
    ``FIRST_DAY`` … ``LAST_DAY`` (else ``ValidationFailed`` naming the parameter)."""
    today = today or timezone.localdate()

    def _d(value: Any, name: str) -> date | None:
        if value in (None, ""):
            return None
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                raise ValidationFailed(
                    _("Bad date."),
                    [ErrorDetail(field=name, message=fmt(_("%(value)s: expected YYYY-MM-DD"), value=repr(value)))],
                ) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed(
                _("Bad date."),
                [
                    ErrorDetail(
                        field=name,
                        message=fmt(
                            _("%(day)s: a day from %(first)s to %(last)s"),
                            day=day.isoformat(),
                            first=FIRST_DAY.isoformat(),
                            last=LAST_DAY.isoformat(),
                        ),
                    )
                ],
            )
        return day

    s, e = _d(start, "start"), _d(end, "end")
    e = e or today
    s = s or date(e.year - 1, e.month, 1) + timedelta(days=31)
    s = s.replace(day=1) if start in (None, "") else s
    if s > e:
        raise ValidationFailed(_("The period ends before it starts."), [ErrorDetail(field="end", message=str(e))])
    return s, e


# --- which source -----------------------------------------------------------------------------------------------


def uses_rollup(*, user: Reader, query: KpiQuery, by: str | None = None) -> bool:
    if by is not None and by not in ROLLUP_DIMS:
        return False
    if query.body_id or query.worker_id or query.anywhere or len(query.place.code) > GRID_CODE_LENGTH:
        return False
    scope = user.scope_for("kpis.caserollup", "view")
    return bool(scope.covers(query.place.code))


def _category_q(category_id: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}category_id": category_id}) | Q(**{f"{prefix}category__parent_id": category_id})


def cases_of(*, user: Reader, query: KpiQuery) -> QuerySet[Case]:
    """The cohort of a query: the cases the user sees, reported in the period, under the place (anywhere, for an
    ``anywhere`` query)."""
    qs = Case.objects.restrict(user, "view").filter(
        reported_at__gte=local_midnight(query.start),
        reported_at__lt=local_midnight(query.end + timedelta(days=1)),
    )
    if not query.anywhere:
        qs = qs.filter(code_prefix_q("node__code", query.place.code))
    if query.category_id:
        qs = qs.filter(_category_q(query.category_id))
    if query.channel:
        qs = qs.filter(channel=query.channel)
    if query.body_id:
        qs = qs.filter(handler_body_id=query.body_id)
    if query.worker_id:
        qs = qs.filter(disposed_by_id=query.worker_id)
    return qs


def _rollup_of(*, user: Reader, query: KpiQuery) -> QuerySet[CaseRollup]:
    qs = CaseRollup.objects.restrict(user, "view").filter(
        code_prefix_q("place_code", query.place.code), day__gte=query.start, day__lte=query.end
    )
    if query.category_id:
        qs = qs.filter(Q(category_id=query.category_id) | Q(major_category_id=query.category_id))
    if query.channel:
        qs = qs.filter(channel=query.channel)
    return qs


def _raw_key(by: str) -> Any:
    return {
        "day": TruncDate("reported_at"),
        "week": TruncWeek("reported_at", output_field=DateField()),
        "month": TruncMonth("reported_at", output_field=DateField()),
        "year": TruncYear("reported_at", output_field=DateField()),
        "community": Substr("node__code", 1, 12),
        "grid": Substr("node__code", 1, 15),
        "category": F("category_id"),
        "major": F("category__parent_id"),
        "channel": F("channel"),
        "body": F("handler_body_id"),
        "worker": F("disposed_by_id"),
    }[by]


def _rollup_key(by: str) -> Any:
    return {
        "day": F("day"),
        "week": TruncWeek("day"),
        "month": TruncMonth("day"),
        "year": TruncYear("day"),
        "community": Substr("place_code", 1, 12),
        "grid": Substr("place_code", 1, 15),
        "category": F("category_id"),
        "major": F("major_category_id"),
        "channel": F("channel"),
    }[by]


MONTH_DIMS = ("month", "year", *PLACE_DIMS)
# What a breakdown row's place is read with (a dashboard may list hundreds of grids, a dozen times over).
PLACE_FIELDS = ("id", "code", "name", "kind", "parent_id", "lead_body_id")


def _month_key(by: str) -> Any:
    return {
        "month": F("month"),
        "year": TruncYear("month"),
        "community": Substr("place_code", 1, 12),
        "grid": Substr("place_code", 1, 15),
    }[by]


def split_months(start: date, end: date, *, today: date | None = None) -> tuple[list[date], list[tuple[date, date]]]:
    """A period as the whole months it covers (their first days) and the partial stretches at its edges. A month
    the period reaches to today counts as whole: no case can have been reported after today."""
    today = today or timezone.localdate()
    months: list[date] = []
    edges: list[tuple[date, date]] = []
    first = start.replace(day=1)
    while first <= end:
        first, last = month_period(first)
        lo, hi = max(first, start), min(last, end)
        if lo == first and (hi == last or end >= today):
            months.append(first)
        else:
            edges.append((lo, hi))
        first = last + timedelta(days=1)
    return months, edges


CLASS_DIMS = ("major", "channel")


def _by_month_rows(query: KpiQuery, by: str | None) -> bool:
    """May whole months of this query be read from the month rows (no category or channel in them)?"""
    return (by is None or by in MONTH_DIMS) and not query.category_id and not query.channel


def _by_class_rows(query: KpiQuery, by: str | None) -> bool:
    """May whole months of this breakdown be read from the month × community × class × channel rows?"""
    return by in CLASS_DIMS and not query.category_id and len(query.place.code) <= COMMUNITY_CODE_LENGTH


def _month_parts(*, user: Reader, query: KpiQuery, by: str | None, months: list[date]) -> tuple[Any, Any]:
    """The month rows of these whole months under the query's place, and the breakdown key to sum them by."""
    rows: ScopedQuerySet[MonthClassRollup | MonthRollup]
    if _by_class_rows(query, by):
        rows = MonthClassRollup.objects.restrict(user, "view").filter(
            code_prefix_q("place_code", query.place.code), month__in=months
        )
        if query.channel:
            rows = rows.filter(channel=query.channel)
        return rows, F("major_category_id") if by == "major" else F("channel")
    rows = MonthRollup.objects.restrict(user, "view").filter(
        code_prefix_q("place_code", query.place.code), month__in=months
    )
    return rows, None if by is None else _month_key(by)


def _sum_into(out: dict[Any, dict[str, float]], key: Any, counts: dict[str, float]) -> None:
    if key in out:
        for name, value in counts.items():
            out[key][name] += value
    else:
        out[key] = counts


@functools.cache
def _sums_sql() -> str:
    return sql.sums(connection.ops.quote_name)


def _summed(rows: QuerySet[Any], key: Any) -> list[tuple[Any, dict[str, float]]]:
    """Every measure summed over rollup rows, per key (one total when ``key`` is None). The ORM writes the rows'
    statement (filters, scope, the key) as a plain SELECT; the sums around it are one fixed string, and the result
    is read as plain tuples. Composing thirty ``Sum()`` annotations per breakdown, and converting a 45-column ORM
    read value by value, cost more than the database's work (a dashboard pass runs fifteen breakdowns)."""
    names = measures.measure_names()
    inner = rows.annotate(k=Value(None, output_field=CharField()) if key is None else key).values("k", *names)
    inner_sql, params = inner.order_by().query.sql_with_params()
    with connection.cursor() as cur:
        # One total (a row of zeros, NULL sums, even over no rows) or one row per key.
        group = "" if key is None else " GROUP BY r.k"
        cur.execute(f"SELECT {'NULL' if key is None else 'r.k'}, {_sums_sql()} FROM ({inner_sql}) r{group}", params)
        columns = ["k", *names]
        fetched = cur.fetchall()
    out = []
    for row in fetched:
        values = dict(zip(columns, row, strict=True))
        out.append((values["k"], {name: values[name] or 0 for name in names}))
    return out


def _grouped(
    *, user: Reader, query: KpiQuery, by: str | None, source: str | None = None
) -> dict[Any, dict[str, float]]:
    """Counts per key (``None`` key when not broken down)."""
    if by is not None and by not in DIMENSIONS:
        raise ValidationFailed(
            _("Unknown breakdown."),
            [ErrorDetail(field="by", message=fmt(_("one of %(values)s"), values=", ".join(DIMENSIONS)))],
        )
    rollup = uses_rollup(user=user, query=query, by=by) if source is None else source == "rollup"
    out: dict[Any, dict[str, float]] = {}
    if rollup:
        by_months = _by_month_rows(query, by) or _by_class_rows(query, by)
        months, edges = split_months(query.start, query.end) if by_months else ([], [])
        if not months:
            edges = [(query.start, query.end)]
        parts: list[tuple[Any, Any]] = []
        if months:
            parts.append(_month_parts(user=user, query=query, by=by, months=months))
        for lo, hi in edges:
            parts.append(
                (_rollup_of(user=user, query=query.with_(start=lo, end=hi)), None if by is None else _rollup_key(by))
            )
        for qs, key in parts:
            for k, counts in _summed(qs, key):
                _sum_into(out, None if key is None else _as_date(k) if by in TIME_DIMS else k, counts)
        if by is not None:
            out = dict(sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0])))
    else:
        qs = cases_of(user=user, query=query)
        if by is None:
            out[None] = measures.normalise(qs.aggregate(**measures.case_aggregates()))
        else:
            rows = qs.annotate(k=_raw_key(by)).values("k").annotate(**measures.case_aggregates()).order_by("k")
            for row in rows:
                out[_as_date(row["k"]) if by in TIME_DIMS else row["k"]] = measures.normalise(row)
    return out


def _as_date(value: Any) -> Any:
    if isinstance(value, str):  # a date read without the ORM's conversion (SQLite keeps dates as text)
        return date.fromisoformat(value[:10])
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def total(*, user: Reader, query: KpiQuery, with_median: bool = True, source: str | None = None) -> Figures:
    counts = _grouped(user=user, query=query, by=None, source=source)[None]
    median = median_cycle_hours(user=user, query=query, source=source) if with_median else None
    return Figures(counts, median_cycle_hours=median)


def breakdown(*, user: Reader, query: KpiQuery, by: str, source: str | None = None) -> list[Row]:
    grouped = _grouped(user=user, query=query, by=by, source=source)
    keys = [k for k in grouped if k is not None]
    places = {n.code: n for n in Node.objects.filter(code__in=keys).only(*PLACE_FIELDS)} if by in PLACE_DIMS else {}
    labels = {code: node.name for code, node in places.items()} if by in PLACE_DIMS else _labels(by, keys)
    rows = []
    for key, counts in grouped.items():
        label = str(_("(none)")) if key is None and by in ("body", "worker", "major") else labels.get(key, str(key))
        rows.append(
            Row(
                key=key,
                label=label,
                figures=Figures(counts),
                code=key if by in PLACE_DIMS else "",
                query=_narrow(query, by, key, places),
            )
        )
    if by in PLACE_DIMS or by in ("category", "major", "channel", "body", "worker"):
        rows.sort(key=lambda r: r.label)
    return rows


def _narrow(query: KpiQuery, by: str, key: Any, places: dict[str, Node] | None = None) -> KpiQuery | None:
    """The query of one row of a breakdown (what its drill-down links filter on)."""
    if key is None:
        return None
    if by in PLACE_DIMS:
        node = (places or {}).get(key)
        return query.with_(place=node) if node is not None else None
    if by == "day":
        return query.with_(start=max(query.start, key), end=min(query.end, key))
    if by in ("week", "month", "year"):
        if by == "week":
            last = key + timedelta(days=6)
        elif by == "month":
            last = month_period(key)[1]
        else:
            last = key.replace(month=12, day=31)
        return query.with_(start=max(query.start, key), end=min(query.end, last))
    if by in ("category", "major"):
        return query.with_(category_id=key)
    if by == "channel":
        return query.with_(channel=key)
    if by == "body":
        return query.with_(body_id=key)
    if by == "worker":
        return query.with_(worker_id=key)
    return None


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by in PLACE_DIMS:
        return dict(Node.objects.filter(code__in=keys).values_list("code", "name"))
    if by in ("category", "major"):
        return {c.pk: str(c) for c in Category.objects.filter(pk__in=keys).select_related("parent")}
    if by == "channel":
        return {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    if by == "body":
        from gongzhi.territory.models import Body

        return dict(Body.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "worker":
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(pk__in=keys)
        return {u.pk: (u.get_full_name() or u.get_username()) for u in users}
    if by == "day":
        return {k: k.isoformat() for k in keys}
    if by == "week":
        return {k: f"{k.isocalendar()[0]}-W{k.isocalendar()[1]:02d}" for k in keys}
    if by == "month":
        return {k: k.strftime("%Y-%m") for k in keys}
    if by == "year":
        return {k: str(k.year) for k in keys}
    return {}


def _raw_histogram(cases: QuerySet[Case]) -> Counter[int]:
    rows = (
        cases.filter(measures.CYCLE_CASES)
        .annotate(cycle_h=measures.CYCLE_HOURS)
        .annotate(r_bucket=measures.cycle_bucket())
        .values("r_bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({r["r_bucket"]: r["n"] for r in rows})


def cycle_histogram(*, user: Reader, query: KpiQuery, source: str | None = None) -> Counter[int]:
    """Closed cases of the cohort per cycle-time bucket (``measures.cycle_bucket``). Whole months come from the
    stored histograms of the place when the rollup may be used; the rest from the cases."""
    rollup = (
        uses_rollup(user=user, query=query) and len(query.place.code) in CODE_LEVELS
        if source is None
        else source == "rollup"
    ) and _by_month_rows(query, None)
    if not rollup:
        return _raw_histogram(cases_of(user=user, query=query))
    months, edges = split_months(query.start, query.end)
    out: Counter[int] = Counter()
    if months:
        stored = CycleHistogram.objects.restrict(user, "view").filter(place_code=query.place.code, month__in=months)
        for counts in stored.values_list("counts", flat=True):
            out.update({int(k): v for k, v in counts.items()})
    for lo, hi in edges:
        out.update(_raw_histogram(cases_of(user=user, query=query.with_(start=lo, end=hi))))
    return out


def median_cycle_hours(*, user: Reader, query: KpiQuery, source: str | None = None) -> float | None:
    """The median of intake → close over the cohort's closed cases, to the hour (to the day beyond a week): from
    the cycle-time histogram, so it needs no sort of the cases (``measures.histogram_median``)."""
    return measures.histogram_median(cycle_histogram(user=user, query=query, source=source))


def drill(*, user: User, query: KpiQuery, kpi: str, part: str | None = None) -> QuerySet[Case]:
    """The cases behind one KPI value: its numerator, denominator or the gap (by default the ones pulling it down)."""
    if kpi not in measures.KPIS:
        raise ValidationFailed(
            _("Unknown figure."),
            [ErrorDetail(field="kpi", message=fmt(_("one of %(values)s"), values=", ".join(measures.KPIS)))],
        )
    k = measures.KPIS[kpi]
    part = part or measures.bad_part(k)
    if part not in ("num", "den", "gap") or (part == "gap" and k.denominator is None):
        raise ValidationFailed(_("Unknown part."), [ErrorDetail(field="part", message=_("num, den or gap"))])
    return (
        cases_of(user=user, query=query)
        .filter(measures.drill_q(k, part))
        .select_related("category", "node", "handler_body", "owner_body")
        .order_by("-reported_at", "-id")
    )


def rollup_state() -> RollupState | None:
    return RollupState.objects.filter(pk=1).first()


def report_list(*, user: Reader, node: Node | None = None) -> QuerySet[MonthlyReport]:
    qs = MonthlyReport.objects.restrict(user, "view").select_related("node")
    if node is not None:
        qs = qs.filter(node=node)
    return qs


def report_get(*, user: User, report_id: int) -> MonthlyReport:
    from gongzhi.core.access import get_in_scope

    return get_in_scope(MonthlyReport, user, report_id, queryset=MonthlyReport.objects.select_related("node"))


# --- figures outside the cases ----------------------------------------------------------------------------------


@dataclass
class VisitCoverage:
    campaign_id: int
    campaign_name: str
    targets: int
    covered: int
    rows: list[Any]  # visits.selectors.Coverage per child place

    @property
    def rate(self) -> float | None:
        return self.covered / self.targets if self.targets else None


def visit_coverage(*, user: User, place: Node) -> VisitCoverage | None:
    """Coverage of the newest running visit campaign that touches the place (its targets under the place)."""
    from gongzhi.visits import selectors as visits

    for campaign in visits.campaign_list(user=user, active_only=True):
        area = campaign.area.code
        if not (area.startswith(place.code) or place.code.startswith(area)):
            continue
        level = child_level(place) or "building"
        rows = [r for r in visits.coverage(user=user, campaign=campaign, by=level) if r.code.startswith(place.code)]
        return VisitCoverage(
            campaign_id=campaign.pk,
            campaign_name=campaign.name,
            targets=sum(r.targets for r in rows),
            covered=sum(r.covered for r in rows),
            rows=rows,
        )
    return None


@dataclass
class Completeness:
    residents: int
    complete: int
    households: int
    occupied: int

    @property
    def people_rate(self) -> float | None:
        return self.complete / self.residents if self.residents else None

    @property
    def household_rate(self) -> float | None:
        return self.occupied / self.households if self.households else None


def registry_completeness(*, user: User, place: Node) -> Completeness:
    from gongzhi.registry import selectors as registry

    return Completeness(**registry.completeness(user=user, area_code=place.code))


def query_from_params(*, user: User, params: Any) -> KpiQuery:
    """A query from request parameters (pages and API alike): ``place`` (node id; default the user's topmost
    place), ``start`` / ``end`` (YYYY-MM-DD; default the last twelve months), ``category``, ``channel``, ``body``,
    ``worker``, ``anywhere`` (1: every case the user sees, not only under the place). Bad values raise
    ``ValidationFailed`` naming the parameter; a place out of scope is ``NotFound``."""

    def _int(name: str) -> int | None:
        raw = params.get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(
                fmt(_("Bad value for %(name)s."), name=name),
                [ErrorDetail(field=name, message=fmt(_("%(raw)s: expected a number"), raw=repr(raw)))],
            ) from None
        if not INT64_MIN <= value <= INT64_MAX:  # beyond what a database column holds: a 500 from the driver
            raise ValidationFailed(
                fmt(_("Bad value for %(name)s."), name=name),
                [ErrorDetail(field=name, message=_("the number is too large"))],
            )
        return value

    place_id = _int("place")
    place = place_get(user=user, node_id=place_id) if place_id else default_place(user=user)
    if place is None:
        raise NotFound(_("You have no place whose figures you may see."))
    start, end = parse_period(params.get("start"), params.get("end"))
    channel = params.get("channel") or None
    if channel is not None and channel not in Channel.values:
        raise ValidationFailed(
            _("Unknown channel."),
            [ErrorDetail(field="channel", message=fmt(_("one of %(values)s"), values=", ".join(Channel.values)))],
        )
    return KpiQuery(
        place=place,
        start=start,
        end=end,
        category_id=_int("category"),
        channel=channel,
        body_id=_int("body"),
        worker_id=_int("worker"),
        anywhere=_flag(params.get("anywhere"), "anywhere"),
    )


def _flag(raw: Any, name: str) -> bool:
    value = str(raw).strip().lower() if raw is not None else ""
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValidationFailed(
        fmt(_("Bad value for %(name)s."), name=name),
        [ErrorDetail(field=name, message=fmt(_("%(raw)s: expected 1 or 0"), raw=repr(raw)))],
    )


def query_params(query: KpiQuery) -> dict[str, str]:
    """The request parameters of a query (for links: a breakdown row's drill-down, the report of a month …)."""
    out = {"place": str(query.place.pk), "start": query.start.isoformat(), "end": query.end.isoformat()}
    for name, value in (
        ("category", query.category_id),
        ("channel", query.channel),
        ("body", query.body_id),
        ("worker", query.worker_id),
    ):
        if value:
            out[name] = str(value)
    if query.anywhere:
        out["anywhere"] = "1"
    return out


def worker_reported(*, user: User, worker_id: int, start: date, end: date) -> QuerySet[Case]:
    """The cases a worker reported (patrol finds) in the period, within what ``user`` may see."""
    return Case.objects.restrict(user, "view").filter(
        reporter_user_id=worker_id,
        reported_at__gte=local_midnight(start),
        reported_at__lt=local_midnight(end + timedelta(days=1)),
    )


def worker_reported_by_month(*, user: User, worker_id: int, start: date, end: date) -> dict[str, int]:
    """How many cases a worker reported, per month ("YYYY-MM")."""
    rows = (
        worker_reported(user=user, worker_id=worker_id, start=start, end=end)
        .annotate(m=TruncMonth("reported_at"))
        .values("m")
        .annotate(n=Count("id"))
        .order_by("m")
    )
    return {r["m"].strftime("%Y-%m"): r["n"] for r in rows if r["m"] is not None}
