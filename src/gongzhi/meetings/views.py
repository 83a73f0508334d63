"""Meeting pages: the desk (meetings of my ground, plan one, a meeting with its agenda, attendance and QR code,
quorum, minutes and decisions; the standing meetings and their rota; the figures and their records), the phone
(topics: propose and support; sign in with the QR code), a decision (its staff and those told of it), and the
public record of a community (no account).

Views hold no business logic: reads through ``meetings.selectors``, writes through ``meetings.services``."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from gongzhi.accounts import pages
from gongzhi.cases import selectors as cases_selectors
from gongzhi.core import throttle
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.http import AuthedRequest, date_param, int_param, moment_param, refused
from gongzhi.meetings import selectors, services
from gongzhi.meetings.choices import DecisionStatus, ItemSource, MeetingStatus, Track
from gongzhi.participation import selectors as participation_selectors
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

PAGE_SIZE = 25
MEETING_PLACES = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)




def _period(request: HttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    return date_param(request.GET.get("start")), date_param(request.GET.get("end"))


@login_required
@pages.page("meetings-list")
def meeting_list(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    qs = selectors.meeting_list(user=request.user, q=q or None, status=status or None).order_by("-starts_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    communities = [n for n in territory.places_for(user=request.user, label="meetings.meeting", action="view",
                                                    kinds=(NodeKind.COMMUNITY, NodeKind.VILLAGE))]  # fmt: skip
    return render(
        request,
        "meetings/list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": MeetingStatus.choices,
            "may_plan": pages.allowed(request.user, "meetings-new"),
            "communities": communities,
            "tasks": selectors.my_tasks(user=request.user),
        },
    )


@login_required
@pages.page("meetings-new")
def meeting_new(request: AuthedRequest) -> HttpResponse:
    places = territory.places_for(user=request.user, label="meetings.meeting", action="add", kinds=MEETING_PLACES)
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = request.POST.dict()
        starts_at = moment_param(values.get("starts_at"))
        if starts_at is None:
            messages.error(request, pgettext("meetings", "Say when the meeting starts."))
        else:
            try:
                meeting = services.plan_meeting(
                    actor=request.user,
                    kind_id=int_param(values.get("kind")) or 0,
                    title=values.get("title", ""),
                    place_id=int_param(values.get("place")) or 0,
                    starts_at=starts_at,
                    location=values.get("location", ""),
                    notice=values.get("notice", ""),
                )
            except DomainError as exc:
                refused(request, exc)
            else:
                messages.success(request, pgettext("meetings", "The meeting is planned."))
                return redirect("meetings-detail", meeting.pk)
    return render(request, "meetings/new.html", {"kinds": selectors.kinds(), "places": places, "values": values})


@login_required
@pages.page("meetings-list")
def meeting_detail(request: AuthedRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.meeting_get(user=request.user, meeting_id=meeting_id)
    run = selectors.may_run(user=request.user, meeting=meeting)
    token_url = ""
    if run and meeting.status != MeetingStatus.CANCELLED:
        token_url = request.build_absolute_uri(reverse("meetings-sign-in", args=[services.sign_in_token(meeting)]))
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "run": run,
            "items": selectors.items(user=request.user, meeting=meeting),
            "attendance": selectors.attendance(user=request.user, meeting=meeting),
            "decisions": selectors.decisions(user=request.user, meeting=meeting),
            "quorum": services.quorum(meeting),
            "topics": selectors.topics_for(user=request.user, meeting=meeting) if run else [],
            "cases": selectors.open_cases_for(user=request.user, meeting=meeting) if run else [],
            "needs": selectors.needs_for(user=request.user, meeting=meeting) if run else [],
            "categories": [c for c in cases_selectors.active_categories() if c.parent_id is not None][:200],
            "need_categories": participation_selectors.categories(),
            "bodies": list(territory.body_list(user=request.user)[:200]) if run else [],
            "owners": selectors.owners_for(user=request.user, meeting=meeting) if run else [],
            "token_url": token_url,
            "today": timezone.localdate(),
            "sources": ItemSource,
        },
    )


def _back(meeting_id: int) -> HttpResponse:
    return redirect("meetings-detail", meeting_id)


@login_required
@require_POST
@pages.page("meetings-list")
def meeting_action(request: AuthedRequest, meeting_id: int, action: str) -> HttpResponse:
    """The desk's buttons on a meeting: add to the agenda, tick, minutes, hold, cancel, decide, track a decision."""
    p = request.POST
    try:
        if action == "item":
            source = p.get("source", ItemSource.OTHER)
            services.add_item(
                actor=request.user, meeting_id=meeting_id, source=source, title=p.get("title", ""),
                topic_id=int_param(p.get("topic")), case_id=int_param(p.get("case")), need_id=int_param(p.get("need")),
            )  # fmt: skip
        elif action == "tick":
            services.tick(
                actor=request.user, meeting_id=meeting_id, present=p.get("present", "1") == "1",
                attendance_id=int_param(p.get("attendance")), name=p.get("name", ""), member=p.get("member") == "1",
            )  # fmt: skip
        elif action == "minutes":
            item_id = int_param(p.get("item")) or 0
            services.record_minutes(actor=request.user, item_id=item_id, minutes=p.get("minutes", ""))
        elif action == "hold":
            services.hold(actor=request.user, meeting_id=meeting_id)
        elif action == "cancel":
            services.cancel_meeting(actor=request.user, meeting_id=meeting_id)
        elif action == "decide":
            services.decide(
                actor=request.user, meeting_id=meeting_id, text=p.get("text", ""), item_id=int_param(p.get("item")),
                votes_for=int_param(p.get("votes_for")), votes_against=int_param(p.get("votes_against")),
                votes_abstain=int_param(p.get("votes_abstain")),
            )  # fmt: skip
        elif action == "track":
            _track(request, int_param(p.get("decision")) or 0)
        else:
            raise Http404
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, pgettext("meetings", "Saved."))
    return _back(meeting_id)


