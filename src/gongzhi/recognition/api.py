"""Recognition API (评选): campaigns of my ground, their panel, nominations (accept, withdraw), voting (signed in, or
a phone verified by an SMS code: no token needed for the public endpoints), the panel's reviews and decisions,
publication and the published results."""

from typing import Any

from django.db.models import QuerySet
from ninja import Router, Status
from ninja.pagination import paginate

from gongzhi.core.errors import NotFound
from gongzhi.core.http import ApiRequest, client_ip
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.core.throttle import SharedRateThrottle
from gongzhi.recognition import selectors, services
from gongzhi.recognition.models import Campaign
from gongzhi.recognition.schemas import (
    CampaignIn,
    CampaignOut,
    DecisionIn,
    NominationIn,
    NominationOut,
    PanelIn,
    PhoneCheckOut,
    PhoneCodeIn,
    PhoneIn,
    PhoneVerifiedOut,
    PublicVoteIn,
    ResultOut,
    ReviewIn,
    ReviewOut,
    VoteIn,
    VoteOut,
)

router = Router(tags=["recognition"])


@router.get("/campaigns", response=list[CampaignOut], summary="Recognition campaigns over my ground")
@paginate(PageNumberPagination)
def campaign_list(request: ApiRequest, stage: str | None = None) -> QuerySet[Campaign]:
    return selectors.campaign_list(user=request.auth, stage=stage)


@router.post("/campaigns", response={201: CampaignOut}, summary="Set a campaign up (criteria, periods, panel)")
def campaign_create(request: ApiRequest, payload: CampaignIn) -> Status[Any]:
    data = payload.dict()
    data["criteria"] = [dict(c) for c in data["criteria"]]
    campaign = services.create_campaign(actor=request.auth, **data)
    return Status(201, selectors.campaign_get(user=request.auth, campaign_id=campaign.pk))


@router.get("/campaigns/{campaign_id}", response=CampaignOut, summary="A campaign")
def campaign_detail(request: ApiRequest, campaign_id: Int64) -> Any:
    return selectors.campaign_get(user=request.auth, campaign_id=campaign_id)


@router.put("/campaigns/{campaign_id}/panel", response=list[int], summary="Name the review panel")
def campaign_panel(request: ApiRequest, campaign_id: Int64, payload: PanelIn) -> Any:
    return [
        m.user_id for m in services.set_panel(actor=request.auth, campaign_id=campaign_id, user_ids=payload.user_ids)
    ]


