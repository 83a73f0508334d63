"""Inspection schemas. People appear by name only."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.core.schemas import Date, InputSchema, Int64


class ItemOut(Schema):
    id: int
    position: int
    question: str
    basis: str
    photo_required: bool
    severity: str
    is_active: bool


class ChecklistOut(Schema):
    id: int
    area_id: int
    kind: str
    name: str
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.filter(is_active=True).order_by("position", "id"))


class PlanIn(InputSchema):
    area_id: Int64
    kind: str = Field(..., description="residential | shop | construction | venue")
    every_months: int = Field(1, description="1: monthly, 3: quarterly …")
    assign_to: str = Field("grid_worker", description="grid_worker | building_head")
    starts: Date | None = None
    name: str = ""


class PlanOut(Schema):
    id: int
    area_id: int
    name: str
    kind: str
    every_months: int
    assign_to: str
    starts: datetime.date
    is_active: bool


class AnswerIn(InputSchema):
    item: Int64
    result: str = Field(..., description="pass | fail | na")
    note: str = ""
    severity: str | None = Field(None, description="minor | major | serious (a failure; default: the item's)")


class SubmitIn(InputSchema):
    answers: list[AnswerIn]
    note: str = ""
    client_key: str = Field(
        "",
        max_length=64,
        description="The phone's idempotency key (or the Idempotency-Key header): a replay answers "
        "the round the first submission made",
    )


class AnswerOut(Schema):
    item: int
    result: str
    note: str
    severity: str | None = None


class RoundOut(Schema):
    id: int
    plan_id: int
    checklist_id: int
    building_id: int
    building_name: str
    period_start: datetime.date
    due: datetime.date
    assignee: str | None
    done_at: datetime.datetime | None
    done_by: str | None
    failed: int
    note: str
    answers: list[AnswerOut]

    @staticmethod
    def resolve_building_name(obj: Any) -> str:
        return str(obj.building.name)

    @staticmethod
    def resolve_assignee(obj: Any) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    @staticmethod
    def resolve_done_by(obj: Any) -> str | None:
        return str(obj.done_by) if obj.done_by_id else None


class HazardOut(Schema):
    id: int
    building_id: int
    building_name: str
    round_id: int | None
    item_id: int | None
    title: str
    basis: str
    note: str
    severity: str
    status: str
    found_at: datetime.datetime
    first_deadline: datetime.date
    deadline: datetime.date
    responsible: str
    escalations: int
    closed_at: datetime.datetime | None
    rectified_on_time: bool | None
    case_id: int | None
    case_number: str | None

    @staticmethod
    def resolve_building_name(obj: Any) -> str:
        return str(obj.building.name)

    @staticmethod
    def resolve_case_number(obj: Any) -> str | None:
        return obj.case.number if obj.case_id else None


class RecheckIn(InputSchema):
    rectified: bool
    note: str = ""


class ToCaseIn(InputSchema):
    category_id: Int64 | None = None


class FiguresOut(Schema):
    place_id: int
    month: str
    counts: dict[str, int]
    coverage: float | None = Field(..., description="rounds done / rounds due × 100; null when none due")
    mean_days_to_rectify: float | None


class HazardPinOut(Schema):
    id: int
    title: str
    severity: str
    severity_label: str
    building: str
    deadline: datetime.date
    overdue: bool
    lat: float
    lng: float


class HazardMapOut(Schema):
    items: list[HazardPinOut]
    total: int
    truncated: bool
