"""Pages of the disputes app: the mediator's desk, the station's list, a dispute (parties masked, timeline,
sessions with their private notes for those allowed, escalations, the agreement and its printable 人民调解协议书), the
forms of each step, and the police loop (the station's notices and the grid's feedback).

Views hold no business logic: reads go through ``disputes.selectors`` (and ``disputes.pagesupport``), writes through
``disputes.services`` and ``disputes.workflow``. A refusal from a service is shown next to the field it names
(``core.forms.add_service_errors``); ``NotFound`` (out of scope) and ``Forbidden`` go to the error pages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import int_param
from gongzhi.core.middleware import is_htmx
from gongzhi.disputes import pagesupport, selectors, services, workflow
from gongzhi.disputes.choices import (
    NOTICE_OPEN_STATUSES,
    OPEN_STATUSES,
    NoticeResult,
    NoticeStatus,
    Risk,
    Status,
    TierKind,
)
from gongzhi.disputes.forms import (
    ActionForm,
    AgreementForm,
    AnswerForm,
    DisputeForm,
    EscalateForm,
    FollowUpForm,
    NoticeForm,
    PartyFields,
    SessionForm,
    SignForm,
)
from gongzhi.disputes.models import NOTES, PARTIES

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

    from gongzhi.disputes.models import Dispute

LIST_PAGE_SIZE = 25
DESK_ROWS = 8
NOTICE_PAGE_SIZE = 20
PLAIN_ACTIONS = ("start", "fail", "withdraw")  # the steps taken with just a note
SESSION_FIELDS = {"attendee_ids": "attendees", "mediator_ids": None}
DISPUTE_FIELDS = {"kind_id": "kind", "node_id": "place", "parties": None}
ESCALATE_FIELDS = {"body_id": "body", "to_tier": None, "to_kind": None, "_note": "reason", "note": "reason"}
SIGN_FIELDS = {"agreement_id": None, "terms": None, "signed_party_ids": "signed"}
NOTICE_FIELDS = {"node_id": "place", "from_body_id": None}
ANSWER_FIELDS = {"dispute_kind_id": "kind", "case_id": "category", "case_category_id": "category", "_note": "feedback"}



def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _paginate(request: HttpRequest, rows: Any, size: int) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))


# --- the mediator's desk and the station's list -----------------------------------------------------------------------


@login_required
@pages.page("disputes-desk")
def desk(request: HttpRequest) -> HttpResponse:
    """调解工作台: my open disputes, this week's sessions, follow-ups due; the police notices waiting on my ground."""
    user = _user(request)
    start, end = pagesupport.week_bounds()
    mine = selectors.dispute_list(user=user, mine=True, status=[*OPEN_STATUSES, Status.AGREED])
    handled = selectors.dispute_list(user=user, status=OPEN_STATUSES)
    red = handled.filter(risk=Risk.RED)
    sessions = selectors.sessions_between(user=user, start=start, end=end, mine=True)
    follow_ups = selectors.follow_ups_due(user=user, mine=True, until=timezone.localdate() + timedelta(days=7))
    notices = selectors.notice_list(user=user, status=NOTICE_OPEN_STATUSES)
    sender = pagesupport.is_sender(user=user)
    context = {
        "mine": mine[:DESK_ROWS],
        "mine_total": mine.count(),
        "open_total": handled.count(),
        "red": red[:DESK_ROWS],
        "red_total": red.count(),
        "sessions": sessions[:20],
        "week_start": start,
        "week_end": end - timedelta(days=1),
        "follow_ups": follow_ups[:DESK_ROWS],
        "follow_ups_total": follow_ups.count(),
        "notices": [] if sender else notices.order_by("due_at")[:DESK_ROWS],
        "notices_total": 0 if sender else notices.count(),
        "today": timezone.localdate(),
        "now": timezone.now(),
        "may_new": pages.allowed(user, "disputes-new"),
        "may_notices": pages.allowed(user, "disputes-notices"),
    }
    return render(request, "disputes/desk.html", context)