@router.post("/campaigns/{campaign_id}/open-voting", response=CampaignOut, summary="Open the public vote")
def campaign_open_voting(request: ApiRequest, campaign_id: Int64) -> Any:
    services.open_voting(actor=request.auth, campaign_id=campaign_id)
    return selectors.campaign_get(user=request.auth, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/open-review", response=CampaignOut, summary="Hand the candidates to the panel")
def campaign_open_review(request: ApiRequest, campaign_id: Int64) -> Any:
    services.open_review(actor=request.auth, campaign_id=campaign_id)
    return selectors.campaign_get(user=request.auth, campaign_id=campaign_id)


@router.post("/campaigns/{campaign_id}/publish", response=CampaignOut, summary="Publish the results")
def campaign_publish(request: ApiRequest, campaign_id: Int64) -> Any:
    services.publish(actor=request.auth, campaign_id=campaign_id)
    return selectors.campaign_get(user=request.auth, campaign_id=campaign_id)


@router.get("/campaigns/{campaign_id}/nominations", response=list[NominationOut], summary="Nominations I may see")
def nomination_list(request: ApiRequest, campaign_id: Int64, status: str | None = None) -> Any:
    campaign = selectors.campaign_get(user=request.auth, campaign_id=campaign_id)
    return selectors.nominations(user=request.auth, campaign=campaign, status=status)


@router.post("/campaigns/{campaign_id}/nominations", response={201: NominationOut}, summary="Nominate")
def nomination_create(request: ApiRequest, campaign_id: Int64, payload: NominationIn) -> Status[Any]:
    nomination = services.nominate(actor=request.auth, campaign_id=campaign_id, **payload.dict())
    return Status(201, selectors.nomination_get(user=request.auth, nomination_id=nomination.pk))


@router.post("/nominations/{nomination_id}/accept", response=NominationOut, summary="Accept into the candidate list")
def nomination_accept(request: ApiRequest, nomination_id: Int64) -> Any:
    services.accept(actor=request.auth, nomination_id=nomination_id)
    return selectors.nomination_get(user=request.auth, nomination_id=nomination_id)


@router.post("/nominations/{nomination_id}/withdraw", response=NominationOut, summary="Withdraw a nomination")
def nomination_withdraw(request: ApiRequest, nomination_id: Int64) -> Any:
    services.withdraw(actor=request.auth, nomination_id=nomination_id)
    return selectors.nomination_get(user=request.auth, nomination_id=nomination_id)


@router.put("/nominations/{nomination_id}/review", response=ReviewOut, summary="A panel member's review")
def nomination_review(request: ApiRequest, nomination_id: Int64, payload: ReviewIn) -> Any:
    return services.review(actor=request.auth, nomination_id=nomination_id, **payload.dict())


@router.post("/nominations/{nomination_id}/decision", response=NominationOut, summary="The panel's decision")
def nomination_decide(request: ApiRequest, nomination_id: Int64, payload: DecisionIn) -> Any:
    services.decide(actor=request.auth, nomination_id=nomination_id, **payload.dict())
    return selectors.nomination_get(user=request.auth, nomination_id=nomination_id)


@router.post(
    "/campaigns/{campaign_id}/candidates/{nomination_id}/vote",
    response={201: VoteOut},
    summary="Vote for a candidate, signed in (409 when already voted for it)",
)
def vote(request: ApiRequest, campaign_id: Int64, nomination_id: Int64, payload: VoteIn) -> Status[Any]:
    row = services.cast_vote(
        campaign_id=campaign_id,
        nomination_id=nomination_id,
        user=request.auth,
        ip=client_ip(request),
        device=payload.device,
    )
    return Status(201, row)


public_router = Router(tags=["recognition"], auth=None)


@public_router.post(
    "/campaigns/{campaign_id}/phone-code",
    response={201: PhoneCheckOut},
    throttle=[SharedRateThrottle("public_code")],
    summary="Send a 6-digit code by SMS to a visitor's phone (no account)",
)
def phone_code(request: ApiRequest, campaign_id: Int64, payload: PhoneIn) -> Status[Any]:
    return Status(201, services.send_phone_code(campaign_id=campaign_id, phone=payload.phone))


@public_router.post(
    "/campaigns/{campaign_id}/phone-verify",
    response=PhoneVerifiedOut,
    throttle=[SharedRateThrottle("public_code")],
    summary="Check the code; the answer's token votes for 12 hours",
)
def phone_verify(request: ApiRequest, campaign_id: Int64, payload: PhoneCodeIn) -> Any:
    return services.verify_phone(campaign_id=campaign_id, phone=payload.phone, code=payload.code)


@public_router.post(
    "/campaigns/{campaign_id}/candidates/{nomination_id}/vote",
    response={201: VoteOut},
    throttle=[SharedRateThrottle("public_vote")],
    summary="A phone-verified visitor votes for a candidate (409 when already voted for it)",
)
def public_vote(request: ApiRequest, campaign_id: Int64, nomination_id: Int64, payload: PublicVoteIn) -> Status[Any]:
    row = services.cast_vote(
        campaign_id=campaign_id,
        nomination_id=nomination_id,
        phone_token=payload.phone_token,
        ip=client_ip(request),
        device=payload.device,
    )
    return Status(201, row)


@public_router.get(
    "/campaigns/{campaign_id}/results",
    response=list[ResultOut],
    throttle=[SharedRateThrottle("public_vote")],
    summary="A campaign's published results with their citations",
)
def public_results(request: ApiRequest, campaign_id: Int64) -> Any:
    campaign = selectors.public_campaign(campaign_id=campaign_id)
    if campaign is None or campaign.stage != "published":
        raise NotFound()
    return selectors.public_candidates(campaign=campaign, awarded_only=True)
