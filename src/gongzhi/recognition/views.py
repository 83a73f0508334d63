"""Recognition pages (评选): the campaigns over my ground, set one up, a campaign's page (candidates, the stage's
actions, the panel's reviews and decisions, the fraud signals), nominate; the public pages without an account (a
campaign open to voting, on the phone: sign in or verify a phone by SMS code, then vote; the published results with
their citations); and the fragment the registry's household and person pages load (past recognition).

Views hold no business logic: reads through ``recognition.selectors``, writes through ``recognition.services``.
"""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.core import throttle
from gongzhi.core.errors import DomainError, ErrorDetail, ValidationFailed
from gongzhi.core.http import AuthedRequest, client_ip, date_param, int_param, moment_param, refused
from gongzhi.recognition import selectors, services
from gongzhi.recognition.choices import Flag, NominationStatus, Stage, Subject
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

PAGE_SIZE = 20
DEVICE_COOKIE = "gz_device"
SESSION_TOKENS = "recognition_phone_tokens"




def _unreadable(field: str, *, moment: bool) -> ValidationFailed:
    if moment:
        message = pgettext("recognition", "Give a date and time, such as 2026-12-31 18:00.")
    else:
        message = pgettext("recognition", "Give a date, such as 2026-12-31.")
    return ValidationFailed(message, [ErrorDetail(field=field, message=message)])


def _when(value: str | None, field: str = "closes_at") -> datetime.datetime | None:
    """A moment typed in a form (``datetime-local``): ``None`` when left empty, refused by ``field`` when unreadable
    (not a date and time, or one that does not exist: 2026-02-30)."""
    if not value:
        return None
    parsed = moment_param(value)
    if parsed is None:
        raise _unreadable(field, moment=True)
    return parsed


def _day(value: str | None, field: str) -> datetime.date | None:
    """A day typed in a form, as :func:`_when`."""
    if not value:
        return None
    parsed = date_param(value)
    if parsed is None:
        raise _unreadable(field, moment=False)
    return parsed


def _criteria(text: str) -> list[dict[str, Any]]:
    """One criterion a line: "name" or "name|max score"."""
    rows = []
    for line in (text or "").splitlines():
        name, _sep, score = line.partition("|")
        if name.strip():
            rows.append({"name": name.strip(), "max_score": score.strip() or None})
    return rows


@login_required
@pages.page("recognition-campaigns")
def campaign_list(request: AuthedRequest) -> HttpResponse:
    qs = selectors.campaign_list(user=request.user).order_by("-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "recognition/campaigns.html",
        {"page": page, "may_create": pages.allowed(request.user, "recognition-campaign-new")},
    )


@login_required
@pages.page("recognition-campaign-new")
def campaign_new(request: AuthedRequest) -> HttpResponse:
    places = territory.places_for(
        user=request.user,
        label="recognition.campaign",
        action="add",
        kinds=(NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE),
    )
    values: dict[str, Any] = {"quota": 10, "subject": Subject.HOUSEHOLD}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            campaign = services.create_campaign(
                actor=request.user,
                title=values.get("title", ""),
                subject=values.get("subject", ""),
                area_id=int_param(values.get("area")) or 0,
                criteria=_criteria(values.get("criteria", "")),
                quota=int_param(values.get("quota")) or 0,
                public_voting=values.get("public_voting") == "on",
                description=values.get("description", ""),
                nominations_open=_when(values.get("nominations_open"), "nominations_open"),
                nominations_close=_when(values.get("nominations_close"), "nominations_close"),
                voting_open=_when(values.get("voting_open"), "voting_open"),
                voting_close=_when(values.get("voting_close"), "voting_close"),
                review_by=_day(values.get("review_by"), "review_by"),
                phone_prefixes=values.get("phone_prefixes", ""),
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("recognition", "The campaign is set up."))
            return redirect("recognition-campaign", campaign.pk)
    return render(
        request,
        "recognition/campaign_new.html",
        {"places": places, "subjects": Subject.choices, "values": values},
    )


