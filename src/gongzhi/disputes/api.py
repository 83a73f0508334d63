"""Disputes API (``/api/v1/disputes``) and the police-notice loop (``/api/v1/police-notices``): every list and object
limited to the caller's scope (404 outside it); parties and private notes only for their circle; contacts masked."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Date, DateTime, Int64
from gongzhi.disputes import document, selectors, services, workflow
from gongzhi.disputes.models import Dispute, FollowUp, PoliceNotice
from gongzhi.disputes.schemas import (
    DisputeActionIn,
    DisputeDetailOut,
    DisputeEscalationOut,
    DisputeEventOut,
    DisputeFigureOut,
    DisputeFilters,
    DisputeFollowUpIn,
    DisputeFollowUpOut,
    DisputeIn,
    DisputeKindOut,
    DisputeLinkCaseIn,
    DisputeMediatorsIn,
    DisputeOut,
    DisputePartiesOut,
    DisputePartyIn,
    DisputePartyOut,
    DisputeRiskIn,
    MediationAgreementIn,
    MediationAgreementOut,
    MediationSessionIn,
    MediationSessionOut,
    PartyRevealOut,
    PoliceNoticeAnswerIn,
    PoliceNoticeCancelIn,
    PoliceNoticeFilters,
    PoliceNoticeIn,
    PoliceNoticeOut,
    PoliceNoticeRevealOut,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

router = Router(tags=["disputes"])
notices_router = Router(tags=["police notices"])

DOCX_RESPONSE = {
    "responses": {
        200: {
            "description": "The 人民调解协议书 as a Word document (attachment).",
            "content": {document.CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _party_in(p: DisputePartyIn) -> services.PartyIn:
    return services.PartyIn(**p.dict())


def _detail(user: "User", dispute_id: int) -> Any:
    d: Any = selectors.dispute_get(user=user, dispute_id=dispute_id)
    parties = selectors.parties_of(user=user, dispute=d)
    d.party_view = {
        "visible": parties.visible,
        "count": parties.count,
        "parties": [p.__dict__ for p in parties.parties],
    }
    d.mediator_view = [{"id": u.pk, "name": str(u)} for u in selectors.mediators_of(user=user, dispute=d)]
    d.linked_case_ids = list(d.linked_cases.values_list("pk", flat=True))
    d.allowed_actions = [t.action for t in workflow.allowed_actions(user, d)]
    return d


def _session_out(view: selectors.SessionView) -> dict[str, Any]:
    s = view.session
    return {
        "id": s.pk, "tier": s.tier, "held_at": s.held_at, "where": s.where, "mode": s.mode,
        "mediators": [{"id": u.pk, "name": str(u)} for u in view.mediators], "attendee_ids": view.attendee_ids,
        "summary": s.summary, "result": s.result, "private_notes": view.notes if view.notes_visible else None,
    }  # fmt: skip


@router.get("/kinds", response=list[DisputeKindOut], summary="The kinds of dispute")
def kinds(request: ApiRequest) -> Any:
    return selectors.kinds()


@router.get(
    "/figures", response=list[DisputeFigureOut], summary="The dispute figures of a period (each opens its list)"
)
def figures(
    request: ApiRequest, since: DateTime, until: DateTime, node_code: str | None = None
) -> list[dict[str, Any]]:
    """Success rate, cycle time (median; P90 in ``extra``), share solved per tier, repeats, red risk open, police
    notices answered on time, year-on-year change. ``count`` is the number of rows behind the figure: the list the
    dashboard opens (``GET /disputes`` with the same filter)."""
    user = request.auth
    kw: dict[str, Any] = {"user": user, "since": since, "until": until, "node_code": node_code}
    out = [
        selectors.success_rate(**kw),
        selectors.cycle_time(**kw),
        *selectors.share_by_tier(**kw),
        selectors.repeats(**kw),
        selectors.red_open(user=user, node_code=node_code),
        selectors.notices_on_time(user=user, since=since, until=until),
        selectors.year_on_year(**kw),
    ]
    return [{"key": f.key, "label": f.label, "value": f.value, "count": f.count, "extra": f.extra} for f in out]


@router.get("/follow-ups", response=list[DisputeFollowUpOut], summary="Performance follow-ups due (mine, or all I see)")
@paginate(PageNumberPagination)
def follow_ups_due(request: ApiRequest, until: Date | None = None, mine: bool = False) -> QuerySet[FollowUp]:
    return selectors.follow_ups_due(user=request.auth, until=until, mine=mine)


@router.get("", response=list[DisputeOut], summary="Disputes in scope, filtered")
@paginate(PageNumberPagination)
def dispute_list(request: ApiRequest, filters: Query[DisputeFilters]) -> QuerySet[Dispute]:
    return selectors.dispute_list(user=request.auth, **filters.dict())


@router.post("", response={201: DisputeDetailOut}, summary="Register a dispute")
def dispute_create(request: ApiRequest, payload: DisputeIn) -> Status[Any]:
    data = payload.dict()
    data["parties"] = [_party_in(p) for p in payload.parties]
    d = services.register_dispute(actor=request.auth, **data)
    return Status(201, _detail(request.auth, d.pk))


@router.get("/{dispute_id}", response=DisputeDetailOut, summary="A dispute (parties only for its circle, masked)")
def dispute_detail(request: ApiRequest, dispute_id: Int64) -> Any:
    return _detail(request.auth, dispute_id)


@router.post("/{dispute_id}/actions", response=DisputeDetailOut, summary="Take a step of the dispute's workflow")
def dispute_action(request: ApiRequest, dispute_id: Int64, payload: DisputeActionIn) -> Any:
    data = payload.dict(exclude={"action", "note"}, exclude_none=True)
    if "signed_on" in data:
        data["signed_on"] = data["signed_on"].isoformat()
    workflow.perform(actor=request.auth, dispute_id=dispute_id, action=payload.action, note=payload.note, payload=data)
    return _detail(request.auth, dispute_id)


@router.post("/{dispute_id}/risk", response=DisputeDetailOut, summary="Change the risk (red: to the station)")
def dispute_risk(request: ApiRequest, dispute_id: Int64, payload: DisputeRiskIn) -> Any:
    services.set_risk(actor=request.auth, dispute_id=dispute_id, risk=payload.risk, note=payload.note)
    return _detail(request.auth, dispute_id)


@router.post("/{dispute_id}/mediators", response=DisputeDetailOut, summary="Assign mediators")
def dispute_mediators(request: ApiRequest, dispute_id: Int64, payload: DisputeMediatorsIn) -> Any:
    services.assign_mediators(actor=request.auth, dispute_id=dispute_id, user_ids=payload.user_ids,
                              lead_id=payload.lead_id)  # fmt: skip
    return _detail(request.auth, dispute_id)


@router.post("/{dispute_id}/cases", response=DisputeDetailOut, summary="Link a case")
def dispute_link_case(request: ApiRequest, dispute_id: Int64, payload: DisputeLinkCaseIn) -> Any:
    services.link_case(actor=request.auth, dispute_id=dispute_id, case_id=payload.case_id)
    return _detail(request.auth, dispute_id)


@router.get(
    "/{dispute_id}/parties", response=DisputePartiesOut, summary="The parties (for the handling circle; masked)"
)
def party_list(request: ApiRequest, dispute_id: Int64) -> Any:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    parties = selectors.parties_of(user=request.auth, dispute=d)
    return {"visible": parties.visible, "count": parties.count, "parties": [p.__dict__ for p in parties.parties]}


@router.post("/{dispute_id}/parties", response={201: DisputePartyOut}, summary="Add a party")
def party_add(request: ApiRequest, dispute_id: Int64, payload: DisputePartyIn) -> Status[Any]:
    party = services.add_party(actor=request.auth, dispute_id=dispute_id, **payload.dict())
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    shown = next(p for p in selectors.parties_of(user=request.auth, dispute=d).parties if p.id == party.pk)
    return Status(201, shown.__dict__)


@router.post("/parties/{party_id}/reveal", response=PartyRevealOut, summary="A party's phone and ID number (audited)")
def party_reveal(request: ApiRequest, party_id: Int64) -> Any:
    return services.reveal_party(actor=request.auth, party_id=party_id)


@router.get(
    "/{dispute_id}/sessions", response=list[MediationSessionOut], summary="Sessions (notes only for their circle)"
)
def session_list(request: ApiRequest, dispute_id: Int64) -> list[dict[str, Any]]:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    return [_session_out(v) for v in selectors.sessions_of(user=request.auth, dispute=d)]


@router.post("/{dispute_id}/sessions", response={201: MediationSessionOut}, summary="Record a mediation session")
def session_add(request: ApiRequest, dispute_id: Int64, payload: MediationSessionIn) -> Status[dict[str, Any]]:
    session = services.record_session(actor=request.auth, dispute_id=dispute_id, **payload.dict())
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    view = next(v for v in selectors.sessions_of(user=request.auth, dispute=d) if v.session.pk == session.pk)
    return Status(201, _session_out(view))


@router.get("/{dispute_id}/timeline", response=list[DisputeEventOut], summary="The dispute's timeline")
def timeline(request: ApiRequest, dispute_id: Int64) -> Any:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    return selectors.timeline_of(user=request.auth, dispute=d)


@router.get("/{dispute_id}/escalations", response=list[DisputeEscalationOut], summary="Its steps up the ladder")
def escalations(request: ApiRequest, dispute_id: Int64) -> Any:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    return selectors.escalations_of(user=request.auth, dispute=d)


@router.get(
    "/{dispute_id}/agreements", response=list[MediationAgreementOut], summary="Its agreements (the handling circle)"
)
def agreement_list(request: ApiRequest, dispute_id: Int64) -> Any:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    return selectors.agreements_of(user=request.auth, dispute=d)


@router.post(
    "/{dispute_id}/agreement", response=MediationAgreementOut, summary="Draft (or redraft, unsigned) the agreement"
)
def agreement_draft(request: ApiRequest, dispute_id: Int64, payload: MediationAgreementIn) -> Any:
    terms = [{"text": t.text, "how": t.how, "by": t.by.isoformat() if t.by else ""} for t in payload.terms]
    agreement = services.draft_agreement(
        actor=request.auth, dispute_id=dispute_id, terms=terms, facts=payload.facts,
        performance=payload.performance, committee=payload.committee, follow_up_days=payload.follow_up_days,
    )  # fmt: skip
    return selectors.agreement_get(user=request.auth, agreement_id=agreement.pk)


@router.get(
    "/agreements/{agreement_id}/docx",
    summary="The agreement as a Word document (人民调解协议书; contacts masked unless reveal)",
    openapi_extra=DOCX_RESPONSE,
)
def agreement_docx(request: ApiRequest, agreement_id: Int64, reveal: bool = False) -> HttpResponse:
    name, data = services.agreement_document(actor=request.auth, agreement_id=agreement_id, reveal=reveal)
    response = HttpResponse(data, content_type=document.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/{dispute_id}/follow-ups", response=list[DisputeFollowUpOut], summary="Its performance follow-ups")
def follow_up_list(request: ApiRequest, dispute_id: Int64) -> Any:
    d = selectors.dispute_get(user=request.auth, dispute_id=dispute_id)
    return selectors.follow_ups_of(user=request.auth, dispute=d).select_related("dispute")


@router.post("/{dispute_id}/follow-up", response=DisputeDetailOut, summary="Record the performance follow-up")
def follow_up_record(request: ApiRequest, dispute_id: Int64, payload: DisputeFollowUpIn) -> Any:
    services.record_follow_up(actor=request.auth, dispute_id=dispute_id, performance=payload.performance,
                              note=payload.note)  # fmt: skip
    return _detail(request.auth, dispute_id)


# --- police notices --------------------------------------------------------------------------------------------------


def _notice(user: "User", notice_id: int) -> Any:
    n: Any = selectors.notice_get(user=user, notice_id=notice_id)
    n.dispute_ids = list(selectors.notice_disputes(user=user, notice=n).values_list("pk", flat=True))
    return n


@notices_router.get(
    "", response=list[PoliceNoticeOut], summary="Police notices in scope (the grid's, or the station's own)"
)
@paginate(PageNumberPagination)
def notice_list(request: ApiRequest, filters: Query[PoliceNoticeFilters]) -> QuerySet[PoliceNotice]:
    return selectors.notice_list(user=request.auth, **filters.dict())


@notices_router.post("", response={201: PoliceNoticeOut}, summary="File a police notice (it lands with the grid)")
def notice_create(request: ApiRequest, payload: PoliceNoticeIn) -> Status[Any]:
    notice = services.file_police_notice(actor=request.auth, **payload.dict())
    return Status(201, _notice(request.auth, notice.pk))


@notices_router.get("/{notice_id}", response=PoliceNoticeOut, summary="A police notice, its status and feedback")
def notice_detail(request: ApiRequest, notice_id: Int64) -> Any:
    return _notice(request.auth, notice_id)


@notices_router.post("/{notice_id}/receive", response=PoliceNoticeOut, summary="The grid signs for it")
def notice_receive(request: ApiRequest, notice_id: Int64) -> Any:
    services.receive_police_notice(actor=request.auth, notice_id=notice_id)
    return _notice(request.auth, notice_id)


@notices_router.post("/{notice_id}/answer", response=PoliceNoticeOut, summary="The visit's result (the sender is told)")
def notice_answer(request: ApiRequest, notice_id: Int64, payload: PoliceNoticeAnswerIn) -> Any:
    data = payload.dict()
    data["parties"] = [_party_in(p) for p in payload.parties]
    services.answer_police_notice(actor=request.auth, notice_id=notice_id, **data)
    return _notice(request.auth, notice_id)


@notices_router.post("/{notice_id}/cancel", response=PoliceNoticeOut, summary="The sender cancels it")
def notice_cancel(request: ApiRequest, notice_id: Int64, payload: PoliceNoticeCancelIn) -> Any:
    services.cancel_police_notice(actor=request.auth, notice_id=notice_id, note=payload.note)
    return _notice(request.auth, notice_id)


@notices_router.post(
    "/{notice_id}/reveal", response=PoliceNoticeRevealOut, summary="The contact phone in full (audited)"
)
def notice_reveal(request: ApiRequest, notice_id: Int64) -> dict[str, str]:
    return {"people_phone": services.reveal_notice_phone(actor=request.auth, notice_id=notice_id)}
