"""Service posts API: posts of my ground, publish, claim (409 when the last place was just taken), give up, record
service, the owner's confirmation, and the claim rate by community, home party organisation or unit."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status
from ninja.pagination import paginate

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.http import ApiRequest
from gongzhi.core.messages import fmt
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.service import selectors, services
from gongzhi.service.models import Post
from gongzhi.service.schemas import ClaimIn, ClaimOut, PostIn, PostOut, RateOut, ServeIn, ServiceOut

router = Router(tags=["service"])


@router.get("/posts", response=list[PostOut], summary="Service posts in scope, newest first")
@paginate(PageNumberPagination)
def post_list(request: ApiRequest, q: str | None = None, open_only: bool = False) -> QuerySet[Post]:
    return selectors.post_list(user=request.auth, q=q, open_only=open_only)


@router.post("/posts", response={201: PostOut}, summary="Publish a post on a community, grid or building")
def post_publish(request: ApiRequest, payload: PostIn) -> Status[Any]:
    post = services.publish_post(actor=request.auth, **payload.dict())
    return Status(201, selectors.post_get(user=request.auth, post_id=post.pk))


@router.get("/posts/{post_id}", response=PostOut, summary="A post with its places taken")
def post_detail(request: ApiRequest, post_id: Int64) -> Any:
    return selectors.post_get(user=request.auth, post_id=post_id)


@router.get("/posts/{post_id}/claims", response=list[ClaimOut], summary="A post's claims I may see")
def post_claims(request: ApiRequest, post_id: Int64) -> Any:
    return selectors.post_claims(user=request.auth, post=selectors.post_get(user=request.auth, post_id=post_id))


@router.post(
    "/posts/{post_id}/claim",
    response={201: ClaimOut},
    summary="Claim a place of the post (409 when every place is taken)",
)
def post_claim(request: ApiRequest, post_id: Int64, payload: ClaimIn) -> Status[Any]:
    claim = services.claim_post(actor=request.auth, post_id=post_id, person_id=payload.person_id)
    return Status(201, selectors.claim_get(user=request.auth, claim_id=claim.pk))


@router.post("/claims/{claim_id}/give-up", response=ClaimOut, summary="Give a claimed post up")
def claim_give_up(request: ApiRequest, claim_id: Int64) -> Any:
    services.give_up(actor=request.auth, claim_id=claim_id)
    return selectors.claim_get(user=request.auth, claim_id=claim_id)


@router.post("/claims/{claim_id}/services", response={201: ServiceOut}, summary="Record one time I served")
def claim_serve(request: ApiRequest, claim_id: Int64, payload: ServeIn) -> Status[Any]:
    service = services.record_service(actor=request.auth, claim_id=claim_id, **payload.dict())
    return Status(201, service)


@router.post("/services/{service_id}/confirm", response=ServiceOut, summary="The post's owner confirms a service")
def service_confirm(request: ApiRequest, service_id: Int64) -> Any:
    return services.confirm_service(actor=request.auth, service_id=service_id)


@router.get(
    "/claim-rate",
    response=list[RateOut],
    summary="Claim rate (认领率) of reported-in party members by community, branch or unit",
)
def claim_rate(request: ApiRequest, by: str = "community") -> Any:
    if by not in selectors.DIMENSIONS:
        raise ValidationFailed(fmt(_("Group by one of: %(choices)s."), choices=", ".join(selectors.DIMENSIONS)))
    return selectors.claim_rate_by(user=request.auth, dimension=by)
