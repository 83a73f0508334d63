from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Query, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.pagination import paginate

from gongzhi.accounts.schemas import RevealOut
from gongzhi.cases import hotline, selectors, services, tracking, workflow
from gongzhi.cases.models import Attachment, Case, HotlineImport
from gongzhi.cases.schemas import (
    CASE_OUT_COLUMNS,
    ActionIn,
    AttachmentOut,
    BatchDispatchIn,
    CaseDetailOut,
    CaseFilters,
    CaseIn,
    CaseLeftOut,
    CaseOut,
    CasePinsOut,
    CategoryConfirmIn,
    CategoryOut,
    EventOut,
    HandoverIn,
    HotlineImportOut,
    HotlineJobOut,
    PublicCaseIn,
    PublicCaseOut,
    PublicReportOut,
    RateIn,
    SimilarOut,
)
from gongzhi.core.errors import ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.http import ApiRequest
from gongzhi.core.idempotency import idempotent
from gongzhi.core.pagination import DeferredJoinPagination
from gongzhi.core.schemas import Float, Int64
from gongzhi.core.throttle import SharedRateThrottle
from gongzhi.territory.coords import parse_bbox

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

router = Router(tags=["cases"])


def _detail(user: "User", case: Any) -> Any:
    case.allowed_actions = [t.action for t in workflow.allowed_actions(user, case)]
    return case


@router.get("/categories", response=list[CategoryOut], summary="The case taxonomy (部件/事件, 大类/小类)")
def categories(request: ApiRequest, q: str = "") -> Any:
    """Every active class; with ``q``, the classes one picks that a search-box text finds (by name, plain word,
    major class or code — the report form's search)."""
    return selectors.search_categories(q[:100]) if q.strip() else selectors.active_categories()


@router.get("", response=list[CaseOut], summary="Cases in scope, filtered")
@paginate(DeferredJoinPagination, only=CASE_OUT_COLUMNS)
def case_list(request: ApiRequest, filters: Query[CaseFilters]) -> QuerySet[Case]:
    return selectors.case_list(user=request.auth, **filters.dict())


@router.post("", response={201: CaseDetailOut}, summary="Take a case in")
@decorate_view(idempotent("cases.report"))
def case_create(request: ApiRequest, payload: CaseIn) -> Status[Case]:
    case = services.report_case(actor=request.auth, **payload.dict())
    if case.reporter_user_id != request.auth.pk:  # pragma: no cover - a signed-in reporter always sees their case
        case = selectors.case_get(user=request.auth, case_id=case.pk)
    # The case as just written, with its category, place and owner loaded: its reporter sees it (the case's scope
    # rule admits the reporter), so reading it back through the scope would only repeat what is in hand.
    return Status(201, _detail(request.auth, case))


@router.get(
    "/todo",
    response=list[CaseOut],
    summary="My to-do: mine and my ground's open cases, overdue first",
    description="20 cases a page (a phone's list; `page_size` up to 500).",
)
@paginate(DeferredJoinPagination, only=CASE_OUT_COLUMNS, page_size=20)
def todo(request: ApiRequest) -> QuerySet[Case]:
    return selectors.todo(user=request.auth)


@router.get("/similar", response=list[SimilarOut], summary="Open cases like a new report (duplicate check)")
def similar(
    request: ApiRequest,
    category_id: Int64,
    lat: Float | None = None,
    lng: Float | None = None,
    text: str = "",
    node_id: Int64 | None = None,
) -> Any:
    pairs = selectors.similar_open_cases(
        user=request.auth, category_id=category_id, lat=lat, lng=lng, text=text, node_id=node_id
    )
    return [{"case": c, "score": s} for c, s in pairs]


@router.get(
    "/map",
    response=CasePinsOut,
    summary="Open cases in scope as map pins (WGS-84), overdue and urgent first, bounded",
    description="Under `within_id` (404 out of scope) and inside `bbox` (south,west,north,east); at most 2,000 "
    "pins (`total` says how many matched).",
)
def case_map(request: ApiRequest, within_id: Int64 | None = None, bbox: str = "") -> Any:
    items, total, truncated = selectors.case_pins(user=request.auth, within_id=within_id, bbox=parse_bbox(bbox))
    return {"items": items, "total": total, "truncated": truncated}


