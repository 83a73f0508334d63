"""Participation schemas. A resource's contact phone is always masked (``reveal`` is its own, audited, call)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import InputSchema, Int64


class Ref(Schema):
    id: int
    name: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str


class NeedOut(Schema):
    id: int
    title: str
    description: str
    category: CategoryOut
    place: Ref
    place_code: str
    beneficiaries: str
    beneficiary_count: int
    urgency: str
    slots: list[str]
    source: str
    source_case_id: int | None
    source_visit_id: int | None
    source_note: str
    status: str
    unit: Ref | None
    created_at: datetime
    closed_at: datetime | None


class NeedIn(InputSchema):
    title: str = Field(..., max_length=120)
    category_id: Int64
    place_id: Int64
    description: str = Field("", max_length=4000)
    beneficiaries: str = Field("", max_length=120)
    beneficiary_count: int = Field(1, ge=1, le=100_000)
    urgency: str = "normal"
    slots: list[str] = Field(default_factory=list, max_length=3)
    source: str = "grid_worker"
    source_note: str = Field("", max_length=200)
    source_visit_id: Int64 | None = None


class NeedFromCaseIn(InputSchema):
    case_id: Int64
    category_id: Int64
    beneficiaries: str = Field("", max_length=120)
    beneficiary_count: int = Field(1, ge=1, le=100_000)
    urgency: str = "normal"
    slots: list[str] = Field(default_factory=list, max_length=3)


class ResourceOut(Schema):
    id: int
    title: str
    description: str
    kind: str
    unit: Ref
    category: CategoryOut | None
    capacity: int
    capacity_left: int
    slots: list[str]
    place: Ref
    contact_name: str
    contact_phone: str = Field(..., description="Masked.")
    agreement_id: int | None
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_contact_phone(obj: Any) -> str:
        return mask_phone(obj.contact_phone)


class ResourceIn(InputSchema):
    unit_id: Int64
    title: str = Field(..., max_length=120)
    kind: str
    place_id: Int64
    description: str = Field("", max_length=4000)
    category_id: Int64 | None = None
    capacity: int = Field(1, ge=1, le=1_000_000)
    slots: list[str] = Field(default_factory=list, max_length=3)
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=20)


class ContactOut(Schema):
    contact_phone: str


class SuggestionOut(Schema):
    need_id: int
    resource_id: int
    score: float
    parts: dict[str, float]
    distance_m: int | None
    similar_done: int
    reasons: list[str] = Field(..., description="Why, in the request's language.")
    explanation: str
    resource: ResourceOut | None = None
    need: NeedOut | None = None


class ConfirmIn(InputSchema):
    resource_id: Int64


class ClaimIn(InputSchema):
    unit_id: Int64 | None = None
    resource_id: Int64 | None = None


class MilestoneOut(Schema):
    id: int
    title: str
    due: date | None
    done_at: datetime | None
    order: int


class ReportOut(Schema):
    id: int
    progress: int
    note: str
    hours: Decimal
    funds: Decimal
    people_served: int
    author: str
    photo: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return str(obj.author or "")

    @staticmethod
    def resolve_photo(obj: Any) -> str:
        return obj.photo.url if obj.photo else ""


class ProjectOut(Schema):
    id: int
    title: str
    need_id: int
    unit: Ref
    place: Ref
    place_code: str
    agreement_id: int | None
    state: str
    progress: int
    budget: Decimal
    funds: Decimal
    hours: Decimal
    people_served: int
    surveyed: int
    satisfied: int
    satisfaction: float | None
    started_at: datetime | None
    completed_at: datetime | None
    accepted_at: datetime | None
    created_at: datetime


class ProjectDetailOut(ProjectOut):
    milestones: list[MilestoneOut]
    reports: list[ReportOut]

    @staticmethod
    def resolve_milestones(obj: Any) -> Any:
        return obj.milestones_list

    @staticmethod
    def resolve_reports(obj: Any) -> Any:
        return obj.reports_list


class ProgressIn(InputSchema):
    progress: int = Field(..., ge=0, le=100)
    note: str = Field("", max_length=2000)
    hours: Decimal = Field(Decimal(0), ge=0, le=100_000, max_digits=9, decimal_places=1)
    funds: Decimal = Field(Decimal(0), ge=0, le=100_000_000, max_digits=12, decimal_places=2)
    people_served: int = Field(0, ge=0, le=100_000)
    milestones_done: list[Int64] = Field(default_factory=list, max_length=100)


class MilestoneIn(InputSchema):
    title: str = Field(..., max_length=120)
    due: date | None = None


class AcceptIn(InputSchema):
    surveyed: int = Field(..., ge=0, le=100_000)
    satisfied: int = Field(..., ge=0, le=100_000)


class ContributionOut(Schema):
    unit: Ref
    year: int
    projects: int
    by_state: dict[str, int]
    hours: Decimal
    funds: Decimal
    people_served: int


class FigureOut(Schema):
    key: str
    value: float
    drill: dict[str, str]


class UnitFigureOut(Schema):
    unit_id: int
    name: str
    projects: int
    hours: Decimal
    funds: Decimal
    people_served: int


class FiguresOut(Schema):
    place: Ref
    figures: list[FigureOut]
    units: list[UnitFigureOut]


class WishOut(Schema):
    """A micro-wish as its readers see it: the wall's words (never the wisher's name, phone, ID or household)."""

    id: int
    title: str
    description: str
    category_id: int | None
    public_name: str
    age_band: str
    place: Ref
    community_code: str
    state: str
    claimant_kind: str
    claimant_unit: Ref | None
    claimed_at: datetime | None
    fulfilled_at: datetime | None
    confirmed_at: datetime | None
    evidence_note: str
    created_at: datetime


class WishIn(InputSchema):
    person_id: Int64
    title: str
    description: str = ""
    category_id: Int64 | None = None
    consent_note: str
