"""Notice schemas. Household members' phones are always masked; the read-link token never leaves the server
through the API (it is the resident's key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import InputSchema, Int64
from gongzhi.notices.selectors import percent


class Ref(Schema):
    id: int
    name: str


class NoticeOut(Schema):
    id: int
    title: str
    area: Ref
    area_code: str
    tags: list[str]
    sender_body: Ref | None
    sender_name: str
    published_at: datetime
    delivered: int = Field(..., description="Households on the caller's ground that received it.")
    read: int
    unread: int
    percent_read: float

    @staticmethod
    def resolve_area_code(obj: Any) -> str:
        return str(obj.area.code)

    @staticmethod
    def resolve_sender_name(obj: Any) -> str:
        return str(obj.sender)

    @staticmethod
    def resolve_delivered(obj: Any) -> int:
        return int(getattr(obj, "delivered_count", 0))

    @staticmethod
    def resolve_read(obj: Any) -> int:
        return int(getattr(obj, "read_count", 0))

    @staticmethod
    def resolve_unread(obj: Any) -> int:
        return int(getattr(obj, "delivered_count", 0)) - int(getattr(obj, "read_count", 0))

    @staticmethod
    def resolve_percent_read(obj: Any) -> float:
        return percent(int(getattr(obj, "read_count", 0)), int(getattr(obj, "delivered_count", 0)))


class SenderOut(Schema):
    user_name: str
    body: Ref | None
    area: Ref
    sent_at: datetime
    new_households: int

    @staticmethod
    def resolve_user_name(obj: Any) -> str:
        return str(obj.user)


class AreaStatsOut(Schema):
    code: str
    name: str
    node_id: int | None
    delivered: int
    read: int
    unread: int
    percent_read: float


class StatsOut(Schema):
    delivered: int
    read: int
    unread: int
    percent_read: float
    by_via: dict[str, int]
    by_community: list[AreaStatsOut]
    by_grid: list[AreaStatsOut]


class NoticeDetailOut(NoticeOut):
    body: str
    senders: list[SenderOut]
    stats: StatsOut = Field(..., description="On the caller's ground: a community sees its own households.")

    @staticmethod
    def resolve_senders(obj: Any) -> list[Any]:
        return list(getattr(obj, "sender_rows", []))


class NoticeIn(InputSchema):
    title: str = Field(..., max_length=200)
    body: str
    area_id: Int64
    tags: list[str] = Field(default_factory=list, description="Key service targets; empty: every household.")
    sender_body_id: Int64 | None = None
    joins_notice_id: Int64 | None = Field(None, description="Join this notice as a co-sender (else found by its text).")


class SendOut(Schema):
    notice: NoticeDetailOut
    joined: bool = Field(..., description="An equivalent notice existed: the caller was added as a co-sender.")
    households: int
    new_households: int
    already_delivered: int
    already_from: list[str]


class DeliveryOut(Schema):
    id: int
    notice_id: int
    notice_title: str
    household: Ref
    household_code: str
    building_name: str
    grid_name: str
    community_name: str
    contact_name: str
    contact_phone_masked: str
    delivered_at: datetime
    read_at: datetime | None
    read_via: str

    @staticmethod
    def resolve_notice_title(obj: Any) -> str:
        return str(obj.notice.title)

    @staticmethod
    def resolve_household_code(obj: Any) -> str:
        return str(obj.household.code)

    @staticmethod
    def resolve_building_name(obj: Any) -> str:
        parent = obj.household.parent
        return str(parent.name) if parent is not None else ""

    @staticmethod
    def resolve_grid_name(obj: Any) -> str:
        return str(getattr(obj, "grid_name", "") or "")

    @staticmethod
    def resolve_community_name(obj: Any) -> str:
        return str(getattr(obj, "community_name", "") or "")

    @staticmethod
    def resolve_contact_name(obj: Any) -> str:
        return str(getattr(obj, "contact_name", "") or "")

    @staticmethod
    def resolve_contact_phone_masked(obj: Any) -> str:
        return mask_phone(getattr(obj, "contact_phone_raw", "") or "")


class ConfirmIn(InputSchema):
    via: str = Field("in_person", description="in_person or phone")
