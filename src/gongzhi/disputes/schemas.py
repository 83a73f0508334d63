"""Dispute and police-notice schemas. Parties' phones and ID numbers are always masked (revealing one is its own
audited call); parties and private notes are given only to their circle (``selectors.parties_of``,
``selectors.sessions_of``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import Date, DateTime, Float, InputSchema, Int64


class DisputeRef(Schema):
    id: int
    name: str


class DisputeKindOut(Schema):
    id: int
    code: str
    name: str
    follow_up_days: int


class DisputeFilters(InputSchema):
    status: str | None = None
    kind_id: Int64 | None = None
    risk: str | None = None
    tier: Int64 | None = None
    node_code: str | None = Field(None, max_length=32, description="A place's code: the disputes in its subtree.")
    repeat: bool | None = None
    mine: bool = Field(False, description="Only the disputes I mediate.")
    q: str = Field("", max_length=100)
    since: DateTime | None = None
    until: DateTime | None = None


class DisputeOut(Schema):
    id: int
    number: str
    kind: DisputeRef
    summary: str
    status: str
    status_label: str
    risk: str
    source: str
    tier: int
    tier_kind: str
    place: DisputeRef
    place_code: str
    unplaced: bool
    handler_body: DisputeRef | None
    is_repeat: bool
    repeat_of_id: int | None
    received_at: datetime
    agreed_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_place(obj: Any) -> dict[str, Any]:
        return {"id": obj.node_id, "name": obj.node.name}


class DisputePartyOut(Schema):
    id: int
    role: str
    role_label: str
    name: str
    phone: str = Field(..., description="Masked.")
    id_number: str = Field(..., description="Masked.")
    address: str
    person_id: int | None
    is_organisation: bool


class DisputePartiesOut(Schema):
    visible: bool = Field(..., description="False outside the handling circle: only how many parties there are.")
    count: int
    parties: list[DisputePartyOut]


class DisputeMediatorOut(Schema):
    id: int
    name: str


class DisputeDetailOut(DisputeOut):
    facts: str
    address: str
    referral_kind: str
    handler_node: DisputeRef | None
    source_case_id: int | None
    source_notice_id: int | None
    linked_case_ids: list[int]
    mediators: list[DisputeMediatorOut]
    parties: DisputePartiesOut
    allowed_actions: list[str]

    @staticmethod
    def resolve_parties(obj: Any) -> dict[str, Any]:
        return dict(obj.party_view)

    @staticmethod
    def resolve_mediators(obj: Any) -> list[dict[str, Any]]:
        return list(obj.mediator_view)


class DisputePartyIn(InputSchema):
    role: Literal["applicant", "respondent", "other"] = "applicant"
    person_id: Int64 | None = Field(None, description="A person of the registry (name and contacts from there).")
    name: str = Field("", max_length=60)
    phone: str = Field("", max_length=20)
    id_number: str = Field("", max_length=18)
    address: str = Field("", max_length=200)
    is_organisation: bool = False


class DisputeIn(InputSchema):
    kind_id: Int64
    summary: str = Field(..., max_length=200)
    facts: str = Field("", max_length=10000)
    node_id: Int64 | None = None
    lat: Float | None = None
    lng: Float | None = None
    address: str = Field("", max_length=200)
    source: Literal["case", "police", "visit", "walk_in", "hotline", "other"] = "walk_in"
    source_case_id: Int64 | None = None
    source_notice_id: Int64 | None = None
    risk: Literal["green", "yellow", "red"] = "green"
    parties: list[DisputePartyIn] = Field(default_factory=list, max_length=50)
    mediator_ids: list[Int64] = Field(default_factory=list, max_length=20)
    linked_case_ids: list[Int64] = Field(default_factory=list, max_length=50)
    received_at: DateTime | None = None
    start_at: Literal["on_site", "station"] | None = Field(None, description="station: a walk-in at the station.")


class DisputeActionIn(InputSchema):
    action: str = Field(..., max_length=32, description="start, escalate, agree, fail, withdraw, close, reopen")
    note: str = Field("", max_length=4000, description="Required to escalate (the reason), fail, withdraw, reopen.")
    to_tier: Int64 | None = Field(None, description="escalate: the tier (default: the next one).")
    to_kind: Literal["on_site", "station", "referral"] | None = None
    body_id: Int64 | None = Field(None, description="escalate to a referral: the body referred to.")
    referral_kind: Literal["police", "justice", "court", "arbitration", "other"] | None = None
    agreement_id: Int64 | None = Field(None, description="agree: the drafted agreement (default: the latest).")
    signed_on: Date | None = None
    signed_party_ids: list[Int64] = Field(default_factory=list, max_length=50)
    performance: Literal["performed", "partly", "not_performed"] | None = None


class DisputeRiskIn(InputSchema):
    risk: Literal["green", "yellow", "red"]
    note: str = Field("", max_length=4000)


class DisputeMediatorsIn(InputSchema):
    user_ids: list[Int64] = Field(..., max_length=20)
    lead_id: Int64 | None = None


class DisputeLinkCaseIn(InputSchema):
    case_id: Int64


class MediationSessionIn(InputSchema):
    held_at: DateTime
    mode: Literal["face_to_face", "separate", "phone", "video"] = "face_to_face"
    where: str = Field("", max_length=200)
    mediator_ids: list[Int64] = Field(default_factory=list, max_length=20)
    attendee_ids: list[Int64] = Field(default_factory=list, max_length=50, description="Parties present.")
    summary: str = Field("", max_length=10000)
    result: Literal["progress", "agreement", "no_agreement", "adjourned", ""] = ""
    private_notes: str = Field("", max_length=10000, description="Only the assigned mediators and the station read it.")


class MediationSessionOut(Schema):
    id: int
    tier: int
    held_at: datetime
    where: str
    mode: str
    mediators: list[DisputeMediatorOut]
    attendee_ids: list[int]
    summary: str
    result: str
    private_notes: str | None = Field(..., description="null outside the notes' circle (or none written).")


class AgreementTermIn(InputSchema):
    text: str = Field(..., max_length=2000)
    how: str = Field("", max_length=500)
    by: Date | None = None


class MediationAgreementIn(InputSchema):
    terms: list[AgreementTermIn] = Field(..., min_length=1, max_length=50)
    facts: str = Field("", max_length=10000)
    performance: str = Field("", max_length=4000)
    committee: str = Field("", max_length=120)
    follow_up_days: Int64 | None = Field(None, ge=1, le=365)


class AgreementTermOut(Schema):
    text: str
    how: str
    by: str


class MediationAgreementOut(Schema):
    id: int
    number: str
    dispute_id: int
    committee: str
    facts: str
    terms: list[AgreementTermOut]
    performance: str
    signed_on: date | None
    signed_party_ids: list[int]
    mediator: str
    follow_up_days: int

    @staticmethod
    def resolve_signed_party_ids(obj: Any) -> list[int]:
        return [p.pk for p in obj.signed_by.all()]

    @staticmethod
    def resolve_mediator(obj: Any) -> str:
        return str(obj.mediator) if obj.mediator_id else ""


class DisputeFollowUpIn(InputSchema):
    performance: Literal["performed", "partly", "not_performed"]
    note: str = Field("", max_length=4000)


class DisputeFollowUpOut(Schema):
    id: int
    dispute_id: int
    dispute_number: str
    due_on: date
    done_at: datetime | None
    performance: str
    note: str

    @staticmethod
    def resolve_dispute_number(obj: Any) -> str:
        return str(obj.dispute.number)


class DisputeEventOut(Schema):
    at: datetime
    actor_label: str
    action: str
    from_status: str
    to_status: str
    note: str


class DisputeEscalationOut(Schema):
    at: datetime
    from_tier: int
    to_tier: int
    to_kind: str
    to_body: DisputeRef | None
    referral_kind: str
    reason: str
    automatic: bool


class PartyRevealOut(Schema):
    phone: str
    id_number: str


class DisputeFigureOut(Schema):
    key: str
    label: str
    value: float | None
    count: int
    extra: dict[str, Any]


# --- police notices --------------------------------------------------------------------------------------------------


class PoliceNoticeFilters(InputSchema):
    status: Literal["sent", "received", "answered", "cancelled"] | None = None
    overdue: bool | None = None
    sent_by_me: bool = Field(False, description="Only the notices my body sent (the police station's list).")


class PoliceNoticeIn(InputSchema):
    title: str = Field(..., max_length=200, description="What happened.")
    ask: str = Field(..., max_length=4000, description="What the grid should do.")
    happened_at: DateTime | None = None
    description: str = Field("", max_length=10000)
    node_id: Int64 | None = None
    lat: Float | None = None
    lng: Float | None = None
    address: str = Field("", max_length=200)
    people: str = Field("", max_length=2000, description="The people involved.")
    people_phone: str = Field("", max_length=20)
    due_at: DateTime | None = Field(None, description="Answer due by (default: three days).")
    from_body_id: Int64 | None = Field(None, description="The sending body, when the caller acts for several.")


class PoliceNoticeOut(Schema):
    id: int
    number: str
    from_body: DisputeRef
    title: str
    description: str
    happened_at: datetime
    place: DisputeRef
    place_code: str
    unplaced: bool
    address: str
    people: str
    people_phone: str = Field(..., description="Masked.")
    ask: str
    due_at: datetime
    status: str
    status_label: str
    received_at: datetime | None
    visited_at: datetime | None
    answered_at: datetime | None
    answered_on_time: bool | None
    result: str
    feedback: str
    case_id: int | None
    dispute_ids: list[int]

    @staticmethod
    def resolve_place(obj: Any) -> dict[str, Any]:
        return {"id": obj.node_id, "name": obj.node.name}

    @staticmethod
    def resolve_people_phone(obj: Any) -> str:
        return mask_phone(obj.people_phone)

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_dispute_ids(obj: Any) -> list[int]:
        return [int(i) for i in getattr(obj, "dispute_ids", [])]


class PoliceNoticeAnswerIn(InputSchema):
    result: Literal["resolved", "dispute", "case", "nothing"]
    feedback: str = Field(..., min_length=1, max_length=4000)
    visited_at: DateTime | None = None
    dispute_kind_id: Int64 | None = Field(None, description="result dispute: its kind (registered from the notice).")
    dispute_summary: str = Field("", max_length=200)
    dispute_risk: Literal["green", "yellow", "red"] = "green"
    parties: list[DisputePartyIn] = Field(default_factory=list, max_length=50)
    case_id: Int64 | None = Field(None, description="result case: an existing case …")
    case_category_id: Int64 | None = Field(None, description="… or the category of a case reported from it.")


class PoliceNoticeRevealOut(Schema):
    people_phone: str


class PoliceNoticeCancelIn(InputSchema):
    note: str = Field(..., min_length=1, max_length=4000)
