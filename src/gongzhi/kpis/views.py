"""Pages of the KPIs: the dashboard of a place, the drill-down behind every figure, the big screen (大屏) and a
worker's own performance.

Views hold no business logic: every figure comes from :mod:`gongzhi.kpis.selectors` (scope applied there; a place
out of scope is ``NotFound`` → 404, a bad parameter ``ValidationFailed`` → the 400 page, both through the error
middleware) and the definitions from :mod:`gongzhi.kpis.measures`. Here figures are only formatted and linked:
every value links to the cases that make it (``kpis-drill``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts import pages
from gongzhi.accounts import selectors as accounts
from gongzhi.cases import selectors as cases_selectors
from gongzhi.cases.choices import Channel
from gongzhi.core.errors import ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.http import AuthedRequest
from gongzhi.core.messages import fmt
from gongzhi.kpis import measures, periods, selectors
from gongzhi.kpis.measures import Figures
from gongzhi.kpis.selectors import KpiQuery, Row
from gongzhi.meetings import selectors as meetings_selectors
from gongzhi.service import selectors as service_selectors
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

DRILL_PAGE_SIZE = 50
RANK_KPIS = ("disposal", "ontime_disposal", "rework", "overdue_pending", "postponement")
MAP_KPIS = ("score", "disposal", "ontime_disposal", "closure", "rework", "overdue_pending", "satisfaction", "intake")
SCREEN_HEADLINE = ("intake", "disposal", "ontime_disposal", "closure", "satisfaction", "rework")
# The counts of docs/kpis.md in words (a formula reads "numerator / denominator").
COUNT_LABELS: dict[str, Any] = {
    "intake": gettext_lazy("cases reported"),
    "valid": gettext_lazy("valid cases (not rejected, cancelled or merged)"),
    "disposed": gettext_lazy("cases disposed"),
    "disposal_due": gettext_lazy("cases due for disposal (disposed, or past the disposal deadline)"),
    "disposed_on_time": gettext_lazy("cases disposed without missing a disposal deadline"),
    "closed": gettext_lazy("cases closed"),
    "closure_due": gettext_lazy("cases due for closure (closed, or open and past a deadline)"),
    "closed_on_time": gettext_lazy("cases closed normally, never overdue"),
    "reworked": gettext_lazy("cases sent back for rework"),
    "overdue_pending": gettext_lazy("open cases overdue now"),
    "postponed": gettext_lazy("cases postponed at least once"),
    "escalated": gettext_lazy("cases escalated at least once"),
    "rated": gettext_lazy("cases rated (call-back or the reporter's rating)"),
    "satisfied_any": gettext_lazy("satisfied and basically satisfied ratings"),
    "resolved": gettext_lazy("rated cases the reporter says are solved"),
    "responded": gettext_lazy("rated cases where someone got in touch"),
    "solved_t1": gettext_lazy("cases closed at the building"),
    "solved_t2": gettext_lazy("cases closed at the grid"),
    "solved_t3": gettext_lazy("cases closed at the community"),
    "solved_t4": gettext_lazy("cases closed at the subdistrict"),
    "solved_t5": gettext_lazy("cases closed by a department"),
}
PART_LABELS = {
    "num": gettext_lazy("Numerator"),
    "den": gettext_lazy("Denominator"),
    "gap": gettext_lazy("Gap"),
}


# --- formatting ---------------------------------------------------------------------------------------------------


def fmt_value(kpi: str, value: float | None) -> str:
    """A KPI value as shown: a rate in per cent with one decimal, a count as a whole number, "—" when none."""
    if value is None:
        return "—"
    if kpi == "score":
        return f"{value:.1f}"
    if measures.KPIS[kpi].is_rate:
        return f"{100 * value:.1f}%"
    return f"{value:.0f}"


def fmt_hours(hours: float | None) -> str:
    """Hours as shown: days with one decimal from a day up, hours below."""
    if hours is None:
        return "—"
    if hours >= 24:
        return _("%(n)s d") % {"n": f"{hours / 24:.1f}"}
    return _("%(n)s h") % {"n": f"{hours:.1f}"}


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def drill_url(query: KpiQuery, kpi: str, part: str | None = None, **extra: Any) -> str:
    """The drill-down of one KPI value: by default the cases pulling it down."""
    part = part or measures.bad_part(measures.KPIS[kpi])
    params = {**selectors.query_params(query), "kpi": kpi, "part": part, **extra}
    return f"{reverse('kpis-drill')}?{urlencode(params)}"


def _card(figures: Figures, kpi: str, query: KpiQuery | None) -> dict[str, Any]:
    k = measures.KPIS[kpi]
    num, den = figures.fraction(kpi)
    return {
        "key": kpi,
        "label": k.label,
        "value": figures.value(kpi),
        "display": fmt_value(kpi, figures.value(kpi)),
        "num": _num(num),
        "den": _num(den),
        "is_rate": k.is_rate,
        "higher_is_better": k.higher_is_better,
        "url": drill_url(query, kpi) if query is not None else "",
    }


def _kpi_meta() -> dict[str, Any]:
    meta: dict[str, Any] = {
        key: {
            "label": str(k.label),
            "part": measures.bad_part(k),
            "rate": k.is_rate,
            "higher": k.higher_is_better,
        }
        for key, k in measures.KPIS.items()
    }
    meta["score"] = {"label": _("Composite score"), "part": "", "rate": False, "higher": True}
    return meta


# --- the query and its surroundings -------------------------------------------------------------------------------


def _query(request: AuthedRequest) -> KpiQuery:
    return selectors.query_from_params(user=request.user, params=request.GET)


def _params(query: KpiQuery, **changes: Any) -> str:
    params = selectors.query_params(query)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return urlencode(params)


def _place_options(user: User, query: KpiQuery) -> list[dict[str, Any]]:
    """The user's own place, its communities and villages, and the grids of the chosen community."""
    root = selectors.default_place(user=user)
    options: list[Any] = []
    if root is not None:
        options.append(root)
        if root.kind == NodeKind.SUBDISTRICT:
            options += list(
                territory.node_list(user=user, parent_id=root.pk).filter(
                    kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE]
                )
            )
    place = query.place
    community = place if place.kind in (NodeKind.COMMUNITY, NodeKind.VILLAGE) else None
    if community is None and place.kind == NodeKind.GRID and place.parent is not None:
        community = place.parent
    if community is not None and community.kind in (NodeKind.COMMUNITY, NodeKind.VILLAGE):
        grids = list(territory.node_list(user=user, parent_id=community.pk, kind=NodeKind.GRID))
        at = next((i for i, n in enumerate(options) if n.pk == community.pk), None)
        if at is None:
            options += [community, *grids] if community.pk != getattr(root, "pk", None) else grids
        else:
            options[at + 1 : at + 1] = grids
    if all(n.pk != place.pk for n in options):
        options.append(place)
    return [
        {"node": n, "indent": n.kind == NodeKind.GRID and getattr(root, "kind", "") != NodeKind.GRID} for n in options
    ]


