"""The monthly report of a place: the month's figures with their breakdowns, as a page, charts and an XLSX workbook.

:func:`month_report` gathers everything from the selectors (the same reads as the dashboard, so the report's
summary equals the dashboard's figures for the same place and month); :func:`month_report_xlsx` writes it as a
workbook with one sheet per breakdown and Chinese headers. Stored reports (``MonthlyReport``) are written by
``services.generate_monthly_report``; the background task has no signed-in user and reads as :data:`SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import NOTHING, Scope
from gongzhi.core.tabular import write_xlsx
from gongzhi.kpis import measures
from gongzhi.kpis.measures import Figures
from gongzhi.kpis.periods import month_period, previous_month

if TYPE_CHECKING:
    from django.http import FileResponse

    from gongzhi.accounts.models import User
    from gongzhi.kpis.models import MonthlyReport
    from gongzhi.kpis.selectors import KpiQuery
    from gongzhi.territory.models import Node

# --- the system principal -----------------------------------------------------------------------------------------


class SystemPrincipal:
    """The reader of the background tasks (monthly reports, the scheduler): sees everything, may change nothing.

    It quacks like a user for ``Model.objects.restrict``, ``core.access.reaches`` and the selectors; ``pk`` is None
    so an audit record written for it has no actor."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    username = "system"

    def scope_for(self, label: str, action: str) -> Scope:
        return Scope(everything=True) if action == "view" else NOTHING

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemPrincipal()

# Who reads the figures: a signed-in user, or SYSTEM for the background work.
Reader: TypeAlias = "User | SystemPrincipal"


# --- months -------------------------------------------------------------------------------------------------------


def parse_month(value: Any, *, field_name: str = "month") -> date:
    """``YYYY-MM`` (or a date) → the first day of that month; anything else is ``ValidationFailed`` naming the field."""
    if isinstance(value, date):
        return value.replace(day=1)
    raw = str(value or "").strip()
    try:
        year, month = raw.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(raw)
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed(
            _("Bad month."),
            [ErrorDetail(field=field_name, message=fmt(_("%(raw)s: expected a month as YYYY-MM"), raw=repr(raw)))],
        ) from None


def download_name(place: Node, month: date) -> str:
    """The file name a report is downloaded as, e.g. ``道义街道2026年03月工作月报.xlsx``."""
    return f"{place.name}{month.year}年{month.month:02d}月工作月报.xlsx"


def child_dimension(place: Node) -> str | None:
    """The breakdown one level down: communities of a subdistrict, grids of a community (None below)."""
    from gongzhi.kpis import selectors

    level = selectors.child_level(place)
    return level if level in selectors.PLACE_DIMS else None


# --- the report ---------------------------------------------------------------------------------------------------


@dataclass
class TierRow:
    key: str
    label: str
    solved: float
    closed: float
    share: float | None


@dataclass
class MonthReport:
    place: Node
    month: date  # the first day
    start: date
    end: date
    query: KpiQuery
    total: Figures
    previous: Figures
    place_dimension: str | None
    places: list[Any]  # selectors.Row per community or grid
    majors: list[Any]
    channels: list[Any]
    tiers: list[TierRow]
    bodies: list[Any]
    days: list[Any]
    generated_at: Any = field(default_factory=timezone.now)

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def file_name(self) -> str:
        return download_name(self.place, self.month)

    def chart_data(self) -> dict[str, Any]:
        """What the page's charts draw (passed to the browser with ``json_script``)."""

        def pct(value: float | None) -> float | None:
            return None if value is None else round(100 * value, 1)

        return {
            "days": {
                "labels": [r.label[5:] for r in self.days],
                "intake": [r.figures.counts["intake"] for r in self.days],
                "closed": [r.figures.counts["closed"] for r in self.days],
            },
            "places": {
                "labels": [r.label for r in self.places],
                "intake": [r.figures.counts["intake"] for r in self.places],
                "ontime_disposal": [pct(r.figures["ontime_disposal"]) for r in self.places],
            },
            "majors": [{"name": r.label, "value": r.figures.counts["intake"]} for r in self.majors],
            "channels": [{"name": r.label, "value": r.figures.counts["intake"]} for r in self.channels],
            "tiers": {"labels": [t.label for t in self.tiers], "solved": [t.solved for t in self.tiers]},
        }


