from __future__ import annotations

from datetime import datetime, time

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema


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


class PreferenceOut(Schema):
    in_app: bool = Field(True, description="The inbox: always on.")
    sms: bool
    email: bool
    quiet_start: time = Field(..., description="No SMS from this local time (except urgency A).")
    quiet_end: time = Field(..., description="… until this local time.")
    digest: bool = Field(..., description="Non-urgent SMS and e-mail as one message a day instead of one by one.")
    chosen: bool = Field(..., description="False: the defaults of the user's roles (or the built-in ones) apply.")
    phone_known: bool = Field(..., description="The account has a phone number (SMS can reach the user).")
    email_known: bool = Field(..., description="The account has an e-mail address.")
    duty_groups: list[str] = Field(..., description="The user's bodies whose WeCom duty group is told of their cases.")


class PreferenceIn(InputSchema):
    sms: bool
    email: bool
    quiet_start: time = Field(..., description="HH:MM, local time; equal to quiet_end: no quiet hours.")
    quiet_end: time
    digest: bool = False
