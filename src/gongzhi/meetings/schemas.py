"""Meeting schemas. People appear by name only where the reader's scope covers the meeting (never a phone); the
public record carries no person at all."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema, Int64


class MeetingRef(Schema):
    id: int
    name: str


class MeetingKindOut(Schema):
    id: int
    code: str
    name: str
    format: str
    quorum_percent: int
    notice_days: int
    day_of_month: int | None


class MeetingOut(Schema):
    id: int
    title: str
    kind: MeetingRef
    place: MeetingRef
    body: MeetingRef | None
    chair_body: MeetingRef | None
    starts_at: datetime.datetime
    location: str
    status: str
    notice: str
    notice_from: datetime.date | None


class MeetingIn(InputSchema):
    kind_id: Int64
    title: str = Field(..., max_length=120)
    place_id: Int64
    starts_at: datetime.datetime
    body_id: Int64 | None = None
    series_id: Int64 | None = None
    location: str = Field("", max_length=120)
    notice: str = ""


class AgendaItemOut(Schema):
    id: int
    order: int
    title: str
    source: str
    topic_id: int | None
    case_id: int | None
    need_id: int | None
    dispute_id: int | None
    minutes: str


class AgendaItemIn(InputSchema):
    source: str = "other"
    title: str = ""
    topic_id: Int64 | None = None
    case_id: Int64 | None = None
    need_id: Int64 | None = None
    dispute_id: Int64 | None = None


class AgendaMinutesIn(InputSchema):
    minutes: str


class AttendanceOut(Schema):
    id: int
    name: str
    member: bool
    invited: bool
    present: bool
    how: str


class TickIn(InputSchema):
    present: bool = True
    attendance_id: Int64 | None = None
    name: str = Field("", max_length=40)
    member: bool = False


class InviteIn(InputSchema):
    user_ids: list[Int64]
    members: bool = True


class SignInIn(InputSchema):
    token: str = Field(..., max_length=200)


class QuorumOut(Schema):
    needed: bool
    required: int
    present: int
    members: int
    met: bool


class DecisionOut(Schema):
    id: int
    meeting_id: int
    item_id: int | None
    text: str
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    track: str
    case_id: int | None
    case_number: str | None
    need_id: int | None
    owner_id: int | None
    due_on: datetime.date | None
    status: str
    progress: int
    done_at: datetime.datetime | None

    @staticmethod
    def resolve_case_number(obj: Any) -> str | None:
        return obj.case.number if obj.case_id else None


class MeetingDetailOut(MeetingOut):
    items: list[AgendaItemOut]
    decisions: list[DecisionOut]
    quorum: QuorumOut


class DecisionIn(InputSchema):
    text: str
    item_id: Int64 | None = None
    votes_for: int | None = Field(None, ge=0)
    votes_against: int | None = Field(None, ge=0)
    votes_abstain: int | None = Field(None, ge=0)


class TrackCaseIn(InputSchema):
    category_id: Int64
    title: str = Field("", max_length=200)
    handler_body_id: Int64 | None = Field(None, description="Dispatched to this body through the case workflow.")
    due_on: datetime.date | None = None


class TrackProjectIn(InputSchema):
    category_id: Int64 = Field(..., description="A need category of the three lists.")
    title: str = Field("", max_length=120)
    due_on: datetime.date | None = None


class TrackTaskIn(InputSchema):
    owner_id: Int64
    due_on: datetime.date


class TaskProgressIn(InputSchema):
    progress: int = Field(..., ge=0, le=100)
    dropped: bool = False


class TopicOut(Schema):
    id: int
    title: str
    description: str
    place: MeetingRef
    status: str
    meeting_id: int | None
    supports: int = Field(0, description="How many others support it.")
    created_at: datetime.datetime

    @staticmethod
    def resolve_supports(obj: Any) -> int:
        return int(getattr(obj, "n_support", 0) or 0)


class TopicIn(InputSchema):
    title: str = Field(..., max_length=120)
    description: str = ""
    place_id: Int64 | None = Field(None, description="Empty: where the resident lives.")
    proposer_name: str = Field("", max_length=40, description="A resident's topic entered by a grid worker.")
    proposer_phone: str = Field("", max_length=20)


class MeetingFiguresOut(Schema):
    meetings: int
    topics: int
    decisions: int
    done: int
    ontime: int
    problems: int
    solved: int
    present: int
    members_invited: int
    members_present: int
    attendance_rate: int | None


class PublicDecisionOut(Schema):
    text: str
    status: str
    status_label: str
    progress: int
    track: str
    due_on: datetime.date | None
    done_on: datetime.date | None


class PublicMeetingOut(Schema):
    title: str
    kind: str
    place: str
    date: datetime.date
    status: str
    items: list[str]
    decisions: list[PublicDecisionOut]
    notice: str


class PublicRecordOut(Schema):
    community: str
    notices: list[PublicMeetingOut]
    meetings: list[PublicMeetingOut] = Field(description="This page of the meetings held, newest first.")
    count: int = Field(description="Meetings held in all.")
    page: int
    pages: int
