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
from django.views.decorators.http import require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import DomainError
from gongzhi.core.http import AuthedRequest
from gongzhi.core.tabular import write_xlsx
from gongzhi.service import selectors, services
from gongzhi.service.choices import Eligibility
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

PAGE_SIZE = 25
POST_PLACES = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refused(request: AuthedRequest, exc: DomainError) -> None:
    details = "; ".join(str(d.message) for d in exc.details)
    messages.error(request, f"{exc.message} {details}".strip())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    places = territory.places_for(user=request.user, label="service.post", action="add", kinds=POST_PLACES)
    values: dict[str, Any] = {"capacity": 1, "eligibility": Eligibility.PARTY}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            post = services.publish_post(
                actor=request.user,
                kind_id=_int(values.get("kind")) or 0,
                title=values.get("title", ""),
                area_id=_int(values.get("area")) or 0,
                schedule=values.get("schedule", ""),
                capacity=_int(values.get("capacity")) or 0,
                eligibility=values.get("eligibility", ""),
                description=values.get("description", ""),
            )
        except DomainError as exc:
            _refused(request, exc)
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
        _refused(request, exc)
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
        _refused(request, exc)
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
        _refused(request, exc)
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
        _refused(request, exc)
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
    branch_id = _int(request.GET.get("branch"))
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