@login_required
@pages.page("recognition-campaigns")
def campaign_detail(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    manage = selectors.may_manage(user=request.user, campaign=campaign)
    on_panel = selectors.is_panel_member(user=request.user, campaign=campaign)
    rows: list[Any] = list(selectors.nominations(user=request.user, campaign=campaign))
    reviews = selectors.my_reviews(user=request.user, campaign=campaign) if on_panel else {}
    for row in rows:
        row.my_review = reviews.get(row.pk)
        row.mean = selectors.average(getattr(row, "mean_score", None))
    flags = selectors.flag_counts(user=request.user, campaign=campaign) if (manage or on_panel) else {}
    return render(
        request,
        "recognition/campaign.html",
        {
            "campaign": campaign,
            "rows": rows,
            "manage": manage,
            "on_panel": on_panel,
            "panel": list(selectors.panel(user=request.user, campaign=campaign)),
            "panel_choices": selectors.panel_choices(user=request.user, campaign=campaign) if manage else [],
            "flags": [(Flag(k).label, v) for k, v in sorted(flags.items())],
            "flag_labels": {f.value: f.label for f in Flag},
            "may_nominate": campaign.stage == Stage.NOMINATING
            and not request.user.scope_for("recognition.nomination", "add").is_empty,
            "Stage": Stage,
            "Status": NominationStatus,
        },
    )


def _back(campaign_id: int) -> HttpResponse:
    return redirect("recognition-campaign", campaign_id)


@login_required
@pages.page("recognition-campaigns")
@require_POST
def campaign_act(request: AuthedRequest, campaign_id: int, action: str) -> HttpResponse:
    """A stage step (open voting, open review, publish) or naming the panel."""
    try:
        if action == "open-voting":
            services.open_voting(
                actor=request.user, campaign_id=campaign_id, closes_at=_when(request.POST.get("closes_at"))
            )
            messages.success(request, pgettext("recognition", "Voting is open."))
        elif action == "open-review":
            services.open_review(actor=request.user, campaign_id=campaign_id)
            messages.success(request, pgettext("recognition", "The panel review is open; the panel is told."))
        elif action == "publish":
            services.publish(actor=request.user, campaign_id=campaign_id)
            messages.success(request, pgettext("recognition", "The results are published."))
        elif action == "panel":
            ids = [i for i in (int_param(v) for v in request.POST.getlist("panel")) if i]
            services.set_panel(actor=request.user, campaign_id=campaign_id, user_ids=ids)
            messages.success(request, pgettext("recognition", "The panel is saved."))
        else:
            raise Http404
    except DomainError as exc:
        refused(request, exc)
    return _back(campaign_id)


@login_required
@pages.page("recognition-campaigns")
@require_POST
def nomination_act(request: AuthedRequest, nomination_id: int, action: str) -> HttpResponse:
    """Accept, withdraw, review (panel) or decide (award with a citation, or not)."""
    nomination = selectors.nomination_get(user=request.user, nomination_id=nomination_id)
    try:
        if action == "accept":
            services.accept(actor=request.user, nomination_id=nomination_id)
        elif action == "withdraw":
            services.withdraw(actor=request.user, nomination_id=nomination_id)
        elif action == "review":
            raw = (request.POST.get("score") or "").strip()
            try:
                score = Decimal(raw) if raw else None
            except InvalidOperation:
                score = Decimal(-1)
            services.review(
                actor=request.user,
                nomination_id=nomination_id,
                approve=request.POST.get("approve") == "yes",
                score=score,
                comment=request.POST.get("comment", ""),
            )
        elif action == "decide":
            services.decide(
                actor=request.user,
                nomination_id=nomination_id,
                award=request.POST.get("award") == "yes",
                citation=request.POST.get("citation", ""),
            )
        else:
            raise Http404
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, pgettext("recognition", "Saved."))
    return _back(nomination.campaign_id)


@login_required
@pages.page("recognition-campaigns")
@require_http_methods(["GET", "POST"])
def nominate(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    q = request.GET.get("q", "").strip()
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = request.POST.dict()
        reasons = {name: request.POST.get(f"reason-{i}", "") for i, name in enumerate(campaign.criterion_names())}
        try:
            services.nominate(
                actor=request.user,
                campaign_id=campaign.pk,
                household_id=int_param(values.get("household")),
                person_id=int_param(values.get("person")),
                person_name=values.get("person_name", ""),
                reasons=reasons,
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("recognition", "The nomination is in."))
            return redirect("recognition-campaign", campaign.pk)
    people = []
    if campaign.subject == Subject.PERSON:
        people = selectors.nominee_people(user=request.user, campaign=campaign, q=q)
    households = [] if people else selectors.nominee_households(user=request.user, campaign=campaign, q=q)
    return render(
        request,
        "recognition/nominate.html",
        {
            "campaign": campaign,
            "criteria": list(enumerate(campaign.criterion_names())),
            "households": households,
            "people": people,
            "q": q,
            "values": values,
        },
    )


# --- the registry pages' fragment ------------------------------------------------------------------------------------


@login_required
@require_GET
def household_fragment(request: AuthedRequest, household_id: int) -> HttpResponse:
    awards = selectors.household_awards(user=request.user, household_id=household_id)
    return render(request, "recognition/_awards.html", {"awards": awards, "dom_id": "household-recognition"})


@login_required
@require_GET
def person_fragment(request: AuthedRequest, person_id: int) -> HttpResponse:
    awards = selectors.person_awards(user=request.user, person_id=person_id)
    return render(request, "recognition/_awards.html", {"awards": awards, "dom_id": "person-recognition"})


# --- public (no account) ---------------------------------------------------------------------------------------------


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "recognition/public/too_many.html",
        {"error": pgettext("recognition", "Too many requests. Please try again later.")},
        status=429,
    )