def _filters(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    status = g.get("status", "")
    statuses: Any = None
    if status == "open":
        statuses = list(OPEN_STATUSES)
    elif status in Status.values:
        statuses = status
    return {
        "status": statuses,
        "kind_id": int_param(g.get("kind")),
        "risk": g.get("risk") if g.get("risk") in Risk.values else None,
        "tier": int_param(g.get("tier")),
        "node_code": g.get("place") or None,
        "repeat": True if g.get("repeat") == "1" else None,
        "mine": g.get("mine") == "1",
        "q": g.get("q", "")[:60],
    }


@login_required
@pages.page("disputes-list")
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The station's list: every dispute the user sees, filtered by kind, risk, tier, status, place."""
    user = _user(request)
    f = _filters(request)
    ids = request.GET.get("ids", "")
    rows = selectors.dispute_list(user=user, **f)
    if ids:  # a KPI figure's drill-down: exactly the disputes it counts
        wanted = [int(i) for i in ids.split(",") if i.isdigit()][:5000]
        rows = rows.filter(pk__in=wanted)
    page = _paginate(request, rows.select_related("kind", "node"), LIST_PAGE_SIZE)
    from gongzhi.territory import selectors as territory

    context = {
        "page": page,
        "kinds": selectors.kinds(),
        "risks": Risk.choices,
        "statuses": [("open", _("Open")), *Status.choices],
        "tiers": [(1, _("Tier 1 · on site")), (2, _("Tier 2 · station")), (3, _("Tier 3 · referral"))],
        "places": territory.places_for(
            user=user, label="disputes.dispute", action="view", kinds=pagesupport.PLACE_KINDS[:2]
        ),
        "g": request.GET,
        "may_new": pages.allowed(user, "disputes-new"),
    }
    if is_htmx(request) and request.GET.get("partial") == "1":
        return render(request, "disputes/_rows.html", context)
    return render(request, "disputes/list.html", context)


# --- registering a dispute -------------------------------------------------------------------------------------------


@login_required
@pages.page("disputes-new")
def dispute_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    places = pagesupport.dispute_places(user=user)
    notice_id = int_param(request.GET.get("notice") or request.POST.get("notice"))
    form = DisputeForm(request.POST or None, kinds=selectors.kinds(), places=places)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        parties = [
            services.PartyIn(role=role, name=d[name].strip(), phone=d[phone].strip())
            for role, name, phone in (
                ("applicant", "applicant", "applicant_phone"),
                ("respondent", "respondent", "respondent_phone"),
            )
            if d[name].strip()
        ]
        try:
            dispute = services.register_dispute(
                actor=user, kind_id=int(d["kind"]), summary=d["summary"], facts=d["facts"],
                node_id=int_param(d["place"]), address=d["address"], risk=d["risk"], source=d["source"],
                parties=parties, mediator_ids=[user.pk] if d["mediate_myself"] else [],
                source_notice_id=notice_id,
            )  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, DISPUTE_FIELDS)
        else:
            messages.success(request, _("Dispute %(number)s registered.") % {"number": dispute.number})
            return redirect("disputes-detail", dispute.pk)
    return render(request, "disputes/new.html", {"form": form, "notice_id": notice_id})


# --- one dispute -----------------------------------------------------------------------------------------------------


def _may_act(user: User, dispute: Dispute) -> bool:
    return workflow.MACHINE.may_change(user, dispute)


