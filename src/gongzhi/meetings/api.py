"""Meetings API (``/api/v1/meetings/…``): kinds, meetings with their agenda, attendance and quorum, topics and
support, decisions and the work they become, the figures, and a community's public record (no account)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate
from ninja.params.functions import Path, Query

from gongzhi.core.errors import NotFound
from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import MAX_PAGE, PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.core.throttle import SharedRateThrottle
from gongzhi.meetings import selectors, services
from gongzhi.meetings.schemas import (
    AgendaItemIn,
    AgendaItemOut,
    AgendaMinutesIn,
    AttendanceOut,
    DecisionIn,
    DecisionOut,
    InviteIn,
    MeetingDetailOut,
    MeetingFiguresOut,
    MeetingIn,
    MeetingKindOut,
    MeetingOut,
    PublicRecordOut,
    SignInIn,
    TaskProgressIn,
    TickIn,
    TopicIn,
    TopicOut,
    TrackCaseIn,
    TrackProjectIn,
    TrackTaskIn,
)

router = Router(tags=["meetings"])
public_router = Router(tags=["public"], auth=None)


def _detail(request: ApiRequest, meeting_id: int) -> dict[str, Any]:
    meeting = selectors.meeting_get(user=request.auth, meeting_id=meeting_id)
    q = services.quorum(meeting)
    return {
        **MeetingOut.from_orm(meeting).dict(),
        "items": selectors.items(user=request.auth, meeting=meeting),
        "decisions": list(selectors.decisions(user=request.auth, meeting=meeting)),
        "quorum": {
            "needed": q.needed,
            "required": q.required,
            "present": q.present,
            "members": q.members,
            "met": q.met,
        },
    }


@router.get("/kinds", response=list[MeetingKindOut], summary="Kinds of meeting (editable table)")
def kind_list(request: ApiRequest) -> Any:
    return selectors.kinds()


@router.get("/meetings", response=list[MeetingOut], summary="Meetings in scope, newest first")
@paginate(PageNumberPagination)
def meeting_list(request: ApiRequest, q: str | None = None, status: str | None = None) -> QuerySet[Any]:
    return selectors.meeting_list(user=request.auth, q=q, status=status)


@router.post("/meetings", response={201: MeetingDetailOut}, summary="Plan a meeting (a hearing after its notice)")
def meeting_plan(request: ApiRequest, payload: MeetingIn) -> Status[Any]:
    meeting = services.plan_meeting(actor=request.auth, **payload.dict())
    return Status(201, _detail(request, meeting.pk))


@router.get("/meetings/{meeting_id}", response=MeetingDetailOut, summary="A meeting with its agenda, decisions, quorum")
def meeting_detail(request: ApiRequest, meeting_id: Int64) -> Any:
    return _detail(request, meeting_id)


@router.post(
    "/meetings/{meeting_id}/items", response={201: AgendaItemOut}, summary="Add a topic, case, need or dispute"
)
def item_add(request: ApiRequest, meeting_id: Int64, payload: AgendaItemIn) -> Status[Any]:
    return Status(201, services.add_item(actor=request.auth, meeting_id=meeting_id, **payload.dict()))


@router.put("/items/{item_id}/minutes", response=AgendaItemOut, summary="The minutes of an agenda item")
def item_minutes(request: ApiRequest, item_id: Int64, payload: AgendaMinutesIn) -> Any:
    return services.record_minutes(actor=request.auth, item_id=item_id, minutes=payload.minutes)


@router.post("/meetings/{meeting_id}/invite", response=dict[str, int], summary="Invite people (told by messaging)")
def meeting_invite(request: ApiRequest, meeting_id: Int64, payload: InviteIn) -> Any:
    return {"invited": services.invite(actor=request.auth, meeting_id=meeting_id, **payload.dict())}


@router.get("/meetings/{meeting_id}/attendance", response=list[AttendanceOut], summary="Who was invited and came")
def meeting_attendance(request: ApiRequest, meeting_id: Int64) -> Any:
    meeting = selectors.meeting_get(user=request.auth, meeting_id=meeting_id)
    return selectors.attendance(user=request.auth, meeting=meeting)


@router.post("/meetings/{meeting_id}/attendance", response=AttendanceOut, summary="The secretary ticks someone")
def meeting_tick(request: ApiRequest, meeting_id: Int64, payload: TickIn) -> Any:
    return services.tick(actor=request.auth, meeting_id=meeting_id, **payload.dict())


@router.get("/meetings/{meeting_id}/sign-in-token", response=dict[str, str], summary="The token of the QR code")
def meeting_token(request: ApiRequest, meeting_id: Int64) -> Any:
    meeting = selectors.meeting_get(user=request.auth, meeting_id=meeting_id)
    if not selectors.may_run(user=request.auth, meeting=meeting):
        raise NotFound()
    return {"token": services.sign_in_token(meeting)}


@router.post("/sign-in", response=AttendanceOut, summary="Sign in with a meeting's QR code")
def sign_in(request: ApiRequest, payload: SignInIn) -> Any:
    return services.sign_in(actor=request.auth, token=payload.token)


@router.post("/meetings/{meeting_id}/hold", response=MeetingDetailOut, summary="Record it held (409 without quorum)")
def meeting_hold(request: ApiRequest, meeting_id: Int64) -> Any:
    services.hold(actor=request.auth, meeting_id=meeting_id)
    return _detail(request, meeting_id)


@router.post("/meetings/{meeting_id}/decisions", response={201: DecisionOut}, summary="Record a decision")
def decision_add(request: ApiRequest, meeting_id: Int64, payload: DecisionIn) -> Status[Any]:
    decision = services.decide(actor=request.auth, meeting_id=meeting_id, **payload.dict())
    return Status(201, selectors.decision_get(user=request.auth, decision_id=decision.pk))


@router.get("/decisions/{decision_id}", response=DecisionOut, summary="A decision and its progress")
def decision_detail(request: ApiRequest, decision_id: Int64) -> Any:
    return selectors.decision_get(user=request.auth, decision_id=decision_id)


@router.post("/decisions/{decision_id}/case", response=DecisionOut, summary="Track the decision as a case")
def decision_case(request: ApiRequest, decision_id: Int64, payload: TrackCaseIn) -> Any:
    services.track_as_case(actor=request.auth, decision_id=decision_id, **payload.dict())
    return selectors.decision_get(user=request.auth, decision_id=decision_id)


@router.post("/decisions/{decision_id}/project", response=DecisionOut, summary="Track it as a need → project")
def decision_project(request: ApiRequest, decision_id: Int64, payload: TrackProjectIn) -> Any:
    services.track_as_project(actor=request.auth, decision_id=decision_id, **payload.dict())
    return selectors.decision_get(user=request.auth, decision_id=decision_id)


@router.post("/decisions/{decision_id}/task", response=DecisionOut, summary="Track it as a task with an owner")
def decision_task(request: ApiRequest, decision_id: Int64, payload: TrackTaskIn) -> Any:
    services.track_as_task(actor=request.auth, decision_id=decision_id, **payload.dict())
    return selectors.decision_get(user=request.auth, decision_id=decision_id)


@router.post("/decisions/{decision_id}/progress", response=DecisionOut, summary="A task's progress (100: done)")
def decision_progress(request: ApiRequest, decision_id: Int64, payload: TaskProgressIn) -> Any:
    services.report_task(actor=request.auth, decision_id=decision_id, **payload.dict())
    return selectors.decision_get(user=request.auth, decision_id=decision_id)


@router.get("/topics", response=list[TopicOut], summary="Topics in scope, most supported first")
@paginate(PageNumberPagination)
def topic_list(request: ApiRequest, open_only: bool = False) -> QuerySet[Any]:
    return selectors.topic_list(user=request.auth, open_only=open_only)


@router.post("/topics", response={201: TopicOut}, summary="Propose a topic (one's own, or a resident's)")
def topic_propose(request: ApiRequest, payload: TopicIn) -> Status[Any]:
    return Status(201, services.propose_topic(actor=request.auth, **payload.dict()))


@router.post("/topics/{topic_id}/support", response={201: dict[str, int]}, summary="Support someone's topic")
def topic_support(request: ApiRequest, topic_id: Int64) -> Status[Any]:
    support = services.support_topic(actor=request.auth, topic_id=topic_id)
    return Status(201, {"topic_id": support.topic_id})


@router.get(
    "/figures", response=MeetingFiguresOut, summary="Meetings held, topics, decisions (on time), problems, attendance"
)
def figures(
    request: ApiRequest, place: str = "", start: datetime.date | None = None, end: datetime.date | None = None
) -> Any:
    return selectors.figures(user=request.auth, place_code=place, start=start, end=end)


@public_router.get(
    "/{code}",
    response=PublicRecordOut,
    summary="A community's meetings and decisions (no account), a page of meetings at a time",
    throttle=[SharedRateThrottle("public_wall")],
)
def public_record(
    request: Any,
    code: str = Path(..., max_length=32, pattern=r"^[0-9A-Za-z]+$"),
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Any:
    community = selectors.public_community(code=code)
    if community is None:
        raise NotFound()
    shown = selectors.public_record(community=community, page=page)
    return {
        "community": community.name,
        "notices": selectors.public_notices(community=community, today=timezone.localdate()),
        "meetings": shown.object_list,
        "count": shown.paginator.count,
        "page": shown.number,
        "pages": shown.paginator.num_pages,
    }