def _track(request: AuthedRequest, decision_id: int) -> None:
    p = request.POST
    how = p.get("track", "")
    due_on = date_param(p.get("due_on"))
    if how == Track.CASE:
        services.track_as_case(
            actor=request.user, decision_id=decision_id, category_id=int_param(p.get("category")) or 0,
            handler_body_id=int_param(p.get("handler_body")), due_on=due_on,
        )  # fmt: skip
    elif how == Track.PROJECT:
        services.track_as_project(
            actor=request.user,
            decision_id=decision_id,
            category_id=int_param(p.get("need_category")) or 0,
            due_on=due_on,
        )
    elif how == Track.TASK:
        services.track_as_task(
            actor=request.user, decision_id=decision_id, owner_id=int_param(p.get("owner")) or 0,
            due_on=due_on or timezone.localdate() + datetime.timedelta(days=30),
        )  # fmt: skip
    else:
        raise Http404


@login_required
@pages.page("meetings-topics")
def decision(request: AuthedRequest, decision_id: int) -> HttpResponse:
    """A decision and its progress: for the meeting's staff, and for whoever is told of it (a topic's proposer, an
    attendee, the task's owner) though the meeting is off their ground."""
    try:
        d = selectors.decision_get(user=request.user, decision_id=decision_id)
    except NotFound:
        d = selectors.decision_for_concerned(user=request.user, decision_id=decision_id)
    if request.method == "POST":
        try:
            services.report_task(
                actor=request.user, decision_id=d.pk, progress=int_param(request.POST.get("progress")) or 0,
                dropped=request.POST.get("dropped") == "1",
            )  # fmt: skip
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("meetings", "Saved."))
        return redirect("meetings-decision", d.pk)
    return render(
        request,
        "meetings/decision.html",
        {"d": d, "statuses": DecisionStatus, "may_report": d.track == Track.TASK and d.owner_id == request.user.pk},
    )


@login_required
@pages.page("meetings-topics")
def topics(request: AuthedRequest) -> HttpResponse:
    """On the phone: propose a topic (a grid worker may enter a resident's), support others', follow mine."""
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("support"):
                services.support_topic(actor=request.user, topic_id=int_param(p.get("support")) or 0)
                messages.success(request, pgettext("meetings", "You support this topic."))
            else:
                services.propose_topic(
                    actor=request.user, place_id=int_param(p.get("place")), title=p.get("title", ""),
                    description=p.get("description", ""), proposer_name=p.get("proposer_name", ""),
                    proposer_phone=p.get("proposer_phone", ""),
                )  # fmt: skip
                messages.success(
                    request, pgettext("meetings", "Your topic is proposed; you will be told what comes of it.")
                )
        except DomainError as exc:
            refused(request, exc)
        return redirect("meetings-topics")
    open_topics = list(selectors.topic_list(user=request.user, open_only=True)[:50])
    places = territory.places_for(
        user=request.user, label="meetings.topic", action="add", kinds=(NodeKind.COMMUNITY, NodeKind.GRID)
    )
    mine = list(selectors.my_topics(user=request.user)[:50])
    return render(
        request,
        "meetings/topics.html",
        {
            "open_topics": open_topics,
            "supported": selectors.supported(user=request.user, topic_ids=[t.pk for t in open_topics]),
            "mine": [(t, list(selectors.topic_decisions(topic=t))) for t in mine],
            "places": places,
            "for_others": not request.user.roles() <= {"resident", "building_head"},
        },
    )