def _detail_context(request: HttpRequest, dispute: Dispute, **forms: Any) -> dict[str, Any]:
    user = _user(request)
    parties = selectors.parties_of(user=user, dispute=dispute)
    allowed = {t.action: t for t in workflow.allowed_actions(user, dispute)}
    may_act = _may_act(user, dispute)
    # In the handling circle: sees the parties (also before there are any: ``parties.visible`` is then False).
    in_parties = parties.visible or selectors.in_circle(user=user, dispute=dispute, circle=PARTIES)
    agreements = list(selectors.agreements_of(user=user, dispute=dispute)) if in_parties else []
    draft = next((a for a in agreements if a.signed_on is None), None)
    is_open = dispute.status in OPEN_STATUSES
    tiers = selectors_tiers(dispute)
    next_tier = next((t for t in tiers if t.level > dispute.tier), None)
    referral = next_tier is not None and next_tier.kind == TierKind.REFERRAL
    initial_agreement = {"facts": dispute.facts or dispute.summary, "follow_up_days": dispute.kind.follow_up_days}
    if draft is not None:
        initial_agreement = {"facts": draft.facts, "performance": draft.performance, "committee": draft.committee,
                             "follow_up_days": draft.follow_up_days}  # fmt: skip
        for i, term in enumerate(draft.terms[:5], start=1):
            initial_agreement |= {f"term_{i}": term.get("text", ""), f"how_{i}": term.get("how", ""),
                                  f"by_{i}": term.get("by") or None}  # fmt: skip
    sessions = selectors.sessions_of(user=user, dispute=dispute)
    names = {p.id: p.name for p in parties.parties}
    return {
        "d": dispute,
        "parties": parties,
        "sessions": [{"v": s, "attendees": [names.get(i, "") for i in s.attendee_ids]} for s in sessions],
        "timeline": selectors.timeline_of(user=user, dispute=dispute),
        "escalations": selectors.escalations_of(user=user, dispute=dispute),
        "agreements": agreements,
        "draft": draft,
        "follow_ups": selectors.follow_ups_of(user=user, dispute=dispute),
        "mediators": selectors.mediators_of(user=user, dispute=dispute),
        "tiers": tiers,
        "next_tier": next_tier,
        "may_act": may_act,
        "in_notes": selectors.in_circle(user=user, dispute=dispute, circle=NOTES),
        "in_parties": in_parties,
        "plain_actions": [allowed[a] for a in PLAIN_ACTIONS if a in allowed],
        "may_escalate": "escalate" in allowed,
        "may_sign": "agree" in allowed and draft is not None,
        "may_follow_up": "close" in allowed or "reopen" in allowed,
        "may_session": may_act and is_open and in_parties,
        "may_agreement": may_act and dispute.status == Status.MEDIATING and in_parties,
        "may_party": may_act and is_open and in_parties,
        "is_open": is_open,
        "party_form": forms.get("party_form") or PartyFields(prefix="party"),
        "session_form": forms.get("session_form") or SessionForm(parties=parties.parties, prefix="s"),
        "escalate_form": forms.get("escalate_form")
        or EscalateForm(bodies=pagesupport.referral_bodies(user=user) if referral else (), prefix="e"),
        "referral": referral,
        "agreement_form": forms.get("agreement_form") or AgreementForm(initial=initial_agreement, prefix="a"),
        "sign_form": forms.get("sign_form") or SignForm(parties=parties.parties, prefix="g"),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(prefix="f"),
        "action_form": forms.get("action_form"),
        "open_panel": forms.get("open_panel", ""),
        "now": timezone.now(),
    }


def selectors_tiers(dispute: Dispute) -> list[Any]:
    from gongzhi.disputes import ladder

    return ladder.tiers_of(dispute.subdistrict_code)


def _render_detail(request: HttpRequest, dispute: Dispute, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "disputes/detail.html", _detail_context(request, dispute, **forms), status=status)


@login_required
@pages.page("disputes-list")
def detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    dispute = selectors.dispute_get(user=_user(request), dispute_id=dispute_id)
    return _render_detail(request, dispute)


def _done(request: HttpRequest, dispute_id: int, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(reverse("disputes-detail", args=[dispute_id]))


@login_required
@pages.page("disputes-list")
@require_POST
def party_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    form = PartyFields(request.POST, prefix="party")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.add_party(actor=user, dispute_id=dispute.pk, role=d["role"], name=d["name"], phone=d["phone"],
                               id_number=d["id_number"], address=d["address"],
                               is_organisation=d["is_organisation"])  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, dispute.pk, _("Party %(name)s added.") % {"name": d["name"]})
    return _render_detail(request, dispute, 400, party_form=form, open_panel="party")


@login_required
@pages.page("disputes-list")
@require_POST
def party_reveal(request: HttpRequest, party_id: int) -> HttpResponse:
    """A party's phone and ID number in full (audited): an HTMX swap of the masked ones."""
    shown = services.reveal_party(actor=_user(request), party_id=party_id)
    return render(request, "disputes/_revealed.html", {"shown": shown})


@login_required
@pages.page("disputes-list")
@require_POST
def session_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    parties = selectors.parties_of(user=user, dispute=dispute)
    form = SessionForm(request.POST, parties=parties.parties, prefix="s")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_session(
                actor=user, dispute_id=dispute.pk, held_at=d["held_at"], mode=d["mode"], where=d["where"],
                attendee_ids=[int(i) for i in d["attendees"]], summary=d["summary"], result=d["result"],
                private_notes=d["private_notes"],
            )  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, SESSION_FIELDS)
        else:
            return _done(request, dispute.pk, _("Session recorded."))
    return _render_detail(request, dispute, 400, session_form=form, open_panel="session")


