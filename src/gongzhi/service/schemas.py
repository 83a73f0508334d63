"""Service-post schemas. A claimant is shown by name only (no ID number or phone)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema, Int64


class Ref(Schema):
    id: int
    name: str


class PostOut(Schema):
    id: int
    title: str
    kind: Ref
    area: Ref
    schedule: str
    capacity: int
    taken: int = Field(..., description="Places claimed now (active claims).")
    eligibility: str
    is_open: bool
    description: str


class PostIn(InputSchema):
    kind_id: Int64
    title: str = Field(..., max_length=120)
    area_id: Int64
    schedule: str = Field(..., max_length=120)
    capacity: int = Field(1, ge=1, le=500)
    eligibility: str = "party"
    description: str = ""


class ServiceOut(Schema):
    id: int
    served_on: datetime.date
    hours: Decimal
    note: str
    confirmed: bool

    @staticmethod
    def resolve_confirmed(obj: Any) -> bool:
        return obj.confirmed_at is not None


class ClaimOut(Schema):
    id: int
    post_id: int
    person_name: str
    status: str
    claimed_at: datetime.datetime
    ended_at: datetime.datetime | None

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        return str(obj.person.name)


class ClaimIn(InputSchema):
    person_id: Int64 | None = Field(None, description="Staff claiming for a person of their ground; empty: oneself.")


class ServeIn(InputSchema):
    served_on: datetime.date
    hours: Decimal = Field(..., gt=0, le=24)
    note: str = ""


class RateOut(Schema):
    key: str
    label: str
    reported_in: int
    claiming: int
    rate: Decimal | None = Field(..., description="Percent, one decimal, half up.")