def _public_or_404(campaign_id: int) -> Any:
    campaign = selectors.public_campaign(campaign_id=campaign_id)
    if campaign is None:
        raise Http404
    return campaign


def _tokens(request: HttpRequest) -> dict[str, str]:
    tokens: dict[str, str] = request.session.get(SESSION_TOKENS, {})
    return tokens


def _device(request: HttpRequest) -> str:
    return (request.COOKIES.get(DEVICE_COOKIE) or "")[:64]


def _with_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_hex(16),
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    if not throttle.hit_request(request, "public_vote"):
        return _too_many(request)
    return render(request, "recognition/public/index.html", {"campaigns": selectors.public_campaigns()[:50]})


@require_http_methods(["GET", "POST"])
def public_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The phone page of a campaign open to voting: the candidates with their reasons; sign in or verify a phone by
    an SMS code, then one vote per candidate."""
    if not throttle.hit_request(request, "public_vote"):
        return _too_many(request)
    campaign = _public_or_404(campaign_id)
    if campaign.stage == Stage.PUBLISHED:
        return redirect("recognition-public-results", campaign.pk)
    tokens = _tokens(request)
    verified = str(campaign.pk) in tokens
    phone = ""
    code_sent = False
    if request.method == "POST":
        step = request.POST.get("step", "")
        phone = request.POST.get("phone", "").strip()
        try:
            if step == "send":
                if not throttle.hit_request(request, "public_code"):
                    return _too_many(request)
                services.send_phone_code(campaign_id=campaign.pk, phone=phone)
                code_sent = True
                messages.info(request, pgettext("recognition", "A code was sent to your phone."))
            elif step == "verify":
                check = services.verify_phone(campaign_id=campaign.pk, phone=phone, code=request.POST.get("code", ""))
                tokens[str(campaign.pk)] = str(getattr(check, "token", ""))
                request.session[SESSION_TOKENS] = tokens
                verified = True
                messages.success(request, pgettext("recognition", "Your phone is verified: you may vote."))
            elif step == "vote":
                user = request.user if request.user.is_authenticated else None
                services.cast_vote(
                    campaign_id=campaign.pk,
                    nomination_id=int_param(request.POST.get("candidate")) or 0,
                    user=user,
                    phone_token=None if user else tokens.get(str(campaign.pk)),
                    ip=client_ip(request),
                    device=_device(request),
                )
                messages.success(request, pgettext("recognition", "Thank you: your vote is counted."))
                return _with_device(request, redirect("recognition-public", campaign.pk))
        except DomainError as exc:
            refused(request, exc)
            code_sent = step in ("send", "verify")
    voted = selectors.my_votes(user=request.user, campaign=campaign)
    response = render(
        request,
        "recognition/public/campaign.html",
        {
            "campaign": campaign,
            "candidates": selectors.public_candidates(campaign=campaign),
            "voting": campaign.stage == Stage.VOTING,
            "may_vote": request.user.is_authenticated or verified,
            "verified": verified,
            "voted": voted,
            "phone": phone,
            "code_sent": code_sent,
        },
    )
    return _with_device(request, response)


@require_GET
def public_results(request: HttpRequest, campaign_id: int) -> HttpResponse:
    if not throttle.hit_request(request, "public_vote"):
        return _too_many(request)
    campaign = _public_or_404(campaign_id)
    if campaign.stage != Stage.PUBLISHED:
        raise Http404
    return render(
        request,
        "recognition/public/results.html",
        {"campaign": campaign, "winners": selectors.public_candidates(campaign=campaign, awarded_only=True)},
    )
