"""Service-post pages (phone-first): the posts of my ground, publish a post, a post with its claims (claim, give
up, confirm service), my claims (record service), the claim rate with its drill-down, and the monthly report of
on-duty members to their home party organisation (page and XLSX).

Views hold no business logic: reads through ``service.selectors``, writes through ``service.services``; a
service's refusal is shown as a message on the page it came from.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import DomainError
from gongzhi.core.http import AuthedRequest, int_param, refused
from gongzhi.core.tabular import write_xlsx
from gongzhi.service import selectors, services
from gongzhi.service.choices import Eligibility
from gongzhi.territory.choices import NodeKind

PAGE_SIZE = 25
POST_PLACES = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@pages.page("service-posts")
def post_list(request: AuthedRequest) -> HttpResponse:
    """岗位: the posts of my ground (a party member: of their community), open ones first."""
    q = request.GET.get("q", "").strip()
    qs = selectors.post_list(user=request.user, q=q or None).order_by("-is_open", "-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "service/posts.html",
        {
            "page": page,
            "q": q,
            "may_publish": pages.allowed(request.user, "service-post-new"),
            "linked": selectors.person_linked(user=request.user),
        },
    )


@login_required
@pages.page("service-post-new")
def post_new(request: AuthedRequest) -> HttpResponse:
    places = selectors.offer_places(user=request.user, label="service.post", kinds=POST_PLACES)
    values: dict[str, Any] = {"capacity": 1, "eligibility": Eligibility.PARTY}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            post = services.publish_post(
                actor=request.user,
                kind_id=int_param(values.get("kind")) or 0,
                title=values.get("title", ""),
                area_id=int_param(values.get("area")) or 0,
                schedule=values.get("schedule", ""),
                capacity=int_param(values.get("capacity")) or 0,
                eligibility=values.get("eligibility", ""),
                description=values.get("description", ""),
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("The post is published."))
            return redirect("service-post", post.pk)
    return render(
        request,
        "service/post_new.html",
        {"kinds": selectors.kinds(), "places": places, "eligibility": Eligibility.choices, "values": values},
    )


@login_required
@pages.page("service-posts")
def post_detail(request: AuthedRequest, post_id: int) -> HttpResponse:
    post: Any = selectors.post_get(user=request.user, post_id=post_id)
    claims = list(selectors.post_claims(user=request.user, post=post))
    mine = next((c for c in claims if c.user_id == request.user.pk and c.status == "active"), None)
    return render(
        request,
        "service/post.html",
        {
            "post": post,
            "claims": claims,
            "mine": mine,
            "free": max(post.capacity - post.taken, 0),
            "manage": selectors.may_manage(user=request.user, post=post),
            "linked": selectors.person_linked(user=request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
@pages.page("service-posts")
def claim(request: AuthedRequest, post_id: int) -> HttpResponse:
    try:
        services.claim_post(actor=request.user, post_id=post_id)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("You claimed the post."))
    return redirect("service-post", post_id)


@login_required
@require_POST
@pages.page("service-posts")
def give_up(request: AuthedRequest, claim_id: int) -> HttpResponse:
    try:
        c = services.give_up(actor=request.user, claim_id=claim_id)
    except DomainError as exc:
        refused(request, exc)
        return redirect("service-mine")
    messages.success(request, _("You gave the post up."))
    return redirect("service-post", c.post_id)


@login_required
@require_POST
@pages.page("service-posts")
def serve(request: AuthedRequest, claim_id: int) -> HttpResponse:
    try:
        served_on = datetime.date.fromisoformat(request.POST.get("served_on", ""))
        hours = Decimal(request.POST.get("hours", ""))
    except (ValueError, InvalidOperation):
        messages.error(request, _("Give the date and the hours."))
        return redirect(request.POST.get("next") or reverse("service-mine"))
    try:
        services.record_service(
            actor=request.user, claim_id=claim_id, served_on=served_on, hours=hours, note=request.POST.get("note", "")
        )
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Your service is recorded; the post's owner confirms it."))
    return redirect(request.POST.get("next") or reverse("service-mine"))


@login_required
@require_POST
@pages.page("service-posts")
def confirm(request: AuthedRequest, service_id: int) -> HttpResponse:
    try:
        s = services.confirm_service(actor=request.user, service_id=service_id)
    except DomainError as exc:
        refused(request, exc)
        return redirect("service-posts")
    messages.success(request, _("The service is confirmed."))
    return redirect("service-post", s.claim.post_id)


@login_required
@pages.page("service-mine")
def mine(request: AuthedRequest) -> HttpResponse:
    """My claimed posts and the service I recorded, on the phone."""
    return render(
        request,
        "service/mine.html",
        {
            "claims": selectors.my_claims(user=request.user),
            "linked": selectors.person_linked(user=request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@pages.page("service-rate")
def rate(request: AuthedRequest) -> HttpResponse:
    """认领率 by community, home party organisation or unit; every number opens the members behind it."""
    dimension = request.GET.get("by", "community")
    if dimension not in selectors.DIMENSIONS:
        dimension = "community"
    return render(
        request,
        "service/rate.html",
        {
            "total": selectors.claim_rate(user=request.user),
            "rows": selectors.claim_rate_by(user=request.user, dimension=dimension),
            "by": dimension,
        },
    )


@login_required
@pages.page("service-rate")
def rate_members(request: AuthedRequest) -> HttpResponse:
    dimension = request.GET.get("by", "")
    claiming = {"1": True, "0": False}.get(request.GET.get("claiming", ""))
    qs = selectors.rate_members(
        user=request.user, dimension=dimension, key=request.GET.get("key", ""), claiming=claiming
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "service/rate_members.html", {"page": page, "claiming": claiming})


@login_required
@pages.page("service-report")
def report(request: AuthedRequest) -> HttpResponse:
    """在职党员回单位报告: each on-duty member's service in a month, by home party organisation; also as XLSX."""
    month = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    try:
        selectors.month_bounds(month)
    except ValueError:
        month = timezone.localdate().strftime("%Y-%m")
    branch_id = int_param(request.GET.get("branch"))
    rows = selectors.monthly_report(user=request.user, month=month, branch_id=branch_id)
    if request.GET.get("format") == "xlsx":
        headers = [
            _("Home party organisation"),
            _("Name"),
            _("Work unit"),
            _("Posts"),
            _("Times served"),
            _("Hours"),
            _("Confirmed hours"),
        ]
        body = [
            [
                r.member.branch.name if r.member.branch else "",
                r.member.person.name,
                r.member.work_unit.name if r.member.work_unit else "",
                r.posts,
                r.times,
                float(r.hours),
                float(r.confirmed_hours),
            ]
            for r in rows
        ]
        data = write_xlsx([(month, headers, body)])
        response = HttpResponse(data, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="service-report-{month}.xlsx"'
        return response
    return render(
        request,
        "service/report.html",
        {
            "rows": rows,
            "month": month,
            "branch_id": branch_id,
            "branches": selectors.report_branches(user=request.user),
        },
    )


# --- volunteers, teams, activities (志愿服务) ----------------------------------------------------------------------

TEAM_PLACES = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)