@router.post(
    "/hotline/import",
    response={200: HotlineImportOut, 202: HotlineJobOut},
    summary="Import a 12345 hotline export (CSV or XLSX); idempotent on the ticket number",
)
def hotline_import(request: ApiRequest, file: File[UploadedFile], mapping: Form[str] = "") -> Any:
    """``mapping`` is an optional JSON object of our field names to the file's column headers.

    A file of up to 5,000 rows is imported at once: 200 with the result. A bigger one is queued as a background job:
    202 with the job; follow it at ``GET /hotline/imports/{id}`` until its ``status`` is ``done`` or ``failed``."""
    outcome = hotline.import_upload(actor=request.auth, upload=file, mapping_json=mapping)
    if isinstance(outcome, HotlineImport):
        return Status(202, outcome)
    return Status(200, outcome)


@router.get("/hotline/imports/{job_id}", response=HotlineJobOut, summary="A background 12345 import: progress, outcome")
def hotline_job(request: ApiRequest, job_id: Int64) -> Any:
    """A job whose worker died (no heartbeat for 5 minutes) is ``failed`` with a ``message`` saying so; importing the
    same file again is safe (tickets already in are skipped)."""
    return hotline.job_for(user=request.auth, job_id=job_id)


@router.post("/dispatch", response=list[CaseOut], summary="Dispatch several cases to one body (all or nothing)")
def dispatch_batch(request: ApiRequest, payload: BatchDispatchIn) -> Any:
    """The desk's batch dispatch: each case through the workflow (its own timeline event and audit record). If any
    case cannot be dispatched, none is: 400 with one detail per refused case (``field`` ``case_ids``, ``row`` its
    position in ``case_ids``, ``message`` naming the case and why; a case out of scope is named by its id only)."""
    return services.dispatch_many(
        actor=request.auth,
        case_ids=payload.case_ids,
        handler_body_id=payload.handler_body_id,
        handler_node_id=payload.handler_node_id,
        note=payload.note,
        reply=payload.reply,
        phone_handoff_note=payload.phone_handoff_note,
    )


@router.get("/{case_id}", response=CaseDetailOut)
def case_detail(request: ApiRequest, case_id: Int64) -> Any:
    return _detail(request.auth, selectors.case_get(user=request.auth, case_id=case_id))


@router.get("/{case_id}/timeline", response=list[EventOut], summary="The case's timeline")
def case_timeline(request: ApiRequest, case_id: Int64) -> Any:
    case = selectors.case_get(user=request.auth, case_id=case_id)
    return selectors.timeline(user=request.auth, case=case)


@router.post(
    "/{case_id}/actions/{action}", response=CaseDetailOut | CaseLeftOut, summary="Take a workflow action"
)
def case_action(request: ApiRequest, case_id: Int64, action: str, payload: ActionIn) -> Any:
    """The case as it is after the action. An action can take the case out of the actor's view (a department
    handler who returns it): the action is saved and the answer is the little they may still know — number, status
    and a message (``visible: false``) — not a 404.

    Dispatching to a body nobody can act for (no active user holds a role for it that acts on cases) is refused with
    a 400 naming ``phone_handoff_note``: say whom you phoned there, and the hand-off goes on the timeline.

    ``acknowledge_start`` (签收并开始处置) acknowledges a dispatched case and starts work in one go: two transitions in
    one transaction, each on the timeline and in the audit log. The note is internal unless ``reply`` is true."""
    data = payload.dict(exclude={"note", "public", "reply"})
    case = workflow.perform(
        actor=request.auth,
        case_id=case_id,
        action=action,
        note=payload.note,
        public=payload.public,
        reply=payload.reply,
        payload={k: v for k, v in data.items() if v is not None},
    )
    try:
        return _detail(request.auth, selectors.case_get(user=request.auth, case_id=case_id))
    except NotFound:
        return _left(case)


def _left(case: Case) -> dict[str, Any]:
    """What an actor who lost sight of a case by their own action may still know of it."""
    label = str(case.get_status_display())
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "status_label": label,
        "visible": False,
        "message": _("Case %(number)s is now “%(status)s” and no longer on your list.")
        % {"number": case.number, "status": label},
    }


@router.post("/{case_id}/attachments", response={201: list[AttachmentOut]}, summary="Upload photos")
@decorate_view(idempotent("cases.attach"))
def case_attach(
    request: ApiRequest, case_id: Int64, files: File[list[UploadedFile]], note: str = ""
) -> Status[list[Attachment]]:
    return Status(201, services.add_attachments(actor=request.auth, case_id=case_id, files=list(files), note=note))