def _all_days(rows: list[Any], start: date, end: date, query: Any) -> list[Any]:
    """A row for every day of the month (days without cases get zero counts)."""
    from gongzhi.kpis import selectors

    by_day = {r.key: r for r in rows}
    out = []
    day = start
    while day <= end:
        row = by_day.get(day)
        if row is None:
            row = selectors.Row(
                key=day, label=day.isoformat(), figures=Figures({}), query=query.with_(start=day, end=day)
            )
        out.append(row)
        day += timedelta(days=1)
    return out


def month_report(*, user: Reader, place: Node, month: date) -> MonthReport:
    """Everything the monthly report of ``place`` shows, read within ``user``'s scope."""
    from gongzhi.kpis import selectors

    first = month.replace(day=1)
    start, end = month_period(first)
    query = selectors.KpiQuery(place=place, start=start, end=end)
    prev_start, prev_end = month_period(previous_month(first))
    total = selectors.total(user=user, query=query)
    dimension = child_dimension(place)
    places = selectors.breakdown(user=user, query=query, by=dimension) if dimension else []
    tiers = []
    for key in measures.TIER_KPIS:
        solved, closed = total.fraction(key)
        tiers.append(
            TierRow(key=key, label=str(measures.KPIS[key].label), solved=solved, closed=closed or 0, share=total[key])
        )
    return MonthReport(
        place=place,
        month=first,
        start=start,
        end=end,
        query=query,
        total=total,
        previous=selectors.total(user=user, query=query.with_(start=prev_start, end=prev_end), with_median=False),
        place_dimension=dimension,
        places=places,  # cases on the place itself (not in any child) have a row of their own
        majors=selectors.breakdown(user=user, query=query, by="major"),
        channels=selectors.breakdown(user=user, query=query, by="channel"),
        tiers=tiers,
        bodies=selectors.breakdown(user=user, query=query, by="body"),
        days=_all_days(selectors.breakdown(user=user, query=query, by="day"), start, end, query),
    )


# --- the workbook -------------------------------------------------------------------------------------------------

# The report is a Chinese document: fixed Chinese names for the KPIs and the counts of their formulas.
KPI_NAMES_ZH = {
    "intake": "受理量",
    "disposal": "处置率",
    "ontime_disposal": "按期处置率",
    "closure": "结案率",
    "ontime_closure": "按期结案率",
    "rework": "返工率",
    "overdue_pending": "超期待处置率",
    "postponement": "延期率",
    "response": "响应率",
    "resolution": "解决率",
    "satisfaction": "满意率",
    "escalation": "升级率",
    "tier_building": "楼宇内解决占比",
    "tier_grid": "网格内解决占比",
    "tier_community": "社区内解决占比",
    "tier_above": "社区以上解决占比",
    "tier_department": "部门解决占比",
}
COUNT_NAMES_ZH = {
    "intake": "受理量",
    "valid": "有效件",
    "disposed": "已处置",
    "disposal_due": "应处置",
    "disposed_on_time": "按期处置",
    "closed": "已结案",
    "closure_due": "应结案",
    "closed_on_time": "按期结案",
    "reworked": "返工件",
    "overdue_pending": "超期待处置",
    "postponed": "延期件",
    "escalated": "升级件",
    "rated": "已回访",
    "satisfied_any": "满意及基本满意",
    "resolved": "已解决",
    "responded": "已响应",
    "solved_t1": "楼宇内解决",
    "solved_t2": "网格内解决",
    "solved_t3": "社区内解决",
    "solved_t4": "社区以上解决",
    "solved_t5": "部门解决",
}
DIMENSION_NAMES_ZH = {"community": "社区", "grid": "网格"}
# The columns of every breakdown sheet: counts, then the headline rates.
BREAKDOWN_COUNTS = ("intake", "valid", "disposed", "closed", "overdue_pending")
BREAKDOWN_RATES = tuple(k for k in measures.HEADLINE if k != "intake")


def formula_zh(kpi: measures.Kpi) -> str:
    if kpi.denominator is None:
        return f"{COUNT_NAMES_ZH[kpi.numerator]}（件数）"
    numerator = COUNT_NAMES_ZH[kpi.numerator]
    if kpi.key == "satisfaction":
        numerator = f"（满意 + {measures.basic_weight():g} × 基本满意）"
    return f"{numerator} ÷ {COUNT_NAMES_ZH[kpi.denominator]}"


