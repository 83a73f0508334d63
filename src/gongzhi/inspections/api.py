"""/api/v1/inspections: checklists, plans, rounds (submitted with an idempotency key), hazards, figures."""

from typing import Any

from django.db.models import QuerySet
from ninja import Router, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.idempotency import idempotent
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.inspections import selectors, services
from gongzhi.inspections.models import Checklist, Hazard, Plan, Round
from gongzhi.inspections.schemas import (
    ChecklistOut,
    FiguresOut,
    HazardMapOut,
    HazardOut,
    PlanIn,
    PlanOut,
    RecheckIn,
    RoundOut,
    SubmitIn,
    ToCaseIn,
)
from gongzhi.territory import selectors as territory

router = Router(tags=["inspections"])


@router.get("/checklists", response=list[ChecklistOut], summary="The checklists in scope, with their items")
@paginate(PageNumberPagination)
def checklists(request: ApiRequest) -> QuerySet[Checklist]:
    return selectors.checklist_list(user=request.auth)


@router.get("/plans", response=list[PlanOut])
@paginate(PageNumberPagination)
def plans(request: ApiRequest) -> QuerySet[Plan]:
    return selectors.plan_list(user=request.auth)


@router.post(
    "/plans", response={201: PlanOut}, summary="Plan rounds of every building of a kind (this period's at once)"
)
def plan_create(request: ApiRequest, payload: PlanIn) -> Status[Plan]:
    return Status(201, services.create_plan(actor=request.auth, **payload.dict()))


@router.get("/rounds", response=list[RoundOut], summary="Rounds in scope (mine: assigned to me or of my buildings)")
@paginate(PageNumberPagination)
def rounds(
    request: ApiRequest, mine: bool = False, todo: bool = False, building_id: Int64 | None = None
) -> QuerySet[Round]:
    return selectors.round_list(user=request.auth, mine=mine, todo=todo, building_id=building_id)


@router.get("/rounds/{round_id}", response=RoundOut)
def round_detail(request: ApiRequest, round_id: Int64) -> Any:
    return selectors.round_get(user=request.auth, round_id=round_id)


@router.post(
    "/rounds/{round_id}/submit",
    response=RoundOut,
    summary="Record a round's answers; failed items become hazards. Replays with the same key answer the same round.",
    description="The phone's idempotency key goes in the `Idempotency-Key` header (at most 64 characters; "
    "core.idempotency, as for a case report or a visit): the same person sending the same submission again gets the "
    "first answer back, unchanged (`Idempotent-Replayed: true`); the key with another submission is a 409 "
    "`idempotency_key_reused`. The key is kept on the round; `client_key` in the body is the older way to send it "
    "and answers a replay with the round the first submission recorded.",
)
@decorate_view(idempotent("inspections.round"))
def round_submit(request: ApiRequest, round_id: Int64, payload: SubmitIn) -> Any:
    data = payload.dict()
    key = data.pop("client_key") or request.headers.get("Idempotency-Key", "")
    done = services.submit_round(actor=request.auth, round_id=round_id, client_key=key, **data)
    return selectors.round_get(user=request.auth, round_id=done.pk)


@router.get("/hazards", response=list[HazardOut], summary="Hazards in scope (status open | closed; overdue=true)")
@paginate(PageNumberPagination)
def hazards(
    request: ApiRequest, status: str | None = None, building_id: Int64 | None = None, overdue: bool = False
) -> QuerySet[Hazard]:
    return selectors.hazard_list(user=request.auth, status=status, building_id=building_id, overdue=overdue)


@router.get("/hazards/map", response=HazardMapOut, summary="Open hazards in scope at their buildings, serious first")
def hazard_map(request: ApiRequest, within_id: Int64 | None = None) -> Any:
    within = territory.node_get(user=request.auth, node_id=within_id).code if within_id is not None else None
    return selectors.map_points(user=request.auth, within_code=within)


@router.get("/hazards/{hazard_id}", response=HazardOut)
def hazard_detail(request: ApiRequest, hazard_id: Int64) -> Any:
    return selectors.hazard_get(user=request.auth, hazard_id=hazard_id)


@router.post("/hazards/{hazard_id}/recheck", response=HazardOut, summary="Rectified closes it; not: escalates it")
def hazard_recheck(request: ApiRequest, hazard_id: Int64, payload: RecheckIn) -> Any:
    services.recheck_hazard(actor=request.auth, hazard_id=hazard_id, **payload.dict())
    return selectors.hazard_get(user=request.auth, hazard_id=hazard_id)


@router.post("/hazards/{hazard_id}/case", response=HazardOut, summary="Turn the hazard into a case (linked both ways)")
def hazard_case(request: ApiRequest, hazard_id: Int64, payload: ToCaseIn) -> Any:
    services.hazard_to_case(actor=request.auth, hazard_id=hazard_id, **payload.dict())
    return selectors.hazard_get(user=request.auth, hazard_id=hazard_id)


@router.get("/figures", response=FiguresOut, summary="A place's inspection figures for a month (YYYY-MM)")
def figures(request: ApiRequest, place_id: Int64, month: str | None = None) -> Any:
    place = territory.node_get(user=request.auth, node_id=place_id)
    period = selectors.month_period(month)
    shown = selectors.figures(user=request.auth, place=place, period=period)
    return {
        "place_id": place.pk,
        "month": period.label,
        "counts": shown.counts,
        "coverage": shown.coverage,
        "mean_days_to_rectify": shown.mean_days_to_rectify,
    }
