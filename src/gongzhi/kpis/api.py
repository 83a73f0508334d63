"""The KPI API: what every figure means, the figures of a place and period (with a breakdown), the cases behind a
figure, and the monthly reports. Everything is limited to the caller's scope (a place out of it: 404)."""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.core.tabular import XLSX_CONTENT_TYPE
from gongzhi.kpis import disputes, measures, reports, selectors, services
from gongzhi.kpis.measures import Figures
from gongzhi.kpis.models import MonthlyReport
from gongzhi.kpis.schemas import (
    DisputeDrillParams,
    DisputeDrillRowOut,
    DisputeFiguresOut,
    DrillParams,
    FiguresParams,
    FiguresResponse,
    KpiCaseOut,
    KpiDefinitionOut,
    KpiParams,
    MonthlyReportIn,
    MonthlyReportOut,
)

router = Router(tags=["kpis"])

XLSX_RESPONSE = {
    "responses": {
        200: {
            "description": "An XLSX workbook (attachment).",
            "content": {XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _figures(figures: Figures) -> dict[str, Any]:
    return {"figures": figures.as_dict(), "counts": dict(figures.counts)}


def _params(filters: Any) -> dict[str, Any]:
    return {k: v for k, v in filters.dict().items() if v is not None}


@router.get("/definitions", response=list[KpiDefinitionOut], summary="Every KPI: its label and formula")
def definitions(request: ApiRequest) -> Any:
    return [
        {
            "key": k.key,
            "label": str(k.label),
            "numerator": k.numerator,
            "denominator": k.denominator,
            "higher_is_better": k.higher_is_better,
            "unit": k.unit,
        }
        for k in measures.KPIS.values()
    ]


@router.get("/figures", response=FiguresResponse, summary="The figures of a place and period, optionally broken down")
def figures(request: ApiRequest, filters: Query[FiguresParams]) -> Any:
    """The cohort of the cases reported in the period on the place (docs/kpis.md), as they stand now: ``total`` and,
    with ``by``, one row per day, week, month, year, community, grid, category, major class, channel, body or
    worker."""
    params = _params(filters)
    query = selectors.query_from_params(user=request.auth, params=params)
    by = params.get("by") or None
    source = "rollup" if selectors.uses_rollup(user=request.auth, query=query) else "cases"
    rows = selectors.breakdown(user=request.auth, query=query, by=by) if by else []
    return {
        "query": {
            "place": query.place,
            "start": query.start,
            "end": query.end,
            "category_id": query.category_id,
            "channel": query.channel,
            "body_id": query.body_id,
            "worker_id": query.worker_id,
            "anywhere": query.anywhere,
        },
        "by": by,
        "source": source,
        "total": _figures(selectors.total(user=request.auth, query=query)),
        "rows": [
            {
                "key": None if r.key is None else str(r.key),
                "label": r.label,
                "code": r.code or "",
                **_figures(r.figures),
            }
            for r in rows
        ],
    }


@router.get(
    "/cases", response=list[KpiCaseOut], summary="The cases behind a figure (its numerator, denominator or gap)"
)
@paginate(PageNumberPagination)
def cases(request: ApiRequest, filters: Query[DrillParams]) -> QuerySet[Any]:
    """``count`` equals the figure: ``part=num`` its numerator, ``den`` its denominator, ``gap`` the difference."""
    params = _params(filters)
    query = selectors.query_from_params(user=request.auth, params=params)
    return selectors.drill(user=request.auth, query=query, kpi=params["kpi"], part=params.get("part"))


def _shown(f: disputes.Shown) -> dict[str, Any]:
    return {"key": f.key, "label": str(f.label), "value": f.value, "display": f.display, "count": f.count,
            "denominator": f.denominator, "what": f.what, "extra": f.extra}  # fmt: skip


@router.get("/disputes", response=DisputeFiguresOut, summary="The dispute figures of a place and period")
def dispute_figures(request: ApiRequest, filters: Query[KpiParams]) -> Any:
    """Disputes received, mediation success, cycle time (median and P90), red risk open, repeats, police notices
    answered on time, year on year; by kind, place, month and tier. Each opens its list (``/kpis/disputes/list``)."""
    query = selectors.query_from_params(user=request.auth, params=_params(filters))
    groups = disputes.breakdowns(user=request.auth, query=query)
    return {
        "headline": [_shown(f) for f in disputes.headline(user=request.auth, query=query)],
        **{f"by_{name}": [_shown(f) for f in rows] for name, rows in groups.items()},
    }


@router.get("/disputes/list", response=list[DisputeDrillRowOut], summary="The disputes (or notices) behind a figure")
@paginate(PageNumberPagination)
def dispute_drill(request: ApiRequest, filters: Query[DisputeDrillParams]) -> list[dict[str, Any]]:
    """``count`` equals the figure's count (``part=den``: its base)."""
    params = _params(filters)
    query = selectors.query_from_params(user=request.auth, params=params)
    what, rows = disputes.drill(user=request.auth, query=query, key=params["figure"], part=params.get("part") or "num")
    if what == "notices":
        return [{"id": n.pk, "number": n.number, "title": n.title, "status": n.status, "place": n.node.name,
                 "at": n.due_at} for n in rows.select_related("node")]  # fmt: skip
    return [{"id": d.pk, "number": d.number, "title": d.summary, "status": d.status, "place": d.node.name,
             "at": d.received_at} for d in rows.select_related("node")]  # fmt: skip


@router.get("/reports", response=list[MonthlyReportOut], summary="Stored monthly reports in scope, newest first")
@paginate(PageNumberPagination)
def report_list(request: ApiRequest, place_id: Int64 | None = None) -> QuerySet[MonthlyReport]:
    node = selectors.place_get(user=request.auth, node_id=place_id) if place_id else None
    return selectors.report_list(user=request.auth, node=node)


@router.post("/reports", response={201: MonthlyReportOut}, summary="Generate a month's report of a place now")
def report_create(request: ApiRequest, payload: MonthlyReportIn) -> Status[MonthlyReport]:
    """Replaces a stored report of the same place and month. Needs the right to add reports at the place."""
    month = reports.parse_month(payload.month)
    node = selectors.place_get(user=request.auth, node_id=payload.place_id)
    row = services.generate_monthly_report(actor=request.auth, node=node, month=month)
    return Status(201, selectors.report_get(user=request.auth, report_id=row.pk))


@router.get("/reports/{report_id}/download", summary="A stored monthly report (XLSX)", openapi_extra=XLSX_RESPONSE)
def report_download(request: ApiRequest, report_id: Int64) -> FileResponse:
    return reports.stored_file_response(selectors.report_get(user=request.auth, report_id=report_id))