@login_required
@pages.page("disputes-list")
@require_POST
def escalate(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    form = EscalateForm(request.POST, bodies=pagesupport.referral_bodies(user=user), prefix="e")
    if form.is_valid():
        d = form.cleaned_data
        payload: dict[str, Any] = {"reason": d["reason"]}
        if d["body"]:
            payload["body_id"] = int(d["body"])
        if d["referral_kind"]:
            payload["referral_kind"] = d["referral_kind"]
        try:
            moved = workflow.perform(actor=user, dispute_id=dispute.pk, action="escalate", note=d["reason"],
                                     payload=payload)  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, ESCALATE_FIELDS)
        else:
            return _done(request, dispute.pk, _("Escalated to tier %(tier)s.") % {"tier": moved.tier})
    return _render_detail(request, dispute, 400, escalate_form=form, open_panel="escalate")


@login_required
@pages.page("disputes-list")
@require_POST
def act(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """Start, no agreement, withdrawn: a step with its note."""
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    form = ActionForm(request.POST)
    if form.is_valid() and form.cleaned_data["action"] in PLAIN_ACTIONS:
        d = form.cleaned_data
        try:
            workflow.perform(actor=user, dispute_id=dispute.pk, action=d["action"], note=d["note"])
        except DomainError as exc:
            add_service_errors(form, exc, {"_note": "note"})
        else:
            return _done(request, dispute.pk, _("Done."))
    return _render_detail(request, dispute, 400, action_form=form, open_panel="action")


@login_required
@pages.page("disputes-list")
@require_POST
def agreement_draft(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    form = AgreementForm(request.POST, prefix="a")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.draft_agreement(actor=user, dispute_id=dispute.pk, terms=form.terms(), facts=d["facts"],
                                     performance=d["performance"], committee=d["committee"],
                                     follow_up_days=d["follow_up_days"])  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, {"terms": "term_1"})
        else:
            return _done(request, dispute.pk, _("Agreement drafted: print it for the parties to sign."))
    return _render_detail(request, dispute, 400, agreement_form=form, open_panel="agreement")


@login_required
@pages.page("disputes-list")
@require_POST
def agreement_sign(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    parties = selectors.parties_of(user=user, dispute=dispute)
    form = SignForm(request.POST, parties=parties.parties, prefix="g")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.sign_agreement(actor=user, dispute_id=dispute.pk, signed_on=d["signed_on"],
                                    signed_party_ids=[int(i) for i in d["signed"]])  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, SIGN_FIELDS)
        else:
            return _done(request, dispute.pk, _("Agreement signed; the performance follow-up is due later."))
    return _render_detail(request, dispute, 400, sign_form=form, open_panel="sign")


@login_required
@pages.page("disputes-list")
@require_POST
def follow_up(request: HttpRequest, dispute_id: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_get(user=user, dispute_id=dispute_id)
    form = FollowUpForm(request.POST, prefix="f")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.record_follow_up(actor=user, dispute_id=dispute.pk, performance=d["performance"], note=d["note"])
        except DomainError as exc:
            add_service_errors(form, exc, {"_note": "note"})
        else:
            return _done(request, dispute.pk, _("Follow-up recorded."))
    return _render_detail(request, dispute, 400, follow_up_form=form, open_panel="follow-up")


@login_required
@pages.page("disputes-list")
def agreement_print(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """The 人民调解协议书 as a printable page (contacts masked); the DOCX is one link away."""
    user = _user(request)
    agreement = selectors.agreement_get(user=user, agreement_id=agreement_id)
    parties = selectors.parties_of(user=user, dispute=agreement.dispute)
    signed = set(agreement.signed_by.values_list("pk", flat=True))
    return render(
        request,
        "disputes/agreement_print.html",
        {"a": agreement, "d": agreement.dispute, "parties": parties.parties, "signed": signed},
    )


# --- police notices --------------------------------------------------------------------------------------------------


@login_required
@pages.page("disputes-notices")
def notices(request: HttpRequest) -> HttpResponse:
    """The station's notices (status and feedback of each) or the grid's incoming ones (open first)."""
    user = _user(request)
    sender = pagesupport.is_sender(user=user)
    state = request.GET.get("state", "")
    statuses: Any = {"open": list(NOTICE_OPEN_STATUSES), "answered": NoticeStatus.ANSWERED}.get(state)
    overdue = True if state == "overdue" else None
    rows = selectors.notice_list(user=user, sent_by_me=sender, status=statuses, overdue=overdue)
    if not sender and not state:
        from django.db.models import Case, IntegerField, Value, When

        rows = rows.annotate(
            open_first=Case(When(status__in=NOTICE_OPEN_STATUSES, then=Value(0)), default=Value(1),
                            output_field=IntegerField())
        ).order_by("open_first", "due_at")  # fmt: skip
    page = _paginate(request, rows, NOTICE_PAGE_SIZE)
    context = {"page": page, "sender": sender, "state": state, "now": timezone.now(),
               "may_file": sender}  # fmt: skip
    return render(request, "disputes/notices.html", context)


@login_required
@pages.page("disputes-notices")
def notice_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not pagesupport.is_sender(user=user):
        raise Forbidden(_("Only a body that sends notices down (the police station) files police notices."))
    form = NoticeForm(request.POST or None, places=pagesupport.notice_places(user=user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            notice = services.file_police_notice(
                actor=user, title=d["title"], ask=d["ask"], happened_at=d["happened_at"],
                description=d["description"], node_id=int_param(d["place"]), address=d["address"], people=d["people"],
                people_phone=d["people_phone"], due_at=d["due_at"],
            )  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, NOTICE_FIELDS)
        else:
            messages.success(request, _("Police notice %(number)s sent to the grid.") % {"number": notice.number})
            return redirect("disputes-notice", notice.pk)
    return render(request, "disputes/notice_new.html", {"form": form})


def _notice_context(request: HttpRequest, notice: Any, answer_form: AnswerForm | None = None) -> dict[str, Any]:
    user = _user(request)
    from gongzhi.cases import selectors as cases

    allowed = {t.action for t in workflow.notice_allowed_actions(user, notice)}
    categories = cases.active_categories().filter(parent__isnull=False) if "answer" in allowed else []
    return {
        "n": notice,
        "disputes": selectors.notice_disputes(user=user, notice=notice),
        "may_receive": "receive" in allowed,
        "may_answer": "answer" in allowed,
        "may_cancel": "cancel" in allowed,
        "answer_form": answer_form or AnswerForm(kinds=selectors.kinds(), categories=categories),
        "sender": pagesupport.is_sender(user=user),
        "now": timezone.now(),
    }


@login_required
@pages.page("disputes-notices")
def notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    n = selectors.notice_get(user=_user(request), notice_id=notice_id)
    return render(request, "disputes/notice.html", _notice_context(request, n))


@login_required
@pages.page("disputes-notices")
@require_POST
def notice_act(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Receive (the grid signs for it) or cancel (its sender, with a note)."""
    user = _user(request)
    n = selectors.notice_get(user=user, notice_id=notice_id)
    action = request.POST.get("action", "")
    try:
        if action == "receive":
            services.receive_police_notice(actor=user, notice_id=n.pk)
            messages.success(request, _("Received: visit and answer by the deadline."))
        elif action == "cancel":
            services.cancel_police_notice(actor=user, notice_id=n.pk, note=request.POST.get("note", ""))
            messages.success(request, _("Notice cancelled."))
    except (ValidationFailed, Conflict, Forbidden) as exc:
        messages.error(request, str(exc.message))
    return redirect("disputes-notice", n.pk)


@login_required
@pages.page("disputes-notices")
@require_POST
def notice_answer(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = _user(request)
    n = selectors.notice_get(user=user, notice_id=notice_id)
    from gongzhi.cases import selectors as cases

    form = AnswerForm(
        request.POST, kinds=selectors.kinds(), categories=cases.active_categories().filter(parent__isnull=False)
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            answered = services.answer_police_notice(
                actor=user, notice_id=n.pk, result=d["result"], feedback=d["feedback"], visited_at=d["visited_at"],
                dispute_kind_id=int_param(d["kind"]), dispute_summary=d["summary"],
                dispute_risk=d["risk"] or Risk.GREEN, case_category_id=int_param(d["category"]),
            )  # fmt: skip
        except DomainError as exc:
            add_service_errors(form, exc, ANSWER_FIELDS)
        else:
            messages.success(request, _("Feedback sent to %(body)s.") % {"body": answered.from_body.name})
            if answered.result == NoticeResult.DISPUTE:
                made = selectors.notice_disputes(user=user, notice=answered).order_by("-pk").first()
                if made is not None:
                    return redirect("disputes-detail", made.pk)
            return redirect("disputes-notice", n.pk)
    return render(request, "disputes/notice.html", _notice_context(request, n, form), status=400)
