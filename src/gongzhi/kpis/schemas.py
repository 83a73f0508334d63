"""KPI schemas: definitions, figures (a total and an optional breakdown), the cases behind a figure, monthly reports.

Figures are plain dictionaries keyed like ``measures.KPIS`` (rates as fractions 0–1, ``null`` when nothing was due)
and ``measures.measure_names()`` (the counts); docs/kpis.md says what each one counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema, Int64


class KpiDefinitionOut(Schema):
    key: str
    label: str
    numerator: str = Field(..., description="The count on top (a key of the counts).")
    denominator: str | None = Field(None, description="The count below; null for a plain count.")
    higher_is_better: bool
    unit: str = Field(..., description="rate (a fraction 0–1), count or hours.")


class KpiParams(InputSchema):
    """Which cases a figure is about (as on the dashboard)."""

    place: Int64 | None = Field(None, description="Territory node id (default: the caller's topmost place).")
    start: str | None = Field(None, description="First day of intake, YYYY-MM-DD (default: twelve months ago).")
    end: str | None = Field(None, description="Last day of intake, YYYY-MM-DD (default: today).")
    category: Int64 | None = Field(None, description="A minor category, or a major class with all its minor ones.")
    channel: str | None = None
    body: Int64 | None = Field(None, description="Handling body (department).")
    worker: Int64 | None = Field(None, description="The user who reported the cases done.")
    anywhere: bool | None = Field(
        None, description="Every case the caller sees, not only under the place (a worker's own figures)."
    )


class FiguresParams(KpiParams):
    by: str | None = Field(
        None, description="Breakdown: day, week, month, year, community, grid, category, major, channel, body, worker."
    )


class DrillParams(KpiParams):
    kpi: str = Field(..., description="A KPI key (GET /kpis/definitions).")
    part: str | None = Field(None, description="num, den or gap (default: the cases pulling the figure down).")


class PlaceOut(Schema):
    id: int
    name: str
    code: str


class QueryOut(Schema):
    place: PlaceOut
    start: date
    end: date
    category_id: int | None
    channel: str | None
    body_id: int | None
    worker_id: int | None
    anywhere: bool


class FiguresOut(Schema):
    figures: dict[str, float | None] = Field(
        ..., description="Every KPI value, the composite score and the durations in hours (null: no value)."
    )
    counts: dict[str, float] = Field(..., description="Every count (and duration sums in seconds) behind them.")


class FigureRowOut(FiguresOut):
    key: str | None
    label: str
    code: str


class FiguresResponse(Schema):
    query: QueryOut
    by: str | None
    source: str = Field(..., description="rollup (the daily figures) or cases (read from the cases).")
    total: FiguresOut
    rows: list[FigureRowOut]


class KpiCaseOut(Schema):
    id: int
    number: str
    title: str
    status: str
    status_label: str
    category: str
    place: str
    reported_at: datetime
    is_overdue: bool

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_category(obj: Any) -> str:
        return str(obj.category.name)

    @staticmethod
    def resolve_place(obj: Any) -> str:
        return str(obj.node.name)


class MonthlyReportOut(Schema):
    id: int
    month: str = Field(..., description="YYYY-MM")
    place: PlaceOut
    intake: int
    created_at: datetime
    generated_by_task: bool
    download_url: str

    @staticmethod
    def resolve_month(obj: Any) -> str:
        return f"{obj.month:%Y-%m}"

    @staticmethod
    def resolve_place(obj: Any) -> Any:
        return obj.node

    @staticmethod
    def resolve_generated_by_task(obj: Any) -> bool:
        return obj.created_by_id is None

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/kpis/reports/{obj.pk}/download"


class MonthlyReportIn(InputSchema):
    place_id: Int64
    month: str = Field(..., description="YYYY-MM", examples=["2026-03"])


class DisputeFigureOut(Schema):
    key: str = Field(..., description="total, success_rate, cycle_days, red_open, repeat, notices_on_time, "
                     "year_on_year; kind:<id>, place:<code>, month:<YYYY-MM>, tier:<n>.")  # fmt: skip
    label: str
    value: float | None
    display: str
    count: int = Field(..., description="How many disputes (or notices) the list behind it holds.")
    denominator: int | None = None
    what: str = Field(..., description="disputes or notices: what its list holds.")
    extra: dict[str, Any] = {}


class DisputeFiguresOut(Schema):
    headline: list[DisputeFigureOut]
    by_kind: list[DisputeFigureOut]
    by_place: list[DisputeFigureOut]
    by_month: list[DisputeFigureOut]
    by_tier: list[DisputeFigureOut]


class DisputeDrillParams(KpiParams):
    figure: str = Field(..., description="A figure key (GET /kpis/disputes).")
    part: str | None = Field(None, description="num (what it counts, default) or den (its base, for a rate).")


class DisputeDrillRowOut(Schema):
    id: int
    number: str
    title: str
    status: str
    place: str
    at: datetime