def _vrender(request: AuthedRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A volunteer page, with the tabs the user may open (activities, volunteers and teams, figures, mine)."""
    user = request.user
    context |= {
        "nav_volunteers": pages.allowed(user, "service-volunteers"),
        "nav_figures": pages.allowed(user, "service-volunteer-figures"),
        "nav_mine": pages.allowed(user, "service-volunteer-mine"),
    }
    return render(request, template, context)


def _year(request: AuthedRequest) -> int:
    year = int_param(request.GET.get("year"))
    return year if year and 2000 <= year <= 2100 else timezone.localdate().year


def _local_datetime(value: str) -> datetime.datetime | None:
    """A ``datetime-local`` input's value (local time) as an aware datetime."""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@pages.page("service-volunteers")
def volunteer_list(request: AuthedRequest) -> HttpResponse:
    """志愿者: the register of the volunteers of my ground, with this year's confirmed hours."""
    q = request.GET.get("q", "").strip()
    team_id = int_param(request.GET.get("team"))
    qs = selectors.volunteer_list(user=request.user, q=q or None, team_id=team_id)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _vrender(
        request,
        "service/volunteers.html",
        {
            "page": page,
            "q": q,
            "team_id": team_id,
            "teams": selectors.team_list(user=request.user),
            "year": timezone.localdate().year,
            "may_register": pages.allowed(request.user, "service-volunteer-new"),
        },
    )


@login_required
@pages.page("service-volunteer-new")
def volunteer_new(request: AuthedRequest) -> HttpResponse:
    """Register a resident of my ground as a volunteer: find them by name, choose a team, skills, availability."""
    values: dict[str, Any] = request.POST.dict() if request.method == "POST" else {}
    q = request.GET.get("q", "").strip()
    if request.method == "POST":
        try:
            volunteer = services.register_volunteer(
                actor=request.user,
                person_id=int_param(values.get("person")) or 0,
                team_id=int_param(values.get("team")),
                skills=values.get("skills", ""),
                availability=values.get("availability", ""),
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("volunteer", "The volunteer is registered."))
            return redirect("service-volunteer", volunteer.pk)
    return _vrender(
        request,
        "service/volunteer_new.html",
        {
            "q": q,
            "people": selectors.people_to_register(user=request.user, q=q),
            "teams": selectors.team_list(user=request.user),
            "values": values,
        },
    )


@login_required
@pages.page("service-volunteers")
def volunteer_detail(request: AuthedRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    return _vrender(
        request,
        "service/volunteer.html",
        {
            "volunteer": volunteer,
            "years": selectors.volunteer_years(volunteer=volunteer),
            "signups": selectors.volunteer_signups(user=request.user, volunteer=volunteer)[:50],
        },
    )


@login_required
@pages.page("service-volunteer-mine")
def volunteer_mine(request: AuthedRequest) -> HttpResponse:
    """My volunteering, on the phone: my hours per year (confirmed only), my sign-ups and the activities to join."""
    volunteer = selectors.my_volunteer(user=request.user)
    return _vrender(
        request,
        "service/volunteer_mine.html",
        {
            "volunteer": volunteer,
            "years": selectors.volunteer_years(volunteer=volunteer) if volunteer else [],
            "signups": selectors.my_signups(user=request.user)[:50],
            "upcoming": selectors.activity_list(user=request.user, upcoming=True).order_by("starts_at")[:20],
        },
    )


@login_required
@pages.page("service-teams")
def team_list(request: AuthedRequest) -> HttpResponse:
    """志愿服务队: the teams of my ground; staff set one up on a community or grid."""
    places = selectors.offer_places(user=request.user, label="service.volunteerteam", kinds=TEAM_PLACES)
    if request.method == "POST":
        try:
            services.create_team(
                actor=request.user,
                name=request.POST.get("name", ""),
                area_id=int_param(request.POST.get("area")) or 0,
                description=request.POST.get("description", ""),
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("volunteer", "The team is set up."))
            return redirect("service-teams")
    return _vrender(request, "service/teams.html", {"teams": selectors.team_list(user=request.user), "places": places})


@login_required
@pages.page("service-activities")
def activity_list(request: AuthedRequest) -> HttpResponse:
    """志愿活动: upcoming activities first; ``month`` and ``place`` filter them as the figures count them."""
    month = request.GET.get("month", "")
    try:
        if month:
            selectors.month_bounds(month)
    except ValueError:
        month = ""
    place = request.GET.get("place", "")
    qs = selectors.activity_list(user=request.user, place_code=place, month=month)
    qs = qs.order_by("starts_at", "pk") if month else qs.order_by("-starts_at", "-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _vrender(
        request,
        "service/activities.html",
        {
            "page": page,
            "month": month,
            "place": place,
            "total": qs.count(),
            "may_organise": pages.allowed(request.user, "service-activity-new"),
            "volunteer": selectors.my_volunteer(user=request.user),
            "now": timezone.now(),
        },
    )


@login_required
@pages.page("service-activity-new")
def activity_new(request: AuthedRequest) -> HttpResponse:
    places = selectors.offer_places(user=request.user, label="service.activity", kinds=TEAM_PLACES)
    values: dict[str, Any] = {"capacity": 10}
    if request.method == "POST":
        values = request.POST.dict()
        starts_at = _local_datetime(values.get("starts_at", ""))
        ends_at = _local_datetime(values.get("ends_at", ""))
        if starts_at is None or ends_at is None:
            messages.error(request, pgettext("volunteer", "Give the start and the end."))
        else:
            try:
                activity = services.create_activity(
                    actor=request.user,
                    title=values.get("title", ""),
                    area_id=int_param(values.get("area")) or 0,
                    venue=values.get("venue", ""),
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=int_param(values.get("capacity")) or 0,
                    team_id=int_param(values.get("team")),
                    description=values.get("description", ""),
                )
            except DomainError as exc:
                refused(request, exc)
            else:
                messages.success(request, pgettext("volunteer", "The activity is published."))
                return redirect("service-activity", activity.pk)
    return _vrender(
        request,
        "service/activity_new.html",
        {"places": places, "teams": selectors.team_list(user=request.user), "values": values},
    )


@login_required
@pages.page("service-activities")
def activity_detail(request: AuthedRequest, activity_id: int) -> HttpResponse:
    activity: Any = selectors.activity_get(user=request.user, activity_id=activity_id)
    organise = selectors.may_organise(user=request.user, activity=activity)
    signups = list(selectors.activity_signups(user=request.user, activity=activity))
    volunteer = selectors.my_volunteer(user=request.user)
    mine = next((s for s in signups if volunteer and s.volunteer_id == volunteer.pk and not s.cancelled_at), None)
    q = request.GET.get("q", "").strip()
    served = list(selectors.activity_served(user=request.user, activity=activity)) if organise else []
    alone = selectors.elderly_alone_ids([s.person_id for s in served])
    return _vrender(
        request,
        "service/activity.html",
        {
            "activity": activity,
            "organise": organise,
            "signups": signups,
            "mine": mine,
            "volunteer": volunteer,
            "free": max(activity.capacity - activity.taken, 0),
            "over": activity.ends_at <= timezone.now(),
            "served": served,
            "alone": alone,
            "q": q,
            "people": selectors.servable_people(user=request.user, activity=activity, q=q) if organise else [],
            "signable": selectors.signable_volunteers(user=request.user, activity=activity) if organise else [],
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
@pages.page("service-activities")
def activity_sign_up(request: AuthedRequest, activity_id: int) -> HttpResponse:
    try:
        volunteer_id = int_param(request.POST.get("volunteer"))
        services.sign_up(actor=request.user, activity_id=activity_id, volunteer_id=volunteer_id)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, pgettext("volunteer", "Signed up: see you there."))
    return redirect("service-activity", activity_id)


@login_required
@pages.page("service-activities")
def activity_qr(request: AuthedRequest, activity_id: int) -> HttpResponse:
    """The check-in QR code the organiser shows at the venue (on a screen or printed)."""
    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    if not selectors.may_organise(user=request.user, activity=activity):
        return redirect("service-activity", activity_id)
    url = request.build_absolute_uri(services.check_url(activity))
    return _vrender(request, "service/activity_qr.html", {"activity": activity, "check_url": url})


@login_required
@pages.page("service-activities")
def activity_check(request: AuthedRequest, activity_id: int, code: str) -> HttpResponse:
    """The page the venue's QR code opens on the volunteer's phone: one tap checks in, the next one out."""
    if request.method == "POST":
        try:
            checked = services.check_by_code(actor=request.user, activity_id=activity_id, code=code)
        except DomainError as exc:
            refused(request, exc)
        else:
            if checked.checked_out_at:
                messages.success(
                    request,
                    pgettext("volunteer", "Checked out: %(hours)s hours, to be confirmed by the organiser.")
                    % {"hours": checked.hours or 0},
                )
            else:
                messages.success(request, pgettext("volunteer", "Checked in. Scan again when you leave."))
        return redirect("service-activity-check", activity_id, code)
    volunteer = selectors.my_volunteer(user=request.user)
    signup = selectors.my_signups(user=request.user).filter(activity_id=activity_id, cancelled_at__isnull=True).first()
    return _vrender(
        request,
        "service/activity_check.html",
        {"signup": signup, "volunteer": volunteer, "activity_id": activity_id, "code": code},
    )


@login_required
@require_POST
@pages.page("service-activities")
def activity_served(request: AuthedRequest, activity_id: int) -> HttpResponse:
    try:
        served_on = datetime.date.fromisoformat(request.POST.get("served_on", ""))
    except ValueError:
        messages.error(request, pgettext("volunteer", "Give the date."))
        return redirect("service-activity", activity_id)
    try:
        services.record_served(
            actor=request.user,
            person_id=int_param(request.POST.get("person")) or 0,
            activity_id=activity_id,
            volunteer_id=int_param(request.POST.get("volunteer")),
            served_on=served_on,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, pgettext("volunteer", "The person served is recorded."))
    return redirect("service-activity", activity_id)


@login_required
@require_POST
@pages.page("service-activities")
def signup_action(request: AuthedRequest, signup_id: int, action: str) -> HttpResponse:
    """The organiser ticks a volunteer present (or not), corrects the hours, confirms them; a sign-up is cancelled."""
    back = request.POST.get("next") or reverse("service-activities")
    try:
        if action == "tick":
            services.tick_attendance(
                actor=request.user, signup_id=signup_id, present=request.POST.get("present") != "0"
            )
            done = pgettext("volunteer", "Attendance updated.")
        elif action == "hours":
            try:
                hours = Decimal(request.POST.get("hours", ""))
            except InvalidOperation:
                messages.error(request, pgettext("volunteer", "Give the hours."))
                return redirect(back)
            services.set_hours(actor=request.user, signup_id=signup_id, hours=hours)
            done = pgettext("volunteer", "The hours are saved.")
        elif action == "confirm":
            services.confirm_hours(actor=request.user, signup_id=signup_id)
            done = pgettext("volunteer", "The hours are confirmed.")
        elif action == "cancel":
            services.cancel_sign_up(actor=request.user, signup_id=signup_id)
            done = pgettext("volunteer", "The sign-up is cancelled.")
        else:
            return redirect(back)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, done)
    return redirect(back)


@login_required
@pages.page("service-volunteer-figures")
def volunteer_figures(request: AuthedRequest) -> HttpResponse:
    """Volunteer figures of a place in a year; each number opens the list behind it."""
    place = request.GET.get("place", "")
    year = _year(request)
    return _vrender(
        request,
        "service/volunteer_figures.html",
        {"figures": selectors.volunteer_figures(user=request.user, year=year, place_code=place), "place": place},
    )


@login_required
@pages.page("service-volunteer-figures")
def figure_volunteers(request: AuthedRequest) -> HttpResponse:
    place, year, party = request.GET.get("place", ""), _year(request), request.GET.get("party") == "1"
    rows = selectors.figure_volunteers(user=request.user, year=year, place_code=place, party=party)
    return _vrender(
        request,
        "service/figure_volunteers.html",
        {
            "rows": rows,
            "year": year,
            "party": party,
            "place": place,
            "hours": sum((r.hours for r in rows), Decimal("0")),
        },
    )


@login_required
@pages.page("service-volunteer-figures")
def figure_served(request: AuthedRequest) -> HttpResponse:
    place, year, alone = request.GET.get("place", ""), _year(request), request.GET.get("alone") == "1"
    qs = selectors.served_people(user=request.user, year=year, place_code=place, alone=alone)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _vrender(
        request,
        "service/figure_served.html",
        {
            "page": page,
            "year": year,
            "place": place,
            "alone": alone,
            "alone_ids": selectors.elderly_alone_ids([p.pk for p in page.object_list]),
        },
    )
