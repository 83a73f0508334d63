"""Recognition schemas. A nominee is shown by name (the household's or the person's) and place only; a vote by its
time and flags (never a phone or a voter's account)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema, Int64


class Ref(Schema):
    id: int
    name: str


class Criterion(Schema):
    name: str
    max_score: int | None = None


class CampaignOut(Schema):
    id: int
    title: str
    subject: str
    area: Ref
    stage: str
    description: str
    criteria: list[Criterion]
    quota: int
    public_voting: bool
    nominations_open: datetime.datetime | None
    nominations_close: datetime.datetime | None
    voting_open: datetime.datetime | None
    voting_close: datetime.datetime | None
    review_by: datetime.date | None
    published_at: datetime.datetime | None


class CriterionIn(InputSchema):
    name: str = Field(..., max_length=60)
    max_score: int | None = Field(None, ge=1, le=100)


class CampaignIn(InputSchema):
    title: str = Field(..., max_length=120)
    subject: str = Field(..., description="household or person")
    area_id: Int64
    criteria: list[CriterionIn] = Field(..., min_length=1, max_length=12)
    quota: int = Field(10, ge=1, le=1000)
    public_voting: bool = False
    description: str = ""
    owner_body_id: Int64 | None = None
    nominations_open: datetime.datetime | None = None
    nominations_close: datetime.datetime | None = None
    voting_open: datetime.datetime | None = None
    voting_close: datetime.datetime | None = None
    review_by: datetime.date | None = None
    phone_prefixes: str = Field("", max_length=300, description="Local phone prefixes (号段), comma-separated.")
    panel_ids: list[Int64] = Field(default_factory=list, description="The users on the review panel.")


class PanelIn(InputSchema):
    user_ids: list[Int64]


class NominationOut(Schema):
    id: int
    campaign_id: int
    nominee: str
    household_id: int | None
    person_id: int | None
    status: str
    reasons: dict[str, str]
    votes: int = 0
    flagged_votes: int = 0
    approvals: int = 0
    mean_score: Decimal | None = None
    citation: str

    @staticmethod
    def resolve_nominee(obj: Any) -> str:
        return str(obj.nominee_name)

    @staticmethod
    def resolve_votes(obj: Any) -> int:
        return int(getattr(obj, "vote_count", 0) or 0)

    @staticmethod
    def resolve_flagged_votes(obj: Any) -> int:
        return int(getattr(obj, "flagged_count", 0) or 0)

    @staticmethod
    def resolve_approvals(obj: Any) -> int:
        return int(getattr(obj, "approvals", 0) or 0)

    @staticmethod
    def resolve_mean_score(obj: Any) -> Decimal | None:
        value = getattr(obj, "mean_score", None)
        return None if value is None else Decimal(value).quantize(Decimal("0.1"))


class NominationIn(InputSchema):
    household_id: Int64 | None = None
    person_id: Int64 | None = None
    person_name: str = Field(
        "", max_length=60, description="A resident nominating a person: their name, with the household."
    )
    reasons: dict[str, str] = Field(..., description="Criterion name → the reason.")


class VoteIn(InputSchema):
    device: str = Field("", max_length=64, description="The voting device's id (a value the client keeps).")


class PublicVoteIn(InputSchema):
    phone_token: str = Field(..., max_length=64, description="The token phone-verify answered.")
    device: str = Field("", max_length=64)


class VoteOut(Schema):
    id: int
    nomination_id: int
    created_at: datetime.datetime
    flags: list[str]


class PhoneIn(InputSchema):
    phone: str = Field(..., max_length=20)


class PhoneCodeIn(InputSchema):
    phone: str = Field(..., max_length=20)
    code: str = Field(..., max_length=6)


class PhoneCheckOut(Schema):
    expires_at: datetime.datetime
    verified: bool

    @staticmethod
    def resolve_verified(obj: Any) -> bool:
        return obj.verified_at is not None


class PhoneVerifiedOut(Schema):
    phone_token: str = Field(..., description="Vote with this for 12 hours; it is not shown again.")

    @staticmethod
    def resolve_phone_token(obj: Any) -> str:
        return str(obj.token)


class ReviewIn(InputSchema):
    approve: bool
    score: Decimal | None = Field(None, ge=0, le=1000)
    comment: str = Field("", max_length=300)


class ReviewOut(Schema):
    id: int
    nomination_id: int
    approve: bool
    score: Decimal | None
    comment: str


class DecisionIn(InputSchema):
    award: bool
    citation: str = ""


class ResultOut(Schema):
    id: int
    name: str
    where: str
    votes: int
    awarded: bool
    citation: str