def percent(value: float | None) -> float | str:
    """A rate as a percentage with one decimal ("—" when it has no value: nothing was due)."""
    return "—" if value is None else round(100 * value, 1)


def _display(kpi: measures.Kpi, value: float | None) -> float | str:
    if value is None:
        return "—"
    return percent(value) if kpi.is_rate else value


def _summary_rows(report: MonthReport) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for key, kpi in measures.KPIS.items():
        num, den = report.total.fraction(key)
        value, before = report.total[key], report.previous[key]
        change: float | str = "—"
        if value is not None and before is not None:
            change = round(100 * (value - before), 1) if kpi.is_rate else value - before
        rows.append(
            [
                KPI_NAMES_ZH.get(key, str(kpi.label)),
                _display(kpi, value),
                "%" if kpi.is_rate else "件",
                num,
                "" if den is None else den,
                formula_zh(kpi),
                _display(kpi, before),
                change,
            ]
        )
    for name, label in (("cycle_hours_mean", "平均办理时长"), ("cycle_hours_median", "办理时长中位数")):
        hours = report.total.as_dict()[name]
        rows.append([label, "—" if hours is None else round(hours, 1), "小时", "", "", "结案时间 − 受理时间", "", ""])
    return rows


def _breakdown_sheet(title: str, first: str, rows: list[Any]) -> tuple[str, list[str], list[list[Any]]]:
    headers = [
        first,
        *(COUNT_NAMES_ZH[c] for c in BREAKDOWN_COUNTS),
        *(f"{KPI_NAMES_ZH[k]}(%)" for k in BREAKDOWN_RATES),
        "综合得分",
    ]
    body = [
        [
            r.label,
            *(r.figures.counts[c] for c in BREAKDOWN_COUNTS),
            *(percent(r.figures[k]) for k in BREAKDOWN_RATES),
            "—" if r.figures.score is None else r.figures.score,
        ]
        for r in rows
    ]
    return title, headers, body


def month_report_xlsx(report: MonthReport) -> bytes:
    """The report as an XLSX workbook: 概要 (every KPI: value, numerator, denominator, formula, last month) and one
    sheet per breakdown (place, major class, channel, tier, handling body, day)."""
    with translation.override("zh-hans"):
        summary_headers = ["指标", "本月数值", "单位", "分子", "分母", "计算公式", "上月数值", "环比变化"]
        info = [
            ["地点", report.place.name, "", "", "", f"区划代码 {report.place.code}", "", ""],
            ["月份", report.month_label, "", "", "", f"{report.start.isoformat()} 至 {report.end.isoformat()}", "", ""],
        ]
        sheets: list[Any] = [("概要", summary_headers, [*info, *_summary_rows(report)])]
        if report.place_dimension:
            name = DIMENSION_NAMES_ZH[report.place_dimension]
            sheets.append(_breakdown_sheet(f"按{name}", name, report.places))
        sheets.append(_breakdown_sheet("按类别", "大类", report.majors))
        sheets.append(_breakdown_sheet("按渠道", "渠道", report.channels))
        sheets.append(
            (
                "按层级",
                ["层级", "解决件数", "已结案", "占结案比例(%)"],
                [[KPI_NAMES_ZH[t.key], t.solved, t.closed, percent(t.share)] for t in report.tiers],
            )
        )
        sheets.append(_breakdown_sheet("按部门", "处置单位", report.bodies))
        sheets.append(_breakdown_sheet("按日", "日期", report.days))
        return write_xlsx(sheets)


def report_places() -> list[Any]:
    """The places that get a monthly report: every subdistrict, community and village (read as :data:`SYSTEM`)."""
    from gongzhi.territory.choices import NodeKind
    from gongzhi.territory.models import Node

    kinds = [NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE]
    return list(
        Node.objects.restrict(SYSTEM, "view").filter(kind__in=kinds).select_related("lead_body").order_by("code")
    )


def stored_file_response(row: MonthlyReport) -> FileResponse:
    """The download of a stored monthly report (pages and API alike); 404 when its file is gone."""
    from django.http import FileResponse, Http404

    from gongzhi.core.tabular import XLSX_CONTENT_TYPE

    try:
        handle = row.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The file is gone.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=download_name(row.node, row.month), content_type=XLSX_CONTENT_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response
