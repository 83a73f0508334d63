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


# --- volunteers ------------------------------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    area: Ref
    description: str
    members: int = Field(..., description="Active volunteers in the team.")


class TeamIn(InputSchema):
    name: str = Field(..., max_length=80)
    area_id: Int64
    owner_body_id: Int64 | None = None
    description: str = ""


class VolunteerOut(Schema):
    id: int
    person_id: int
    name: str
    team: Ref | None
    skills: str
    availability: str
    joined_on: datetime.date
    is_active: bool
    year_hours: Decimal = Field(..., description="Confirmed hours this year.")

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.person.name)

    @staticmethod
    def resolve_year_hours(obj: Any) -> Decimal:
        return getattr(obj, "year_hours", None) or Decimal("0")


class VolunteerIn(InputSchema):
    person_id: Int64
    team_id: Int64 | None = None
    skills: str = Field("", max_length=200)
    availability: str = Field("", max_length=120)


class YearTotalOut(Schema):
    year: int
    hours: Decimal
    activities: int


class ActivityOut(Schema):
    id: int
    title: str
    team: Ref | None
    area: Ref
    venue: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int
    taken: int = Field(..., description="Places signed up for (not cancelled).")
    is_cancelled: bool
    description: str


class ActivityIn(InputSchema):
    title: str = Field(..., max_length=120)
    area_id: Int64
    venue: str = Field(..., max_length=120)
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int = Field(10, ge=1, le=1000)
    team_id: Int64 | None = None
    description: str = ""


class SignUpIn(InputSchema):
    volunteer_id: Int64 | None = Field(None, description="The organiser signing a volunteer up; empty: oneself.")


class SignUpOut(Schema):
    id: int
    activity_id: int
    volunteer_id: int
    name: str
    signed_up_at: datetime.datetime
    cancelled: bool
    checked_in_at: datetime.datetime | None
    checked_out_at: datetime.datetime | None
    hours: Decimal | None
    confirmed: bool

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.volunteer.person.name)

    @staticmethod
    def resolve_cancelled(obj: Any) -> bool:
        return obj.cancelled_at is not None

    @staticmethod
    def resolve_confirmed(obj: Any) -> bool:
        return obj.confirmed_at is not None


class CheckIn(InputSchema):
    code: str = Field(..., max_length=100, description="The code of the QR shown at the venue.")


class HoursIn(InputSchema):
    hours: Decimal = Field(..., gt=0, le=24)


class TickIn(InputSchema):
    present: bool = True


class ServedIn(InputSchema):
    person_id: Int64
    served_on: datetime.date
    volunteer_id: Int64 | None = None
    note: str = Field("", max_length=200)


class ServedOut(Schema):
    id: int
    person_id: int
    name: str
    activity_id: int | None
    volunteer_id: int | None
    served_on: datetime.date
    note: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.person.name)


class MonthCount(Schema):
    month: str
    activities: int


class VolunteerFiguresOut(Schema):
    year: int
    active_volunteers: int
    hours: Decimal
    hours_per_volunteer: Decimal | None
    party_members: int
    party_member_hours: Decimal
    hours_per_party_member: Decimal | None
    people_served: int
    elderly_alone_served: int
    activities_per_month: list[MonthCount]
