from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.cases.choices import Status, Tier
from gongzhi.core.messages import stored
from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import Date, DateTime, Float, InputSchema, Int64

# Labels by value, built once: a model's get_FOO_display() rebuilds its choices dict on every call, which shows on
# a page of 50 cases. The labels stay lazy: str() gives them in the request's language.
STATUS_LABELS: dict[str, Any] = dict(Status.choices)
TIER_LABELS: dict[int, Any] = dict(Tier.choices)


class CategoryOut(Schema):
    id: int
    kind: str = Field(description="event (事件) or facility (部件); a code is unique within its kind")
    code: str
    name: str
    parent_id: int | None
    default_urgency: str


class Ref(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    number: str
    title: str
    status: str
    status_label: str
    category: CategoryOut
    urgency: str
    channel: str
    tier: int
    tier_label: str
    node: Ref
    node_code: str
    unplaced: bool
    category_unconfirmed: bool
    category_text: str
    lat: float | None
    lng: float | None
    address: str
    owner_body: Ref
    handler_body: Ref | None
    handler_node: Ref | None
    reporter_name: str
    reporter_phone_masked: str
    due_step: str
    due_at: datetime | None
    is_overdue: bool
    rework_count: int
    escalation_count: int
    fixed_on_spot: bool
    merged_into_id: int | None
    closed_kind: str
    rating: str
    resolved: bool | None
    reported_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(STATUS_LABELS.get(obj.status, obj.status))

    @staticmethod
    def resolve_tier_label(obj: Any) -> str:
        return str(TIER_LABELS.get(obj.tier, obj.tier))

    @staticmethod
    def resolve_node_code(obj: Any) -> str:
        return str(obj.node.code)

    @staticmethod
    def resolve_reporter_phone_masked(obj: Any) -> str:
        return mask_phone(obj.reporter_phone)


# The columns CaseOut reads: case lists load only these (DeferredJoinPagination(only=…); a test checks a list's items
# equal the full rows' and that no row loads a missing column by a query of its own).
CASE_OUT_COLUMNS = (
    "id", "number", "title", "status", "urgency", "channel", "tier", "unplaced", "category_unconfirmed",
    "category_text", "lat", "lng", "address",
    "reporter_name", "reporter_phone", "due_step", "due_at", "is_overdue", "rework_count", "escalation_count",
    "fixed_on_spot", "merged_into_id", "closed_kind", "rating", "resolved", "reported_at", "closed_at",
    "category", "category__kind", "category__code", "category__name", "category__parent_id",
    "category__default_urgency",
    "node", "node__name", "node__code", "owner_body", "owner_body__name", "handler_body", "handler_body__name",
    "handler_node", "handler_node__name",
)  # fmt: skip


class CaseDetailOut(CaseOut):
    description: str
    tracking_code: str
    gps_accuracy: float | None
    outside_reporter_ground: bool = Field(
        description="The GPS point lies outside every place of the staff member who reported it (accepted, flagged)."
    )
    allowed_actions: list[str]


class CategoryConfirmIn(InputSchema):
    category_id: Int64
    note: str = ""


class CaseLeftOut(Schema):
    """The answer to an action after which the actor no longer sees the case (a handler who returned it): the action
    was saved; here is what they may still know of it."""

    id: int
    number: str
    status: str
    status_label: str
    visible: bool = False
    message: str


class CaseIn(InputSchema):
    channel: str
    title: str
    category_id: Int64
    description: str = ""
    urgency: str | None = None
    lat: Float | None = None
    lng: Float | None = None
    address: str = ""
    node_id: Int64 | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    fixed_on_spot_note: str = ""
    coord_system: str = Field(
        "wgs84",
        description="The system lat/lng are in: wgs84 (GPS, 天地图; default) or gcj02 (AMap/phone map SDKs). "
        "Stored as WGS-84.",
    )
    gps_accuracy: Float | None = Field(None, description="How sure the GPS position is, in metres (the phone's).")


class PublicCaseIn(InputSchema):
    title: str
    category_id: Int64
    description: str = ""
    lat: Float | None = None
    lng: Float | None = None
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    coord_system: str = Field(
        "wgs84",
        description="The system lat/lng are in: wgs84 (GPS, 天地图; default) or gcj02 (AMap/phone map SDKs). "
        "Stored as WGS-84.",
    )


class PublicCaseOut(Schema):
    number: str
    status: str
    status_label: str
    title: str
    category: str
    reported_at: datetime
    merged_into_number: str | None
    rating: str
    timeline: list[EventOut]


class PublicReportOut(PublicCaseOut):
    tracking_code: str = Field(description="The secret that follows the case (GET /public/track?code=…); shown once.")


class ActionIn(InputSchema):
    note: str = ""
    reply: bool = Field(
        False,
        description="The note is a reply to the reporter: shown on the public tracking page. Default false: the note "
        "is internal (the step itself still shows).",
    )
    public: bool | None = Field(
        None,
        description="Whether the step shows on the reporter's tracking page at all (default: the action's own; false "
        "hides it). The older way to make a note a reply: true also shows the note.",
    )
    handler_body_id: Int64 | None = None
    handler_node_id: Int64 | None = None
    into_case_id: Int64 | None = None
    rating: str | None = None
    resolved: bool | None = None
    responded: bool | None = None
    until: DateTime | None = None
    special: bool = False
    phone_handoff_note: str | None = None


class BatchDispatchIn(InputSchema):
    case_ids: list[Int64] = Field(description="The cases to dispatch (at most 100): all of them, or none.")
    handler_body_id: Int64 | None = None
    handler_node_id: Int64 | None = None
    note: str = ""
    reply: bool = Field(False, description="The note is a reply to the reporter; default false: internal.")
    phone_handoff_note: str = ""


class EventOut(Schema):
    id: int
    at: datetime
    actor_label: str
    action: str
    from_status: str
    to_status: str
    note: str
    public: bool
    reply: bool = Field(description="The note is a reply to the reporter (shown to them); otherwise internal.")
    attachments: list[AttachmentOut] = []

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return list(obj.attachments.all())


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/cases/attachments/{obj.id}/"


class SimilarOut(Schema):
    case: CaseOut
    score: float


class CasePinOut(Schema):
    id: int
    number: str
    title: str
    status: str
    status_label: str
    urgency: str
    overdue: bool
    lat: float = Field(description="WGS-84: the reported point, else the place's centre")
    lng: float = Field(description="WGS-84")


class CasePinsOut(Schema):
    items: list[CasePinOut]
    total: int = Field(description="Open cases that matched (the pins are the first 2,000 of them).")
    truncated: bool


class HandoverIn(InputSchema):
    to_user_id: Int64
    note: str


class RateIn(InputSchema):
    code: str = Field("", description="The tracking code (or give number and phone).")
    number: str = ""
    phone: str = Field("", description="Optional with a tracking code; if given, it must be the reporter's.")
    rating: str
    resolved: bool | None = None
    note: str = ""


class CaseFilters(InputSchema):
    status: list[str] | None = None
    category_id: Int64 | None = None
    node_id: Int64 | None = None
    body_id: Int64 | None = None
    overdue: bool | None = None
    unplaced: bool | None = None
    channel: str | None = None
    date_from: Date | None = None
    date_to: Date | None = None
    text: str | None = None
    open_only: bool = False
    category_unconfirmed: bool | None = None


EventOut.model_rebuild()
PublicCaseOut.model_rebuild()


class HotlineErrorOut(Schema):
    row: int | None = None
    field: str | None = None
    message: str


class HotlineImportOut(Schema):
    """The result of a 12345 import: case numbers created, tickets skipped (already imported), rows refused."""

    created: list[str]
    skipped: list[str]
    errors: list[HotlineErrorOut]

    @staticmethod
    def resolve_errors(obj: Any) -> list[dict[str, Any]]:
        return [{"row": e.row, "field": e.field, "message": stored(e.message)} for e in obj.errors]


class HotlineJobOut(Schema):
    """A 12345 file imported in the background. ``status``: queued, running, done or failed (``message`` says why);
    the counts grow while it runs; ``progress`` is the share of the file read (0–1); ``errors`` lists the first
    problems (``error_rows`` counts every row with one). ``heartbeat_at``: the running job's last sign of life (a
    job silent for 5 minutes lost its worker and is failed); ``worker_alive``: false when no background worker
    runs, so a queued job waits."""

    id: int
    status: str
    file_name: str
    rows: int
    created: int
    skipped: int
    error_rows: int
    progress: float
    errors: list[HotlineErrorOut]
    message: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    worker_alive: bool | None = None

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.state)

    @staticmethod
    def resolve_message(obj: Any) -> str:
        """Kept as a code (with its values): shown in the request's language."""
        return stored(obj.message)

    @staticmethod
    def resolve_errors(obj: Any) -> list[dict[str, Any]]:
        return [{**e, "message": stored(e.get("message"))} for e in obj.errors or []]

    @staticmethod
    def resolve_worker_alive(obj: Any) -> bool | None:
        """Is a background worker running (seen within a minute)? ``null`` when tasks need none."""
        from gongzhi.cases.selectors import worker_alive

        return worker_alive()