def _quick_periods(query: KpiQuery, today: date) -> list[dict[str, str]]:
    last_month_end = today.replace(day=1) - timedelta(days=1)
    first, last = periods.month_period(last_month_end)
    return [
        {"id": "period-12m", "label": _("Last 12 months"), "qs": _params(query, start=None, end=None)},
        {
            "id": "period-year",
            "label": _("This year"),
            "qs": _params(query, start=today.replace(month=1, day=1).isoformat(), end=today.isoformat()),
        },
        {"id": "period-last-month", "label": _("Last month"), "qs": _params(query, start=first, end=last)},
    ]


def _ranked(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.figures.score is None, -(r.figures.score or 0), r.label))


def _rank_rows(rows: list[Row]) -> list[dict[str, Any]]:
    out = []
    for position, row in enumerate(_ranked(rows), start=1):
        out.append(
            {
                "position": position,
                "row": row,
                "score": fmt_value("score", row.figures.score),
                "cells": [_card(row.figures, kpi, row.query) for kpi in RANK_KPIS],
                "intake": _card(row.figures, "intake", row.query),
            }
        )
    return out


def _place_rows(user: User, query: KpiQuery, level: str) -> list[Row]:
    """A place breakdown keeping only places of that level (cases held on the level above have a shorter code)."""
    length = selectors.PLACE_CODE_LENGTH[level]
    return [r for r in selectors.breakdown(user=user, query=query, by=level) if len(r.code) == length]


def _series(rows: list[Row], kpi: str) -> list[dict[str, Any]]:
    """Chart points: name, value (a rate in per cent), the drill-down link."""
    out = []
    for row in rows:
        value = row.figures.value(kpi)
        if measures.KPIS[kpi].is_rate and value is not None:
            value = round(100 * value, 1)
        out.append(
            {
                "name": row.label,
                "value": value,
                "url": drill_url(row.query, kpi, part="num" if kpi == "intake" else None) if row.query else "",
            }
        )
    return out


