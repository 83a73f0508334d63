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
from gongzhi.service.models import Post, Volunteer
from gongzhi.service.schemas import (
    ActivityIn,
    ActivityOut,
    CheckIn,
    ClaimIn,
    ClaimOut,
    HoursIn,
    PostIn,
    PostOut,
    RateOut,
    ServedIn,
    ServedOut,
    ServeIn,
    ServiceOut,
    SignUpIn,
    SignUpOut,
    TeamIn,
    TeamOut,
    TickIn,
    VolunteerFiguresOut,
    VolunteerIn,
    VolunteerOut,
    YearTotalOut,
)

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


# --- volunteers (志愿服务) ----------------------------------------------------------------------------------------


@router.get("/teams", response=list[TeamOut], summary="Volunteer teams in scope")
def team_list(request: ApiRequest) -> Any:
    return selectors.team_list(user=request.auth)


@router.post("/teams", response={201: TeamOut}, summary="Set up a volunteer team on a community or grid")
def team_create(request: ApiRequest, payload: TeamIn) -> Status[Any]:
    team = services.create_team(actor=request.auth, **payload.dict())
    return Status(201, selectors.team_get(user=request.auth, team_id=team.pk))


@router.get("/volunteers", response=list[VolunteerOut], summary="Volunteers in scope, with this year's confirmed hours")
@paginate(PageNumberPagination)
def volunteer_list(request: ApiRequest, q: str | None = None, team_id: int | None = None) -> QuerySet[Volunteer]:
    return selectors.volunteer_list(user=request.auth, q=q, team_id=team_id)


@router.post("/volunteers", response={201: VolunteerOut}, summary="Register a resident as a volunteer")
def volunteer_register(request: ApiRequest, payload: VolunteerIn) -> Status[Any]:
    volunteer = services.register_volunteer(actor=request.auth, **payload.dict())
    return Status(201, selectors.volunteer_get(user=request.auth, volunteer_id=volunteer.pk))


@router.get("/volunteers/{volunteer_id}", response=VolunteerOut, summary="A volunteer")
def volunteer_detail(request: ApiRequest, volunteer_id: Int64) -> Any:
    return selectors.volunteer_get(user=request.auth, volunteer_id=volunteer_id)


@router.get("/volunteers/{volunteer_id}/years", response=list[YearTotalOut], summary="Confirmed hours per year")
def volunteer_years(request: ApiRequest, volunteer_id: Int64) -> Any:
    return selectors.volunteer_years(volunteer=selectors.volunteer_get(user=request.auth, volunteer_id=volunteer_id))


@router.get("/activities", response=list[ActivityOut], summary="Volunteer activities in scope, newest first")
@paginate(PageNumberPagination)
def activity_list(request: ApiRequest, month: str = "", place: str = "", upcoming: bool = False) -> Any:
    if month:
        try:
            selectors.month_bounds(month)
        except ValueError:
            raise ValidationFailed(_("Give the month as YYYY-MM.")) from None
    qs = selectors.activity_list(user=request.auth, month=month, place_code=place, upcoming=upcoming)
    return qs.order_by("-starts_at", "-pk")


@router.post("/activities", response={201: ActivityOut}, summary="Organise a volunteer activity")
def activity_create(request: ApiRequest, payload: ActivityIn) -> Status[Any]:
    activity = services.create_activity(actor=request.auth, **payload.dict())
    return Status(201, selectors.activity_get(user=request.auth, activity_id=activity.pk))


@router.get("/activities/{activity_id}", response=ActivityOut, summary="A volunteer activity")
def activity_detail(request: ApiRequest, activity_id: Int64) -> Any:
    return selectors.activity_get(user=request.auth, activity_id=activity_id)


@router.get("/activities/{activity_id}/sign-ups", response=list[SignUpOut], summary="Its sign-ups I may see")
def activity_signups(request: ApiRequest, activity_id: Int64) -> Any:
    activity = selectors.activity_get(user=request.auth, activity_id=activity_id)
    return selectors.activity_signups(user=request.auth, activity=activity)


@router.post(
    "/activities/{activity_id}/sign-ups",
    response={201: SignUpOut},
    summary="Sign up (oneself, or the organiser for a volunteer); 409 when every place is taken",
)
def activity_sign_up(request: ApiRequest, activity_id: Int64, payload: SignUpIn) -> Status[Any]:
    signup = services.sign_up(actor=request.auth, activity_id=activity_id, volunteer_id=payload.volunteer_id)
    return Status(201, signup)


@router.post("/activities/{activity_id}/check", response=SignUpOut, summary="Check in (then out) with the venue's QR")
def activity_check(request: ApiRequest, activity_id: Int64, payload: CheckIn) -> Any:
    return services.check_by_code(actor=request.auth, activity_id=activity_id, code=payload.code)


@router.post("/activities/{activity_id}/served", response={201: ServedOut}, summary="Record a person served")
def activity_served(request: ApiRequest, activity_id: Int64, payload: ServedIn) -> Status[Any]:
    served = services.record_served(actor=request.auth, activity_id=activity_id, **payload.dict())
    return Status(201, served)


@router.post("/sign-ups/{signup_id}/tick", response=SignUpOut, summary="The organiser ticks a volunteer present")
def signup_tick(request: ApiRequest, signup_id: Int64, payload: TickIn) -> Any:
    return services.tick_attendance(actor=request.auth, signup_id=signup_id, present=payload.present)


@router.post("/sign-ups/{signup_id}/hours", response=SignUpOut, summary="The organiser corrects the hours")
def signup_hours(request: ApiRequest, signup_id: Int64, payload: HoursIn) -> Any:
    return services.set_hours(actor=request.auth, signup_id=signup_id, hours=payload.hours)


@router.post("/sign-ups/{signup_id}/confirm", response=SignUpOut, summary="The organiser confirms the hours")
def signup_confirm(request: ApiRequest, signup_id: Int64) -> Any:
    return services.confirm_hours(actor=request.auth, signup_id=signup_id)


@router.post("/sign-ups/{signup_id}/cancel", response=SignUpOut, summary="Cancel a sign-up")
def signup_cancel(request: ApiRequest, signup_id: Int64) -> Any:
    return services.cancel_sign_up(actor=request.auth, signup_id=signup_id)


@router.get("/volunteer-figures", response=VolunteerFiguresOut, summary="Volunteer figures of a place in a year")
def volunteer_figures(request: ApiRequest, year: int, place: str = "") -> Any:
    f = selectors.volunteer_figures(user=request.auth, year=year, place_code=place)
    return {
        "year": f.year,
        "active_volunteers": f.active,
        "hours": f.hours,
        "hours_per_volunteer": f.hours_per_volunteer,
        "party_members": f.members_active,
        "party_member_hours": f.member_hours,
        "hours_per_party_member": f.hours_per_member,
        "people_served": f.served,
        "elderly_alone_served": f.served_alone,
        "activities_per_month": [{"month": m, "activities": n} for m, n in f.months],
    }
