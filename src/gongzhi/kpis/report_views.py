"""Pages of the monthly reports: the stored reports (with a form to generate one now), the printable report of a
month (tables and charts), its XLSX generated on the fly, and a stored report's file."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gongzhi.core.errors import DomainError, ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.http import AuthedRequest
from gongzhi.core.messages import fmt
from gongzhi.core.tabular import XLSX_CONTENT_TYPE
from gongzhi.kpis import measures, periods, selectors, services
from gongzhi.kpis import reports as monthly
from gongzhi.kpis.views import fmt_value
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

    from gongzhi.territory.models import Node

# The counts shown in every breakdown table (monthly.BREAKDOWN_COUNTS).
COUNT_LABELS = {
    "intake": gettext_lazy("Intake"),
    "valid": gettext_lazy("Valid"),
    "disposed": gettext_lazy("Disposed"),
    "closed": gettext_lazy("Closed"),
    "overdue_pending": gettext_lazy("Overdue pending"),
}
REPORT_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE)


def _place(request: AuthedRequest, raw: str | None) -> Node:
    if raw in (None, ""):
        place = selectors.default_place(user=request.user)
        if place is None:
            raise NotFound(_("You have no place whose figures you may see."))
        return place
    try:
        node_id = int(str(raw))
    except ValueError:
        raise ValidationFailed(
            _("Bad place."), [ErrorDetail(field="place", message=fmt(_("%(raw)s: expected a place id"), raw=repr(raw)))]
        ) from None
    return selectors.place_get(user=request.user, node_id=node_id)


def _month(raw: str | None) -> date:
    return periods.last_month() if raw in (None, "") else monthly.parse_month(raw)


def _report_places(user: User) -> list[Node]:
    """Where the user may generate reports (the form's choices)."""
    return territory.places_for(user=user, label="kpis.monthlyreport", action="add", kinds=REPORT_KINDS)


@login_required
@require_http_methods(["GET", "POST"])
def reports(request: AuthedRequest) -> HttpResponse:
    places = _report_places(request.user)
    if request.method == "POST":
        try:
            place = _place(request, request.POST.get("place"))
            month = monthly.parse_month(request.POST.get("month"))
            row = services.generate_monthly_report(actor=request.user, node=place, month=month)
        except NotFound:
            raise
        except DomainError as exc:
            details = "; ".join(str(d.message) for d in exc.details)
            messages.error(request, f"{exc.message} {details}".strip())
        else:
            messages.success(
                request,
                _("The report of %(place)s for %(month)s is ready.")
                % {"place": row.node.name, "month": f"{month:%Y-%m}"},
            )
        return redirect("kpis-reports")
    page = Paginator(selectors.report_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "kpis/reports.html",
        {"page": page, "places": places, "default_month": f"{periods.last_month():%Y-%m}"},
    )


def _fmt(kpi: measures.Kpi, value: float | None) -> str:
    return fmt_value(kpi.key, value)


def _table(title: Any, first: Any, table_id: str, rows: list[Any]) -> dict[str, Any]:
    drill = reverse("kpis-drill")
    out = []
    for r in rows:
        link = (
            f"{drill}?{urlencode({**selectors.query_params(r.query), 'kpi': 'intake', 'part': 'num'})}"
            if r.query
            else ""
        )
        out.append(
            {
                "label": r.label,
                "link": link,
                "counts": [f"{r.figures.counts[c]:g}" for c in monthly.BREAKDOWN_COUNTS],
                "rates": [_fmt(measures.KPIS[k], r.figures[k]) for k in monthly.BREAKDOWN_RATES],
                "score": "—" if r.figures.score is None else f"{r.figures.score:.1f}",
            }
        )
    return {"title": title, "first": first, "id": table_id, "rows": out}


def _summary(report: monthly.MonthReport) -> list[dict[str, Any]]:
    drill = reverse("kpis-drill")
    base = selectors.query_params(report.query)
    rows = []
    for key, kpi in measures.KPIS.items():
        num, den = report.total.fraction(key)
        value, before = report.total[key], report.previous[key]
        link = f"{drill}?{urlencode({**base, 'kpi': key, 'part': measures.bad_part(kpi)})}"
        rows.append(
            {
                "key": key,
                "kpi": kpi,
                "value": _fmt(kpi, value),
                "previous": _fmt(kpi, before),
                "num": num,
                "den": den,
                "formula": monthly.formula_zh(kpi),
                "link": link,
            }
        )
    return rows


def _tables(report: monthly.MonthReport) -> list[dict[str, Any]]:
    tables = []
    if report.place_dimension:
        label = selectors.DIMENSION_LABELS[report.place_dimension]
        tables.append(_table(_("By %(level)s") % {"level": label}, label, "by-place", report.places))
    tables.append(_table(_("By major class"), selectors.DIMENSION_LABELS["major"], "by-major", report.majors))
    tables.append(_table(_("By channel"), selectors.DIMENSION_LABELS["channel"], "by-channel", report.channels))
    tables.append(_table(_("By handling body"), selectors.DIMENSION_LABELS["body"], "by-body", report.bodies))
    tables.append(_table(_("By day"), selectors.DIMENSION_LABELS["day"], "by-day", report.days))
    return tables


@login_required
def month(request: AuthedRequest) -> HttpResponse:
    place = _place(request, request.GET.get("place"))
    first = _month(request.GET.get("month"))
    report = monthly.month_report(user=request.user, place=place, month=first)
    params = urlencode({"place": place.pk, "month": f"{first:%Y-%m}"})
    previous = periods.previous_month(first)
    choices = _report_places(request.user)
    context = {
        "report": report,
        "summary": _summary(report),
        "count_labels": [COUNT_LABELS[c] for c in monthly.BREAKDOWN_COUNTS],
        "rate_labels": [measures.KPIS[k].label for k in monthly.BREAKDOWN_RATES],
        "tables": _tables(report),
        "tiers": [
            {
                "label": measures.KPIS[t.key].label,
                "solved": f"{t.solved:g}",
                "closed": f"{t.closed:g}",
                "share": _fmt(measures.KPIS[t.key], t.share),
            }
            for t in report.tiers
        ],
        "chart_data": report.chart_data(),
        "xlsx_url": f"{reverse('kpis-report-month-xlsx')}?{params}",
        "prev_url": f"{reverse('kpis-report-month')}?{urlencode({'place': place.pk, 'month': f'{previous:%Y-%m}'})}",
        "places": [p for p in choices if p.pk != place.pk],
    }
    return render(request, "kpis/report_month.html", context)


@login_required
def month_xlsx(request: AuthedRequest) -> HttpResponse:
    place = _place(request, request.GET.get("place"))
    first = _month(request.GET.get("month"))
    report = monthly.month_report(user=request.user, place=place, month=first)
    response = HttpResponse(monthly.month_report_xlsx(report), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, report.file_name)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def download(request: AuthedRequest, report_id: int) -> FileResponse:
    return monthly.stored_file_response(selectors.report_get(user=request.user, report_id=report_id))