@router.post("/{case_id}/handover", response=CaseDetailOut, summary="Hand the case to another person (首问负责)")
def case_handover(request: ApiRequest, case_id: Int64, payload: HandoverIn) -> Any:
    services.hand_over(actor=request.auth, case_id=case_id, to_user_id=payload.to_user_id, note=payload.note)
    return _detail(request.auth, selectors.case_get(user=request.auth, case_id=case_id))


@router.post(
    "/{case_id}/category", response=CaseDetailOut, summary="Set the category (a 12345 ticket's category to confirm)"
)
def case_category(request: ApiRequest, case_id: Int64, payload: CategoryConfirmIn) -> Any:
    """The desk sets the category of a case — above all of a 12345 ticket whose category matched none of ours
    (``category_unconfirmed``: list them with ``?category_unconfirmed=true``); the flag is cleared."""
    services.confirm_category(actor=request.auth, case_id=case_id, category_id=payload.category_id, note=payload.note)
    return _detail(request.auth, selectors.case_get(user=request.auth, case_id=case_id))


@router.post("/{case_id}/reveal", response=RevealOut, summary="Reveal the reporter's phone (audited)")
def case_reveal(request: ApiRequest, case_id: Int64) -> Any:
    return {"field": "reporter_phone", "value": services.reveal_reporter_phone(actor=request.auth, case_id=case_id)}


@router.get("/{case_id}/similar", response=list[SimilarOut], summary="Possible duplicates of this case")
def case_similar(request: ApiRequest, case_id: Int64) -> Any:
    case = selectors.case_get(user=request.auth, case_id=case_id)
    pairs = selectors.similar_open_cases(
        user=request.auth,
        category_id=case.category_id,
        lat=case.lat,
        lng=case.lng,
        text=f"{case.title} {case.description}",
        node_id=case.node_id,
        exclude_id=case.pk,
        now=case.reported_at,
    )
    return [{"case": c, "score": s} for c, s in pairs]


public_router = Router(tags=["public"], auth=None)


def _public(case: Case) -> dict[str, Any]:
    return {
        "number": case.number,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "title": case.title,
        "category": str(case.category),
        "reported_at": case.reported_at,
        "merged_into_number": case.merged_into.number if case.merged_into is not None else None,
        "rating": case.rating,
        "timeline": selectors.timeline(user=None, case=case.merged_into or case, public_only=True),
    }


@public_router.post(
    "/report",
    response={201: PublicReportOut},
    throttle=[SharedRateThrottle("public_report")],
    summary="A resident reports a problem (no account); the answer carries the tracking code",
)
def public_report(request: ApiRequest, payload: PublicCaseIn) -> Status[dict[str, Any]]:
    case = services.report_case(actor=None, channel="resident", **payload.dict())
    return Status(201, {**_public(case), "tracking_code": tracking.display(case.tracking_code)})


def _tracked(request: ApiRequest, code: str, number: str, phone: str) -> Any:
    if not code.strip() and not number.strip():
        raise ValidationFailed(
            _("Give the tracking code, or the case number and phone."),
            [ErrorDetail(field="code", message=_("the tracking code, or number and phone"))],
        )
    case = tracking.find(request, code=code, number=number, phone=phone)
    if case is None:
        raise NotFound(_("No case with this tracking code (or number and phone)."))
    return case


@public_router.get(
    "/track",
    response=PublicCaseOut,
    throttle=[SharedRateThrottle("public_track")],
    summary="Follow a case by its tracking code (phone optional), or by number and phone",
)
def public_track(request: ApiRequest, code: str = "", number: str = "", phone: str = "") -> Any:
    return _public(_tracked(request, code, number, phone))


@public_router.post(
    "/rate",
    response=PublicCaseOut,
    throttle=[SharedRateThrottle("public_rate")],
    summary="Rate a closed case (满意度评价) by its tracking code, or number and phone",
)
def public_rate(request: ApiRequest, payload: RateIn) -> Any:
    case = _tracked(request, payload.code, payload.number, payload.phone)
    workflow.perform_resident_rating(case=case, rating=payload.rating, resolved=payload.resolved, note=payload.note)
    case.refresh_from_db()
    return _public(case)