def _figures_data(user: User, query: KpiQuery, totals: Figures) -> dict[str, Any]:
    """What the charts draw (dashboard and big screen alike)."""
    months = selectors.breakdown(user=user, query=query, by="month")

    def pct(v: float | None) -> float | None:
        return None if v is None else round(100 * v, 1)

    return {
        "trend": {
            "labels": [r.label for r in months],
            "intake": [r.figures.value("intake") for r in months],
            "ontime_disposal": [pct(r.figures.value("ontime_disposal")) for r in months],
            "satisfaction": [pct(r.figures.value("satisfaction")) for r in months],
            "urls": [drill_url(r.query, "intake", "num") if r.query else "" for r in months],
        },
        "category": [
            p for p in _series(selectors.breakdown(user=user, query=query, by="major"), "intake") if p["value"]
        ],
        "channel": [
            p for p in _series(selectors.breakdown(user=user, query=query, by="channel"), "intake") if p["value"]
        ],
        "tier": [
            {
                "name": str(measures.KPIS[k].label),
                "value": totals.counts[measures.KPIS[k].numerator],
                "share": pct(totals.value(k)),
                "url": drill_url(query, k, "num"),
            }
            for k in measures.TIER_KPIS
        ],
    }


def _strings() -> dict[str, str]:
    return {
        "intake": _("Intake"),
        "ontime_disposal": str(measures.KPIS["ontime_disposal"].label),
        "satisfaction": str(measures.KPIS["satisfaction"].label),
        "cases": _("cases"),
        "no_data": _("No data"),
        "open_cases": _("Open the cases"),
        "map_none": _("No grid under this place has a boundary yet."),
        "map_failed": _("The map could not be loaded."),
        "score": _("Composite score"),
    }


def _figures_as_of() -> Any:
    state = selectors.rollup_state()
    return timezone.localtime(state.refreshed_at) if state is not None and state.refreshed_at else None


def _report_month_params(query: KpiQuery) -> str:
    previous = query.end.replace(day=1) - timedelta(days=1)
    return urlencode({"place": query.place.pk, "month": previous.strftime("%Y-%m")})


# --- pages --------------------------------------------------------------------------------------------------------


@login_required
@pages.page("kpis-dashboard")
def dashboard(request: AuthedRequest) -> HttpResponse:
    """One screen of a place's figures for a period: cards, charts, rankings, the map, visits and the registry."""
    user = request.user
    query = _query(request)
    if request.GET.get("fragment") == "bodies":
        # The ranking of handling bodies reads the cases themselves (slow on a year): loaded when scrolled to.
        bodies = [r for r in selectors.breakdown(user=user, query=query, by="body") if r.key is not None]
        return render(
            request,
            "kpis/_bodies.html",
            {"query": query, "body_rows": _rank_rows(bodies), "rank_kpis": [measures.KPIS[k] for k in RANK_KPIS]},
        )
    totals = selectors.total(user=user, query=query)
    place = query.place
    level = selectors.child_level(place)
    rank_level = level if level in selectors.PLACE_DIMS else "grid"
    rank_rows = _place_rows(user, query, rank_level)
    grid_rows = _place_rows(user, query, "grid") if rank_level == "community" else []
    data = _figures_data(user, query, totals)
    data["kpis"] = _kpi_meta()
    data["strings"] = _strings()
    coverage = selectors.visit_coverage(user=user, place=place)
    completeness = selectors.registry_completeness(user=user, place=place)
    service_rate = service_selectors.claim_rate(user=user, place_code=place.code)
    context = {
        "query": query,
        "place": place,
        "qs": _params(query),
        "places": _place_options(user, query),
        "categories": [c for c in cases_selectors.active_categories() if c.parent_id is None],
        "channels": Channel.choices,
        "quick_periods": _quick_periods(query, timezone.localdate()),
        "cards": [_card(totals, kpi, query) for kpi in measures.HEADLINE],
        "score": fmt_value("score", totals.score),
        "cycle_mean": fmt_hours(totals.hours("cycle")),
        "cycle_median": fmt_hours(totals.median_cycle_hours),
        "closed_url": drill_url(query, "closure", "num"),
        "rank_level": rank_level,
        "rank_rows": _rank_rows(rank_rows),
        "grid_rows": _rank_rows(grid_rows),
        "rank_kpis": [measures.KPIS[k] for k in RANK_KPIS],
        "map_kpis": [(k, _kpi_meta()[k]["label"]) for k in MAP_KPIS],
        "coverage": coverage,
        "coverage_rate": fmt_value("disposal", coverage.rate) if coverage is not None else "—",
        "completeness": completeness,
        "service_rate": service_rate,
        "service_hours": service_selectors.confirmed_hours(user=user, place_code=place.code),
        "volunteers": service_selectors.volunteer_figures(
            user=user, year=timezone.localdate().year, place_code=place.code
        ),
        "meetings": meetings_selectors.figures(user=user, place_code=place.code, start=query.start, end=query.end),
        "meetings_qs": urlencode({"place": place.code, "start": query.start.isoformat(), "end": query.end.isoformat()}),
        "people_rate": fmt_value("disposal", completeness.people_rate),
        "household_rate": fmt_value("disposal", completeness.household_rate),
        "as_of": _figures_as_of(),
        "report_month_qs": _report_month_params(query),
        "data": data,
    }
    return render(request, "kpis/dashboard.html", context)