@login_required
def sign_in(request: AuthedRequest, token: str) -> HttpResponse:
    """The meeting's QR code opens this on the phone: one tap signs in. Every signed-in role may come to a meeting:
    the signed token, not the page policy, says which meeting (so no ``pages.page`` guard of its own)."""
    try:
        meeting_id = services.meeting_of_token(token)
    except DomainError as exc:
        return render(request, "meetings/sign_in.html", {"error": exc.message}, status=403)
    meeting = selectors.meeting_public(meeting_id=meeting_id)
    if meeting is None:
        raise Http404
    signed = None
    if request.method == "POST":
        try:
            signed = services.sign_in(actor=request.user, token=token)
        except DomainError as exc:
            refused(request, exc)
    return render(request, "meetings/sign_in.html", {"meeting": meeting, "signed": signed, "token": token})


@login_required
@pages.page("meetings-series")
def series(request: AuthedRequest) -> HttpResponse:
    """Standing meetings: the joint meetings' rotas (the next chair marked) and the monthly night talks."""
    if request.method == "POST":
        try:
            services.leave_rota(
                actor=request.user, series_id=int_param(request.POST.get("series")) or 0,
                body_id=int_param(request.POST.get("body")) or 0,
            )  # fmt: skip
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, pgettext("meetings", "The body left the rota; the chair skips it."))
        return redirect("meetings-series")
    rows = [(s, selectors.rota(series=s)) for s in selectors.series_list(user=request.user)]
    return render(request, "meetings/series.html", {"rows": rows})


@login_required
@pages.page("meetings-figures")
def figures(request: AuthedRequest) -> HttpResponse:
    """Meetings held, topics raised, decisions (done on time), problems raised and solved, attendance — each
    number opens its records; the per-meeting table below."""
    start, end = _period(request)
    place = request.GET.get("place", "")
    rows = Paginator(
        selectors.per_meeting(user=request.user, place_code=place, start=start, end=end), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/figures.html",
        {
            "f": selectors.figures(user=request.user, place_code=place, start=start, end=end),
            "page": rows,
            "qs": request.GET.urlencode(),
            "start": start,
            "end": end,
            "place": place,
        },
    )


@login_required
@pages.page("meetings-figures")
def records(request: AuthedRequest) -> HttpResponse:
    what = request.GET.get("what", "meetings")
    if what not in selectors.WHAT:
        raise Http404
    start, end = _period(request)
    qs = selectors.records(
        user=request.user, what=what, place_code=request.GET.get("place", ""), start=start, end=end,
        meeting_id=int_param(request.GET.get("meeting")),
    )  # fmt: skip
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "meetings/records.html", {"page": page, "what": what})


# --- public (no account) --------------------------------------------------------------------------------------------


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "meetings/public.html",
        {"error": pgettext("meetings", "Too many requests. Please try again later.")},
        status=429,
    )


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    if not throttle.hit_request(request, "public_wall"):
        return _too_many(request)
    return render(request, "meetings/public_index.html", {"communities": selectors.public_communities()})


@require_GET
def public(request: HttpRequest, code: str) -> HttpResponse:
    """A community's meetings, decisions and their progress (no personal data); hearings' public notices."""
    if not throttle.hit_request(request, "public_wall"):
        return _too_many(request)
    community = selectors.public_community(code=code)
    if community is None:
        raise Http404
    return render(
        request,
        "meetings/public.html",
        {
            "community": community,
            "notices": selectors.public_notices(community=community, today=timezone.localdate()),
            "page": selectors.public_record(community=community, page=request.GET.get("page")),
        },
    )
