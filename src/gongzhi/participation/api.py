"""Participation API (三张清单): needs, resources, suggested matches, claims, projects, a unit's year, figures."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from ninja import Router, Status
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.participation import selectors, services
from gongzhi.participation.models import Need, Project, Resource, Wish
from gongzhi.participation.schemas import (
    AcceptIn,
    CategoryOut,
    ClaimIn,
    ConfirmIn,
    ContactOut,
    ContributionOut,
    FiguresOut,
    MilestoneIn,
    MilestoneOut,
    NeedFromCaseIn,
    NeedIn,
    NeedOut,
    ProgressIn,
    ProjectDetailOut,
    ProjectOut,
    ReportOut,
    ResourceIn,
    ResourceOut,
    SuggestionOut,
    WishIn,
    WishOut,
)
from gongzhi.territory import selectors as territory

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

router = Router(tags=["participation"])


def _place(user: "User", place_id: int | None) -> Any:
    return territory.node_get(user=user, node_id=place_id) if place_id is not None else None


def _suggestion(item: selectors.Suggested) -> dict[str, Any]:
    s = item.suggestion
    return {
        "need_id": s.need_id,
        "resource_id": s.resource_id,
        "score": s.score,
        "parts": s.parts,
        "distance_m": s.distance_m,
        "similar_done": s.similar_done,
        "reasons": [str(r) for r in s.reasons],
        "explanation": str(s.explanation),
        "resource": item.resource,
        "need": item.need,
    }


def _project_detail(user: "User", project_id: int) -> Any:
    project: Any = selectors.project_get(user=user, project_id=project_id)
    project.milestones_list = selectors.milestones(user=user, project=project)
    project.reports_list = selectors.reports(user=user, project=project)
    return project


@router.get("/categories", response=list[CategoryOut], summary="Need categories (助老, 儿童课后, 无障碍 …)")
def category_list(request: ApiRequest) -> Any:
    return selectors.categories()


# --- needs ------------------------------------------------------------------------------------------------------------


@router.get("/needs", response=list[NeedOut], summary="The needs list (需求清单) in scope, newest first")
@paginate(PageNumberPagination)
def need_list(
    request: ApiRequest,
    place_id: Int64 | None = None,
    status: str | None = None,
    category_id: Int64 | None = None,
    q: str | None = None,
) -> QuerySet[Need]:
    place = _place(request.auth, place_id)
    return selectors.need_list(user=request.auth, place=place, status=status, category_id=category_id, q=q)


@router.post("/needs", response={201: NeedOut}, summary="List a need on a community, grid or building")
def need_create(request: ApiRequest, payload: NeedIn) -> Status[Any]:
    need = services.create_need(actor=request.auth, **payload.dict())
    return Status(201, selectors.need_get(user=request.auth, need_id=need.pk))


@router.post("/needs/from-case", response={201: NeedOut}, summary="Turn a case into a need (the case linked)")
def need_from_case(request: ApiRequest, payload: NeedFromCaseIn) -> Status[Any]:
    need = services.need_from_case(actor=request.auth, **payload.dict())
    return Status(201, selectors.need_get(user=request.auth, need_id=need.pk))


@router.get("/needs/{need_id}", response=NeedOut, summary="A need")
def need_detail(request: ApiRequest, need_id: Int64) -> Any:
    return selectors.need_get(user=request.auth, need_id=need_id)


@router.get(
    "/needs/{need_id}/suggestions",
    response=list[SuggestionOut],
    summary="The resources that could serve a need, best first, each explained",
)
def need_suggestions(request: ApiRequest, need_id: Int64) -> Any:
    need = selectors.need_get(user=request.auth, need_id=need_id)
    return [_suggestion(s) for s in selectors.need_suggestions(user=request.auth, need=need)]


@router.post(
    "/needs/{need_id}/confirm",
    response={201: ProjectOut},
    summary="Staff confirm a resource for a need: the match and its project",
    description="409 `conflict` when the need is already taken or the resource has no capacity left.",
)
def need_confirm(request: ApiRequest, need_id: Int64, payload: ConfirmIn) -> Status[Any]:
    project = services.confirm_match(actor=request.auth, need_id=need_id, resource_id=payload.resource_id)
    return Status(201, selectors.project_get(user=request.auth, project_id=project.pk))


@router.post(
    "/needs/{need_id}/claim",
    response={201: ProjectOut},
    summary="A unit claims a need (认领): the match and its project",
    description="Of two units claiming at once one wins; the other gets 409 `conflict` naming the winner.",
)
def need_claim(request: ApiRequest, need_id: Int64, payload: ClaimIn) -> Status[Any]:
    project = services.claim_need(actor=request.auth, need_id=need_id, **payload.dict())
    return Status(201, selectors.project_get(user=request.auth, project_id=project.pk))


@router.post("/needs/{need_id}/withdraw", response=NeedOut, summary="Withdraw an open need")
def need_withdraw(request: ApiRequest, need_id: Int64) -> Any:
    services.withdraw_need(actor=request.auth, need_id=need_id)
    return selectors.need_get(user=request.auth, need_id=need_id)


# --- resources ------------------------------------------------------------------------------------------------------


@router.get("/resources", response=list[ResourceOut], summary="The resources list (资源清单) in scope")
@paginate(PageNumberPagination)
def resource_list(
    request: ApiRequest,
    place_id: Int64 | None = None,
    unit_id: Int64 | None = None,
    kind: str | None = None,
    category_id: Int64 | None = None,
    q: str | None = None,
    available: bool = False,
) -> QuerySet[Resource]:
    place = _place(request.auth, place_id)
    return selectors.resource_list(
        user=request.auth, place=place, unit_id=unit_id, kind=kind, category_id=category_id, q=q, available=available
    )


@router.post("/resources", response={201: ResourceOut}, summary="Publish a resource a unit offers")
def resource_create(request: ApiRequest, payload: ResourceIn) -> Status[Any]:
    res = services.create_resource(actor=request.auth, **payload.dict())
    return Status(201, selectors.resource_get(user=request.auth, resource_id=res.pk))


@router.get("/resources/{resource_id}", response=ResourceOut, summary="A resource (contact phone masked)")
def resource_detail(request: ApiRequest, resource_id: Int64) -> Any:
    return selectors.resource_get(user=request.auth, resource_id=resource_id)


@router.get(
    "/resources/{resource_id}/suggestions",
    response=list[SuggestionOut],
    summary="The open needs a resource could serve, best first, each explained",
)
def resource_suggestions(request: ApiRequest, resource_id: Int64) -> Any:
    res = selectors.resource_get(user=request.auth, resource_id=resource_id)
    return [_suggestion(s) for s in selectors.resource_suggestions(user=request.auth, resource=res)]


@router.post("/resources/{resource_id}/reveal", response=ContactOut, summary="The contact phone in full (audited)")
def resource_reveal(request: ApiRequest, resource_id: Int64) -> Any:
    return {"contact_phone": services.reveal_contact(actor=request.auth, resource_id=resource_id)}


# --- projects -------------------------------------------------------------------------------------------------------


@router.get("/projects", response=list[ProjectOut], summary="The projects list (项目清单) in scope")
@paginate(PageNumberPagination)
def project_list(
    request: ApiRequest,
    place_id: Int64 | None = None,
    state: str | None = None,
    unit_id: Int64 | None = None,
    year: int | None = None,
    reached: bool = False,
) -> QuerySet[Project]:
    place = _place(request.auth, place_id)
    return selectors.project_list(
        user=request.auth, place=place, state=state, unit_id=unit_id, year=year, reached=reached
    )


@router.get("/projects/{project_id}", response=ProjectDetailOut, summary="A project with milestones and reports")
def project_detail(request: ApiRequest, project_id: Int64) -> Any:
    return _project_detail(request.auth, project_id)


@router.post(
    "/projects/{project_id}/progress",
    response={201: ReportOut},
    summary="Report progress (100 % reports completion)",
)
def project_progress(request: ApiRequest, project_id: Int64, payload: ProgressIn) -> Status[Any]:
    report = services.report_progress(actor=request.auth, project_id=project_id, **payload.dict())
    return Status(201, report)


@router.post("/projects/{project_id}/milestones", response={201: MilestoneOut}, summary="Add a milestone")
def project_milestone(request: ApiRequest, project_id: Int64, payload: MilestoneIn) -> Status[Any]:
    return Status(201, services.add_milestone(actor=request.auth, project_id=project_id, **payload.dict()))


@router.post(
    "/projects/{project_id}/accept",
    response=ProjectOut,
    summary="The community confirms completion, with residents' satisfaction; the need closes",
)
def project_accept(request: ApiRequest, project_id: Int64, payload: AcceptIn) -> Any:
    services.accept_project(actor=request.auth, project_id=project_id, **payload.dict())
    return selectors.project_get(user=request.auth, project_id=project_id)


@router.post("/projects/{project_id}/cancel", response=ProjectOut, summary="Call a project off (the need reopens)")
def project_cancel(request: ApiRequest, project_id: Int64) -> Any:
    services.cancel_project(actor=request.auth, project_id=project_id)
    return selectors.project_get(user=request.auth, project_id=project_id)


# --- units and figures ----------------------------------------------------------------------------------------------


@router.get(
    "/units/{unit_id}/contribution",
    response=ContributionOut,
    summary="A unit's year: projects, hours, funds, people served",
)
def unit_contribution(request: ApiRequest, unit_id: Int64, year: int | None = None) -> Any:
    unit = selectors.unit_get(user=request.auth, unit_id=unit_id)
    c = selectors.contribution(user=request.auth, unit=unit, year=year or selectors.this_year())
    return {
        "unit": {"id": unit.pk, "name": unit.name},
        "year": c.year,
        "projects": c.projects,
        "by_state": c.by_state,
        "hours": c.hours,
        "funds": c.funds,
        "people_served": c.people_served,
    }


@router.get(
    "/figures",
    response=FiguresOut,
    summary="A place's figures: needs open/matched/closed, projects by state, people reached, units' contributions",
)
def figures(request: ApiRequest, place_id: Int64) -> Any:
    place = territory.node_get(user=request.auth, node_id=place_id)
    data = selectors.figures(user=request.auth, place=place)
    return {
        "place": {"id": place.pk, "name": place.name},
        "figures": [{"key": f.key, "value": f.value, "drill": f.drill} for f in data["figures"]],
        "units": data["units"],
    }


# --- micro-wishes (微心愿) -------------------------------------------------------------------------------------------


@router.get("/wishes", response=list[WishOut], summary="The micro-wishes (微心愿) in scope")
@paginate(PageNumberPagination)
def wish_list(
    request: ApiRequest,
    place_id: Int64 | None = None,
    state: str | None = None,
    stage: str | None = None,
    claimant_kind: str | None = None,
    mine: bool = False,
) -> QuerySet[Wish]:
    place = _place(request.auth, place_id)
    return selectors.wish_list(
        user=request.auth, place=place, state=state, stage=stage, claimant_kind=claimant_kind, mine=mine
    )


@router.post("/wishes", response={201: WishOut}, summary="Record a resident's wish, with consent (grid worker)")
def wish_create(request: ApiRequest, payload: WishIn) -> Status[Any]:
    wish = services.record_wish(actor=request.auth, **payload.dict())
    return Status(201, selectors.wish_get(user=request.auth, wish_id=wish.pk))


@router.get("/wishes/{wish_id}", response=WishOut, summary="A micro-wish")
def wish_detail(request: ApiRequest, wish_id: Int64) -> Any:
    return selectors.wish_get(user=request.auth, wish_id=wish_id)


@router.post(
    "/wishes/{wish_id}/claim",
    response=WishOut,
    summary="Claim a wish (点亮心愿): a party member, volunteer or co-building unit",
    description="Of two claimants at once one wins; the other gets 409 `conflict`.",
)
def wish_claim(request: ApiRequest, wish_id: Int64) -> Any:
    services.claim_wish(actor=request.auth, wish_id=wish_id)
    return selectors.wish_get(user=request.auth, wish_id=wish_id)


@router.post("/wishes/{wish_id}/give-up", response=WishOut, summary="Give a claim up: the wish is back on the wall")
def wish_give_up(request: ApiRequest, wish_id: Int64) -> Any:
    services.give_up_wish(actor=request.auth, wish_id=wish_id)
    return selectors.wish_get(user=request.auth, wish_id=wish_id)


@router.post("/wishes/{wish_id}/confirm", response=WishOut, summary="Confirm with the resident: the wish is lit")
def wish_confirm(request: ApiRequest, wish_id: Int64) -> Any:
    services.confirm_wish(actor=request.auth, wish_id=wish_id)
    return selectors.wish_get(user=request.auth, wish_id=wish_id)