def _map_features(user: User, query: KpiQuery) -> dict[str, Any]:
    collection = territory.boundaries_geojson(user=user, kind=NodeKind.GRID, within_id=query.place.pk)
    by_code = {r.code: r for r in selectors.breakdown(user=user, query=query, by="grid")}
    base = selectors.query_params(query)
    empty = Figures({})
    for feature in collection["features"]:
        props = feature["properties"]
        row = by_code.get(props["code"])
        figures = row.figures if row is not None else empty
        props["figures"] = {k: figures.value(k) for k in MAP_KPIS if k != "score"} | {"score": figures.score}
        props["shown"] = {k: fmt_value(k, v) for k, v in props["figures"].items()}
        props["query"] = urlencode({**base, "place": str(props["id"])})
    return collection


@login_required
def map_data(request: AuthedRequest) -> JsonResponse:
    """The grids under the place as GeoJSON, each with its figures for the query (for the map's colours)."""
    query = _query(request)
    return JsonResponse(_map_features(request.user, query))


@login_required
def drill(request: AuthedRequest) -> HttpResponse:
    """The cases behind a figure: its numerator, denominator or gap, 50 a page; the count equals the figure."""
    user = request.user
    query = _query(request)
    kpi_key = request.GET.get("kpi") or ""
    if kpi_key not in measures.KPIS:
        raise ValidationFailed(
            _("Unknown figure."),
            [ErrorDetail(field="kpi", message=fmt(_("one of %(values)s"), values=", ".join(measures.KPIS)))],
        )
    kpi = measures.KPIS[kpi_key]
    part = request.GET.get("part") or measures.bad_part(kpi)
    cases = selectors.drill(user=user, query=query, kpi=kpi_key, part=part)
    figures = selectors.total(user=user, query=query, with_median=False, source="cases")
    num, den = figures.fraction(kpi_key)
    parts = ["num", "den", "gap"] if kpi.denominator else ["num"]
    counts = {"num": num, "den": den if den is not None else num}
    if kpi.denominator:
        counts["gap"] = (den or 0) - (figures.counts[kpi.numerator])
    tabs = [
        {
            "part": p,
            "label": PART_LABELS[p],
            "count": _num(counts[p]),
            "url": drill_url(query, kpi_key, p),
            "current": p == part,
        }
        for p in parts
    ]
    page = Paginator(cases, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "query": query,
        "kpi": kpi,
        "part": part,
        "part_label": PART_LABELS.get(part, part),
        "numerator_label": COUNT_LABELS.get(kpi.numerator, kpi.numerator),
        "denominator_label": COUNT_LABELS.get(kpi.denominator or "", ""),
        "value": fmt_value(kpi_key, figures.value(kpi_key)),
        "num": _num(num),
        "den": _num(den),
        "tabs": tabs,
        "page": page,
        "dashboard_qs": _params(query, body=None, worker=None),
        "worker_name": _worker_name(user, query.worker_id),
        "body_name": _body_name(user, query.body_id),
        "category_name": _category_name(query.category_id),
        "channel_label": Channel(query.channel).label if query.channel else "",
    }
    return render(request, "kpis/drill.html", context)


def _worker_name(user: User, worker_id: int | None) -> str:
    if not worker_id:
        return ""
    if worker_id == user.pk:
        return str(user.get_full_name() or user.get_username())
    try:
        worker = accounts.user_get(user=user, user_id=worker_id)
    except (NotFound, Forbidden):
        return f"#{worker_id}"
    return str(worker.get_full_name() or worker.get_username())


