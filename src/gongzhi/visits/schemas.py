"""Visit schemas. People appear by name only; their ID numbers and phones are the registry's (masked there)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from gongzhi.core.schemas import Date, DateTime, Float, InputSchema, Int64

if TYPE_CHECKING:
    from gongzhi.visits.models import CarePlan


class CampaignIn(InputSchema):
    name: str = Field(..., max_length=120)
    area_id: Int64
    starts: Date
    ends: Date
    tags: list[str] = Field(default_factory=list, description="Key-service-target tags; empty: every household")
    description: str = ""


class CoverageOut(Schema):
    code: str
    name: str
    targets: int
    covered: int
    remaining: int
    percent: float | None = Field(..., description="covered / targets × 100, one decimal; null when no targets")


class CampaignOut(Schema):
    id: int
    name: str
    description: str
    area_id: int
    area_name: str
    tags: list[str]
    starts: datetime.date
    ends: datetime.date
    closed_at: datetime.datetime | None
    created_by: str

    @staticmethod
    def resolve_area_name(obj: Any) -> str:
        return str(obj.area.name)

    @staticmethod
    def resolve_created_by(obj: Any) -> str:
        return str(obj.created_by)


class CampaignDetailOut(CampaignOut):
    total: CoverageOut


class AssignIn(InputSchema):
    assignee_id: Int64
    within_id: Int64 = Field(..., description="A grid or building: its targets go to the assignee")


class AssignOut(Schema):
    assigned: int


class TargetOut(Schema):
    id: int
    household_id: int
    household_name: str
    building_name: str
    assignee: str | None
    covered_at: datetime.datetime | None

    @staticmethod
    def resolve_household_name(obj: Any) -> str:
        return str(obj.household.name)

    @staticmethod
    def resolve_building_name(obj: Any) -> str:
        return str(obj.household.parent.name) if obj.household.parent_id else ""

    @staticmethod
    def resolve_assignee(obj: Any) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None


class VisitIn(InputSchema):
    household_id: Int64
    outcome: str = Field(..., description="met | not_home | refused | moved_away")
    visited_at: DateTime | None = None
    notes: str = ""
    needs: str = ""
    campaign_id: Int64 | None = None
    care_plan_id: Int64 | None = None
    person_id: Int64 | None = None
    raise_case: bool = Field(False, description="Turn the needs found into a case (channel 'visit') in one step")
    category_id: Int64 | None = None
    case_title: str = ""
    urgency: str | None = None
    lat: Float | None = None
    lng: Float | None = None
    gps_accuracy: Float | None = Field(None, description="How sure the GPS position is, in metres (the phone's).")


class VisitOut(Schema):
    id: int
    household_id: int
    household_name: str
    person_id: int | None
    person_name: str | None
    visitor: str
    visited_at: datetime.datetime
    outcome: str
    outcome_label: str
    notes: str
    needs: str
    campaign_id: int | None
    care_plan_id: int | None
    case_id: int | None
    case_number: str | None

    @staticmethod
    def resolve_household_name(obj: Any) -> str:
        return str(obj.household.name)

    @staticmethod
    def resolve_person_name(obj: Any) -> str | None:
        return obj.person.name if obj.person_id else None

    @staticmethod
    def resolve_visitor(obj: Any) -> str:
        return str(obj.visitor)

    @staticmethod
    def resolve_outcome_label(obj: Any) -> str:
        return str(obj.get_outcome_display())

    @staticmethod
    def resolve_case_number(obj: Any) -> str | None:
        return str(obj.case.number) if obj.case_id and obj.case else None


class CarePlanIn(InputSchema):
    person_id: Int64
    every_days: Int64 = Field(7, ge=1, le=366)
    starts: Date | None = None
    assignee_id: Int64 | None = None
    reason: str = Field("", max_length=60)


class CarePlanOut(Schema):
    id: int
    person_id: int
    person_name: str
    household_id: int | None
    household_name: str | None
    reason: str
    every_days: int
    assignee: str | None
    starts: datetime.date
    next_due: datetime.date
    last_visited: datetime.date | None
    is_active: bool
    days_overdue: int

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        return str(obj.person.name)

    @staticmethod
    def resolve_household_id(obj: CarePlan) -> int | None:
        return obj.person.household_id

    @staticmethod
    def resolve_household_name(obj: Any) -> str | None:
        return obj.person.household.name if obj.person.household_id else None

    @staticmethod
    def resolve_assignee(obj: Any) -> str | None:
        return str(obj.assignee) if obj.assignee_id else None

    @staticmethod
    def resolve_days_overdue(obj: Any) -> int:
        from gongzhi.visits.selectors import days_overdue

        return days_overdue(obj) if obj.is_active else 0
