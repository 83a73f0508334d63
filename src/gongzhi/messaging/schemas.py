from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class MessageOut(Schema):
    id: int
    kind: str
    text: str = Field(..., alias="body", description="In the reader's language (Accept-Language).")
    link: str
    object_type: str
    object_id: str
    urgency: str
    created_at: datetime
    read_at: datetime | None


class UnreadOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int