def _body_name(user: User, body_id: int | None) -> str:
    if not body_id:
        return ""
    try:
        return territory.body_get(user=user, body_id=body_id).name
    except (NotFound, Forbidden):
        return f"#{body_id}"


def _category_name(category_id: int | None) -> str:
    if not category_id:
        return ""
    found = cases_selectors.active_categories().filter(pk=category_id).first()
    return str(found) if found is not None else f"#{category_id}"


def _screen_payload(user: User, query: KpiQuery) -> dict[str, Any]:
    totals = selectors.total(user=user, query=query, with_median=False)
    grids = _ranked(_place_rows(user, query, "grid"))
    scored = [r for r in grids if r.figures.score is not None]

    def rank(rows: list[Row]) -> list[dict[str, Any]]:
        return [{"name": r.label, "score": fmt_value("score", r.figures.score), "code": r.code} for r in rows]

    as_of = _figures_as_of()
    return {
        "headline": [
            {k: v for k, v in _card(totals, kpi, None).items() if k in ("key", "display", "num", "den")}
            | {"label": str(measures.KPIS[kpi].label)}
            for kpi in SCREEN_HEADLINE
        ],
        "score": fmt_value("score", totals.score),
        "cycle_mean": fmt_hours(totals.hours("cycle")),
        "top": rank(scored[:5]),
        "bottom": rank(list(reversed(scored[-5:]))),
        "as_of": as_of.strftime("%Y-%m-%d %H:%M") if as_of else "",
        **_figures_data(user, query, totals),
    }


@login_required
def screen(request: AuthedRequest) -> HttpResponse:
    """大屏: the figures full-screen on a dark background, refreshing itself every minute."""
    user = request.user
    query = _query(request)
    data = _screen_payload(user, query)
    data["kpis"] = _kpi_meta()
    data["strings"] = _strings()
    return render(
        request,
        "kpis/screen.html",
        {"query": query, "qs": _params(query), "data": data, "headline": data["headline"]},
    )


@login_required
def screen_data(request: AuthedRequest) -> JsonResponse:
    """The big screen's figures as JSON (what screen.js fetches every minute)."""
    query = _query(request)
    return JsonResponse(_screen_payload(request.user, query))


@login_required
@pages.page("kpis-me")
def me(request: AuthedRequest) -> HttpResponse:
    """My performance: the cases I disposed (rework, on-time disposal, satisfaction) and the cases I reported."""
    user: User = request.user
    start, end = selectors.parse_period(request.GET.get("start"), request.GET.get("end"))
    reported_by_month = selectors.worker_reported_by_month(user=user, worker_id=user.pk, start=start, end=end)
    place = selectors.default_place(user=user)
    # The cases I reported done, wherever they lie within what I see (``anywhere``): the cards, the months and the
    # lists behind the cards are the one query, so each figure opens to exactly its cases.
    query = KpiQuery(place=place, start=start, end=end, worker_id=user.pk, anywhere=True) if place is not None else None
    if query is not None:
        totals = selectors.total(user=user, query=query, with_median=False)
        month_figures = {r.label: r.figures for r in selectors.breakdown(user=user, query=query, by="month")}
    else:  # nothing of mine to see
        totals, month_figures = Figures(measures.normalise({})), {}
    keys = ("intake", "ontime_disposal", "rework", "satisfaction")
    labels = sorted({*month_figures, *reported_by_month})
    chart = {
        "labels": labels,
        "disposed": [month_figures[m].value("intake") if m in month_figures else 0 for m in labels],
        "reported": [reported_by_month.get(m, 0) for m in labels],
        "ontime_disposal": [
            round(100 * v, 1)
            if m in month_figures and (v := month_figures[m].value("ontime_disposal")) is not None
            else None
            for m in labels
        ],
        "strings": {
            "disposed": _("Cases I disposed"),
            "reported": _("Cases I reported"),
            "ontime_disposal": str(measures.KPIS["ontime_disposal"].label),
        },
    }
    rows = [
        {
            "label": month_label,
            "reported": reported_by_month.get(month_label, 0),
            "cells": [_card(month_figures[month_label], k, None) for k in keys] if month_label in month_figures else [],
        }
        for month_label in labels
    ]
    context = {
        "start": start,
        "end": end,
        "cards": [_card(totals, k, query) for k in keys],
        "reported_total": sum(reported_by_month.values()),
        "rows": rows,
        "keys": [measures.KPIS[k] for k in keys],
        "chart": chart,
        "has_place": query is not None,
    }
    return render(request, "kpis/me.html", context)
