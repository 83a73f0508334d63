"""/api/v1/visits: campaigns with live coverage, visit records (need → case in one step), care plans."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from ninja import Router, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from gongzhi.core.http import ApiRequest
from gongzhi.core.idempotency import idempotent
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.visits import selectors, services
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit
from gongzhi.visits.schemas import (
    AssignIn,
    AssignOut,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CarePlanIn,
    CarePlanOut,
    CoverageOut,
    TargetOut,
    VisitIn,
    VisitOut,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

router = Router(tags=["visits"])


def _campaign_detail(user: "User", campaign_id: int) -> Any:
    campaign: Any = selectors.campaign_get(user=user, campaign_id=campaign_id)
    campaign.total = selectors.campaign_total(user=user, campaign=campaign)
    return campaign


@router.get("/campaigns", response=list[CampaignOut], summary="Visit campaigns in scope")
@paginate(PageNumberPagination)
def campaigns(request: ApiRequest, active: bool = False) -> QuerySet[Campaign]:
    return selectors.campaign_list(user=request.auth, active_only=active)


@router.post("/campaigns", response={201: CampaignDetailOut}, summary="Start a campaign over households by area/tags")
def campaign_create(request: ApiRequest, payload: CampaignIn) -> Status[Any]:
    campaign = services.create_campaign(actor=request.auth, **payload.dict())
    return Status(201, _campaign_detail(request.auth, campaign.pk))


@router.get("/campaigns/{campaign_id}", response=CampaignDetailOut)
def campaign_detail(request: ApiRequest, campaign_id: Int64) -> Any:
    return _campaign_detail(request.auth, campaign_id)


@router.get(
    "/campaigns/{campaign_id}/coverage",
    response=list[CoverageOut],
    summary="Live coverage per community, grid or building (of the targets you may see)",
)
def campaign_coverage(request: ApiRequest, campaign_id: Int64, by: str = "grid") -> Any:
    campaign = selectors.campaign_get(user=request.auth, campaign_id=campaign_id)
    return selectors.coverage(user=request.auth, campaign=campaign, by=by)


@router.get("/campaigns/{campaign_id}/targets", response=list[TargetOut])
@paginate(PageNumberPagination)
def campaign_targets(
    request: ApiRequest, campaign_id: Int64, mine: bool = False, uncovered: bool = False
) -> QuerySet[CampaignTarget]:
    campaign = selectors.campaign_get(user=request.auth, campaign_id=campaign_id)
    return selectors.campaign_targets(user=request.auth, campaign=campaign, mine=mine, uncovered=uncovered)


@router.post("/campaigns/{campaign_id}/assign", response=AssignOut, summary="Give a grid's targets to a worker")
def campaign_assign(request: ApiRequest, campaign_id: Int64, payload: AssignIn) -> Any:
    count = services.assign_targets(actor=request.auth, campaign_id=campaign_id, **payload.dict())
    return {"assigned": count}


@router.post("/campaigns/{campaign_id}/close", response=CampaignDetailOut)
def campaign_close(request: ApiRequest, campaign_id: Int64) -> Any:
    services.close_campaign(actor=request.auth, campaign_id=campaign_id)
    return _campaign_detail(request.auth, campaign_id)


@router.get("/care-plans", response=list[CarePlanOut], summary="Active care plans (overdue=true: visits overdue)")
@paginate(PageNumberPagination)
def care_plans(request: ApiRequest, overdue: bool = False, mine: bool = False) -> QuerySet[CarePlan]:
    return selectors.care_plan_list(user=request.auth, overdue_only=overdue, mine=mine)


@router.post("/care-plans", response={201: CarePlanOut}, summary="Plan recurring care visits for a person")
def care_plan_create(request: ApiRequest, payload: CarePlanIn) -> Status[CarePlan]:
    plan = services.create_care_plan(actor=request.auth, **payload.dict())
    return Status(201, selectors.care_plan_get(user=request.auth, care_plan_id=plan.pk))


@router.post("/care-plans/{care_plan_id}/end", response=CarePlanOut)
def care_plan_end(request: ApiRequest, care_plan_id: Int64) -> Any:
    services.end_care_plan(actor=request.auth, care_plan_id=care_plan_id)
    return selectors.care_plan_get(user=request.auth, care_plan_id=care_plan_id)


@router.get("", response=list[VisitOut], summary="Visit records in scope")
@paginate(PageNumberPagination)
def visits(
    request: ApiRequest,
    household_id: Int64 | None = None,
    campaign_id: Int64 | None = None,
    with_case: bool | None = None,
) -> QuerySet[Visit]:
    return selectors.visit_list(
        user=request.auth, household_id=household_id, campaign_id=campaign_id, with_case=with_case
    )


@router.post("", response={201: VisitOut}, summary="Record a visit; raise_case turns the need found into a case")
@decorate_view(idempotent("visits.record"))
def visit_create(request: ApiRequest, payload: VisitIn) -> Status[Visit]:
    visit = services.record_visit(actor=request.auth, **payload.dict())
    return Status(201, selectors.visit_get(user=request.auth, visit_id=visit.pk))


@router.get("/{visit_id}", response=VisitOut)
def visit_detail(request: ApiRequest, visit_id: Int64) -> Any:
    return selectors.visit_get(user=request.auth, visit_id=visit_id)
