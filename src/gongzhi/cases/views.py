"""Pages of the case workflow: the grid worker's to-do and report form, the case page with its actions, the desk
(intake queue, overdue board, search, 12345 import) and the resident's pages without an account.

Views hold no business logic. Reads go through ``cases.selectors`` (and the territory and accounts selectors),
writes through ``cases.services`` and ``cases.workflow.perform`` — the only writer of a case's status. A refusal
from a service (``ValidationFailed``, ``Conflict``) is shown in the page next to the field it names; ``NotFound``
(out of scope) and ``Forbidden`` propagate to the error middleware (404 / 403 pages).

The resident's POSTs (report, track, rate) carry Django's CSRF token and are throttled per client address in the
database (``core.throttle``), in the same counters as the public API.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ChoiceField, Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.accounts import selectors as accounts_selectors
from gongzhi.accounts.choices import Role
from gongzhi.cases import hotline, selectors, services, tracking, workflow
from gongzhi.cases.choices import Channel, Status
from gongzhi.cases.forms import (
    ActionForm,
    AttachForm,
    BatchDispatchForm,
    CaseFilterForm,
    CategoryConfirmForm,
    HandOverForm,
    HotlineForm,
    HotlineMappingForm,
    MyRateForm,
    NoteForm,
    PublicReportForm,
    RateForm,
    ReportForm,
    TrackForm,
)
from gongzhi.cases.models import Attachment, Case, HotlineImport
from gongzhi.core import throttle, uploads
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest
from gongzhi.core.idempotency import idempotent
from gongzhi.core.messages import fmt, stored
from gongzhi.core.middleware import is_htmx
from gongzhi.core.pagination import SortKeyPaginator
from gongzhi.core.privacy import mask_phone
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import BodyKind, NodeKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

# Which sources a role takes cases in from, in the order offered (the first is the default).
ROLE_CHANNELS: dict[str, tuple[str, ...]] = {
    Role.GRID_WORKER: (Channel.PATROL, Channel.VISIT),
    Role.GRID_LEADER: (Channel.PATROL, Channel.VISIT, Channel.MEETING),
    Role.BUILDING_HEAD: (Channel.BUILDING_HEAD,),
    Role.COMMUNITY_STAFF: (Channel.DESK, Channel.VISIT, Channel.MEETING, Channel.POLICE),
    Role.SUBDISTRICT_OPERATOR: (Channel.DESK, Channel.POLICE, Channel.MEETING),
    Role.MEDIATOR: (Channel.MEETING, Channel.VISIT),
}
# Residents, 12345 files and Open311 clients come in through their own doors, never the staff form.
ADMIN_CHANNELS = tuple(c for c in Channel.values if c not in (Channel.RESIDENT, Channel.HOTLINE, Channel.OPEN311))

# Timeline entries that are not transitions.
EVENT_LABELS: dict[str, Any] = {
    "report": pgettext_lazy("event", "Reported"),
    "note": pgettext_lazy("event", "Note"),
    "attach": pgettext_lazy("event", "Photos added"),
    "hand_over": pgettext_lazy("event", "Handed over"),
    "categorise": pgettext_lazy("event", "Category set"),
    "phone_handoff": pgettext_lazy("event", "Handed over by phone"),
    "rate": pgettext_lazy("event", "Rated by the reporter"),
    "overdue": pgettext_lazy("event", "Deadline missed"),
}
# Where a service's field lands on a page's form.
REPORT_FIELDS = {"category_id": "category", "files": "photos", "node_id": None, "channel": "channel"}
ACTION_FIELDS = {
    "handler_body_id": "handler",
    "handler_node_id": "handler",
    "into_case_id": "into_case",
    "files": "photos",
    "action": None,
}
# What the report forms' script says (geolocation, map), in the page's language.
CASE_STRINGS = {
    "locating": gettext_lazy("Finding your position…"),
    "located": gettext_lazy("Position found (within about %(accuracy)s m)."),
    "picked": gettext_lazy("Point set on the map."),
    "failed": gettext_lazy("The position could not be found. Tap the map or give the address."),
    "denied": gettext_lazy("Location is not allowed for this page. Allow it in the browser, or give the address."),
    "unsupported": gettext_lazy("This browser cannot give a position. Give the address instead."),
    "boundaries_failed": gettext_lazy("The grid boundaries could not be loaded."),
}
DESK_PAGE_SIZE = 30
TODO_PAGE_SIZE = 30
LIST_PAGE_SIZE = 25
SESSION_REPORTED = "gongzhi_cases_reported"


# --- helpers ------------------------------------------------------------------------------------------------------


def _throttled(request: HttpRequest, what: str) -> bool:
    """The resident's POSTs count per client address in the same shared counters as the public API."""
    return not throttle.hit_request(request, f"public_{what}")


def _may(user: User, case: Case, action: str) -> bool:
    """Does the user hold ``action`` (change, reveal) on this case in scope? (The buttons shown.)"""
    try:
        get_in_scope(Case, user, case.pk, action)
    except (NotFound, Forbidden):
        return False
    return True


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _channels_for(user: User) -> list[str]:
    if user.is_superuser or user.has_role(Role.ADMIN):
        return list(ADMIN_CHANNELS)
    out: list[str] = []
    for role in ROLE_CHANNELS:
        if user.has_role(role):
            out += [c for c in ROLE_CHANNELS[role] if c not in out]
    return out


def _handler_choices(user: User) -> list[tuple[str, list[tuple[str, str]]]]:
    """Who a case can be dispatched to: the bodies in the user's scope (property companies, departments, …) by kind,
    then the communities, villages and grids."""
    groups: dict[str, list[tuple[str, str]]] = {}
    labels = dict(BodyKind.choices)
    bodies = list(territory.body_list(user=user).exclude(kind=BodyKind.SUBDISTRICT_OFFICE)[:500])
    # A body nobody acts for is marked: dispatching there needs a phone hand-off (workflow refuses it otherwise).
    acting = workflow.bodies_with_actors([b.pk for b in bodies])
    for body in bodies:
        name = body.name if body.pk in acting else _("%(name)s (nobody acts for it here: phone them)") % {
            "name": body.name
        }
        groups.setdefault(body.kind, []).append((f"body:{body.pk}", name))
    order = [
        BodyKind.PROPERTY_COMPANY, BodyKind.DEPARTMENT, BodyKind.COURT, BodyKind.OWNERS_COMMITTEE,
        BodyKind.RESIDENTS_COMMITTEE, BodyKind.VILLAGE_COMMITTEE, BodyKind.ECONOMIC_COOPERATIVE,
        BodyKind.CO_BUILDING_UNIT, BodyKind.SOCIAL_ORGANISATION, BodyKind.ENTERPRISE, BodyKind.SCHOOL,
        BodyKind.HOSPITAL,
    ]  # fmt: skip
    out: list[tuple[str, list[tuple[str, str]]]] = [(str(labels[k]), groups[k]) for k in order if k in groups]
    places = territory.node_list(user=user).filter(kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID])
    place_rows = [(f"node:{n.pk}", n.name if n.kind != NodeKind.GRID else f"· {n.name}") for n in places[:500]]
    if place_rows:
        out.append((_("Communities and grids"), place_rows))
    return out


def _similar_for(user: User, case: Case) -> list[tuple[Case, float]]:
    return selectors.similar_open_cases(
        user=user,
        category_id=case.category_id,
        lat=case.lat,
        lng=case.lng,
        text=f"{case.title} {case.description}",
        node_id=case.node_id,
        exclude_id=case.pk,
        now=max(case.reported_at, timezone.now()),
    )


def _merge_choices(user: User, case: Case) -> list[tuple[str, str]]:
    return [(str(c.pk), f"{c.number} · {c.title} · {c.get_status_display()}") for c, _score in _similar_for(user, case)]


def _people_choices(user: User, case: Case) -> list[tuple[str, str]]:
    """Who a case can be handed to: the people posted on its place and the places above it (its building, grid,
    community, subdistrict) that the user can see, nearest first. The service checks they may act on it."""
    out: list[tuple[str, str]] = []
    seen = {user.pk, case.owner_user_id}
    places = [case.node, *reversed(territory.node_ancestors(node=case.node))]
    for place in places:
        for person in accounts_selectors.user_list(user=user, node_id=place.pk)[:100]:
            if person.pk not in seen:
                seen.add(person.pk)
                out.append((str(person.pk), f"{person} · {place.name}"))
    return out


def _action_form(
    user: User, case: Case, transition: workflow.Transition, data: Any = None, files: Any = None
) -> ActionForm:
    kwargs: dict[str, Any] = {"transition": transition, "today": timezone.localdate()}
    if transition.action == "dispatch":
        kwargs["handler_choices"] = _handler_choices(user)
    if transition.action == "merge":
        kwargs["merge_choices"] = _merge_choices(user, case)
    return ActionForm(data, files, **kwargs)


def event_label(action: str) -> Any:
    transition = workflow.TRANSITIONS.get(action)
    if transition is not None:
        return transition.label
    return EVENT_LABELS.get(action, action)


def _status_label(value: str) -> Any:
    return Status(value).label if value in Status.values else value


def _timeline_rows(events: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "event": e,
            "label": event_label(e.action),
            "from_label": _status_label(e.from_status) if e.from_status else "",
            "to_label": _status_label(e.to_status) if e.to_status else "",
            "changed": bool(e.from_status) and e.from_status != e.to_status,
            "photos": list(e.attachments.all()),
        }
        for e in events
    ]


def _paginate(request: HttpRequest, rows: QuerySet[Any], size: int) -> Any:
    return SortKeyPaginator(rows, size).get_page(request.GET.get("page"))


# --- the grid worker: to-do and report ----------------------------------------------------------------------------


@login_required
@pages.page("cases-todo")
def todo(request: AuthedRequest) -> HttpResponse:
    """我的待办: open cases I own or that lie on my ground; overdue first, then by due time. Paged, with the totals."""
    page = _paginate(request, selectors.todo(user=request.user), TODO_PAGE_SIZE)
    counts = selectors.todo_counts(user=request.user)
    return render(
        request,
        "cases/todo.html",
        {
            "page": page,
            "cases": page.object_list,
            "now": timezone.now(),
            "total": page.paginator.count,
            "overdue_count": counts["overdue"],
            "may_report": pages.allowed(request.user, "cases-report") and bool(_channels_for(request.user)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@idempotent("cases.report")
def report(request: AuthedRequest) -> HttpResponse:
    """上报: staff take a case in (patrol, building head, a call at the desk). Success → the case page. A signed-in
    resident who lands here (an old link, the address typed) is sent to their own form, 我要反映, not to a 403."""
    if not pages.allowed(request.user, "cases-report"):
        if request.method == "GET" and pages.allowed(request.user, "cases-my-report"):
            return redirect("cases-my-report")
        pages.require(request.user, "cases-report")
    channels = _channels_for(request.user)
    if not channels:
        raise Forbidden(_("Your role does not take cases in."))
    categories = list(selectors.active_categories())
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, categories=categories, channels=channels)
        if form.is_valid():
            try:
                case = services.report_case(actor=request.user, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, REPORT_FIELDS)
            else:
                messages.success(request, _("Case %(number)s has been reported.") % {"number": case.number})
                return redirect("cases-detail", case_id=case.pk)
        status = 400
    else:
        form = ReportForm(categories=categories, channels=channels)
        status = 200
    return render(request, "cases/report.html", {"form": form, "case_strings": CASE_STRINGS}, status=status)


@login_required
def similar(request: AuthedRequest) -> HttpResponse:
    """HTMX partial for the report form: open cases like the one being written (same category, near, recent)."""
    try:
        category_id = int(request.GET.get("category") or request.GET.get("major") or 0)
    except ValueError:
        category_id = 0
    lat = lng = None
    try:
        if request.GET.get("lat") and request.GET.get("lng"):
            lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except ValueError:
        lat = lng = None
    text = f"{request.GET.get('title', '')} {request.GET.get('description', '')}".strip()
    node_id = None
    address = request.GET.get("address", "").strip()
    if lat is None and address:
        building = territory.building_by_address(address=address, user=request.user)
        node_id = building.pk if building is not None else None
    rows: list[tuple[Case, float]] = []
    if category_id:
        rows = selectors.similar_open_cases(
            user=request.user, category_id=category_id, lat=lat, lng=lng, text=text, node_id=node_id
        )
    return render(
        request,
        "cases/_similar.html",
        {"rows": rows, "asked": bool(category_id and (lat is not None or node_id)), "now": timezone.now()},
    )


# --- the case page --------------------------------------------------------------------------------------------------


def _handler_label(case: Case) -> str:
    if case.handler_body is not None:
        return case.handler_body.name
    return case.handler_node.name if case.handler_node is not None else ""


def _detail_context(
    request: AuthedRequest,
    case: Case,
    *,
    bound: dict[str, Form] | None = None,
    open_form: str = "",
    revealed_phone: str | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = request.user
    bound = bound or {}
    transitions = workflow.allowed_actions(user, case)
    actions: list[dict[str, Any]] = []
    other_actions: list[dict[str, Any]] = []
    for t in transitions:
        form = bound.get(t.action) or _action_form(user, case, t)
        row = {"t": t, "form": form, "open": open_form == t.action}
        # The work's next step is primary; postponing, returning, escalating… are secondary (overdue or not).
        (actions if workflow.is_next_step(case, t) else other_actions).append(row)
    events = selectors.timeline(user=user, case=case)
    rows = _timeline_rows(events)
    photos = [p for row in rows for p in row["photos"]]
    may_change = _may(user, case, "change")
    context: dict[str, Any] = {
        "case": case,
        "now": timezone.now(),
        "actions": actions,
        "other_actions": other_actions,
        "action_names": {t.action for t in transitions},  # the triage fragment shows while "dispatch" is one
        "timeline": rows,
        "photos": photos,
        "may_change": may_change,
        "may_reveal": bool(case.reporter_phone) and _may(user, case, "reveal"),
        "phone_masked": mask_phone(case.reporter_phone),
        "revealed_phone": revealed_phone,
        "open_form": open_form,
        "error": error,
        "handler_label": _handler_label(case),
    }
    if may_change:
        context["note_form"] = bound.get("note") or NoteForm(prefix="note")
        context["attach_form"] = bound.get("attach") or AttachForm(prefix="attach")
        context["handover_form"] = bound.get("hand_over") or HandOverForm(
            prefix="handover", people=_people_choices(user, case)
        )
        if case.category_unconfirmed or "categorise" in bound:
            context["category_form"] = bound.get("categorise") or CategoryConfirmForm(
                prefix="category", categories=selectors.active_categories()
            )
    return context


@login_required
def detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, case_id=case_id)
    mine = case.reporter_user_id == request.user.pk and pages.allowed(request.user, "cases-mine")
    if mine and not _may(request.user, case, "change"):
        # A resident's own report: their page of it (the replies meant for them, no staff notes or buttons).
        return redirect("cases-mine-detail", case_id=case.pk)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _rerender(request: AuthedRequest, case_id: int, **kwargs: Any) -> HttpResponse:
    case = selectors.case_get(user=request.user, case_id=case_id)
    return render(request, "cases/detail.html", _detail_context(request, case, **kwargs), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def act(request: AuthedRequest, case_id: int, action: str) -> HttpResponse:
    """One workflow action: GET gives its small form (HTMX, for the desk's quick dispatch); POST takes it through
    ``workflow.perform`` and goes back to the case page (or ``next``)."""
    case = selectors.case_get(user=request.user, case_id=case_id)
    transition = workflow.transition_of(action)
    if transition is None:
        raise NotFound(fmt(_("No action %(action)s."), action=repr(action)))
    if request.method == "GET":
        form = _action_form(request.user, case, transition)
        return render(
            request,
            "cases/_action_form.html",
            {"case": case, "t": transition, "form": form, "next": _safe_next(request, "")},
        )
    form = _action_form(request.user, case, transition, request.POST, request.FILES)
    if form.is_valid():
        photos = form.cleaned_data.get("photos") or []
        try:
            with transaction.atomic():
                workflow.perform(
                    actor=request.user,
                    case_id=case.pk,
                    action=action,
                    note=form.cleaned_data.get("note", ""),
                    reply=bool(form.cleaned_data.get("reply")),
                    payload=form.payload(),
                )
                if photos:
                    services.add_attachments(
                        actor=request.user, case_id=case.pk, files=photos, note=str(transition.label)
                    )
        except ValidationFailed as exc:
            add_service_errors(form, exc, ACTION_FIELDS)
        except Conflict:
            now = selectors.case_get(user=request.user, case_id=case.pk)
            form.add_error(
                None,
                _("The case is now “%(status)s”: “%(action)s” is not possible any more.")
                % {"status": now.get_status_display(), "action": transition.label},
            )
        else:
            if not _may(request.user, case, "view"):
                # The action took the case out of the actor's view (a handler's return): saved, and the case page
                # would be a 404 — back to the to-do, saying where the case went.
                messages.success(
                    request,
                    _("Done: %(action)s. Case %(number)s is no longer on your list.")
                    % {"action": transition.label, "number": case.number},
                )
                return redirect("cases-todo")
            messages.success(request, _("Done: %(action)s.") % {"action": transition.label})
            return HttpResponseRedirect(_safe_next(request, reverse("cases-detail", args=[case.pk])))
    if action not in {t.action for t in workflow.allowed_actions(request.user, case)}:
        errors = " ".join(str(e) for e in form.non_field_errors()) or _("This action is not possible now.")
        return _rerender(request, case.pk, error=errors)
    return _rerender(request, case.pk, bound={action: form}, open_form=action)


@login_required
@require_POST
def add_note(request: AuthedRequest, case_id: int) -> HttpResponse:
    form = NoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            services.add_note(
                actor=request.user,
                case_id=case_id,
                note=form.cleaned_data["note"],
                reply=form.cleaned_data["reply"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The note was added."))
            return redirect("cases-detail", case_id=case_id)
    return _rerender(request, case_id, bound={"note": form}, open_form="note")


@login_required
@require_POST
@idempotent("cases.attach")
def attach(request: AuthedRequest, case_id: int) -> HttpResponse:
    form = AttachForm(request.POST, request.FILES, prefix="attach")
    if form.is_valid():
        try:
            services.add_attachments(
                actor=request.user, case_id=case_id, files=form.cleaned_data["photos"], note=form.cleaned_data["note"]
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc, {"files": "photos"})
        else:
            messages.success(request, _("The photos were added."))
            return redirect("cases-detail", case_id=case_id)
    return _rerender(request, case_id, bound={"attach": form}, open_form="attach")


@login_required
@require_POST
def hand_over(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = HandOverForm(request.POST, prefix="handover", people=_people_choices(request.user, case))
    if form.is_valid():
        try:
            services.hand_over(
                actor=request.user,
                case_id=case.pk,
                to_user_id=int(form.cleaned_data["to_user"]),
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc, {"to_user_id": "to_user"})
        except Forbidden as exc:
            form.add_error("to_user", str(exc.message))
        else:
            messages.success(request, _("The case was handed over."))
            return redirect("cases-detail", case_id=case.pk)
    return _rerender(request, case.pk, bound={"hand_over": form}, open_form="hand_over")


@login_required
@require_POST
def confirm_category(request: AuthedRequest, case_id: int) -> HttpResponse:
    """The desk sets the category of a 12345 ticket whose category matched none of ours."""
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = CategoryConfirmForm(request.POST, prefix="category", categories=selectors.active_categories())
    if form.is_valid():
        try:
            services.confirm_category(
                actor=request.user,
                case_id=case.pk,
                category_id=form.cleaned_data["category_id"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc, {"category_id": "category"})
        else:
            messages.success(request, _("The category was set."))
            return redirect("cases-detail", case_id=case.pk)
    return _rerender(request, case.pk, bound={"categorise": form}, open_form="categorise")


@login_required
@require_POST
def reveal(request: AuthedRequest, case_id: int) -> HttpResponse:
    """The reporter's phone in clear: the service checks the right and writes the audit record."""
    phone = services.reveal_reporter_phone(actor=request.user, case_id=case_id)
    if is_htmx(request):
        return render(request, "cases/_phone_revealed.html", {"phone": phone})
    case = selectors.case_get(user=request.user, case_id=case_id)
    return render(request, "cases/detail.html", _detail_context(request, case, revealed_phone=phone))


@login_required
def attachment(request: AuthedRequest, attachment_id: int) -> FileResponse:
    """A photo of a case, only for someone who sees the case (else 404, as if it did not exist)."""
    item = get_in_scope(Attachment, request.user, attachment_id)
    selectors.case_get(user=request.user, case_id=item.case_id)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The file is gone.") from None
    response = FileResponse(handle, content_type=item.content_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the desk -------------------------------------------------------------------------------------------------------


def _may_import(user: User) -> bool:
    try:
        hotline.check_actor(user)
    except Forbidden:
        return False
    return True


def _with_actions(user: User, cases: Iterable[Case]) -> list[dict[str, Any]]:
    return [{"case": c, "actions": {t.action for t in workflow.allowed_actions(user, c)}} for c in cases]


def _choice_label(choices: Any, value: str) -> str:
    """The label of ``value`` among (grouped) choices."""
    for key, label in choices:
        if isinstance(label, list | tuple):
            found = _choice_label(label, value)
            if found:
                return found
        elif key == value:
            return str(label)
    return ""


def _desk_page(request: AuthedRequest, batch_form: BatchDispatchForm | None = None, status: int = 200) -> HttpResponse:
    channel = request.GET.get("channel", "")
    channel = channel if channel in Channel.values else ""
    page = _paginate(request, selectors.intake_queue(user=request.user, channel=channel), DESK_PAGE_SIZE)
    rows = _with_actions(request.user, page.object_list)
    if batch_form is None and any("dispatch" in row["actions"] for row in rows):
        batch_form = BatchDispatchForm(handler_choices=_handler_choices(request.user))
    ticked = set(request.POST.getlist("batch-case")) if batch_form is not None and batch_form.is_bound else set()
    return render(
        request,
        "cases/desk.html",
        {
            "page": page,
            "rows": rows,
            "now": timezone.now(),
            "may_import": _may_import(request.user),
            "batch_form": batch_form,
            "ticked": ticked,
            "channel": Channel(channel).label if channel else "",
        },
        status=status,
    )


@login_required
@pages.page("cases-desk")
def desk(request: AuthedRequest) -> HttpResponse:
    """受理台: new, registered and returned cases; the ones whose place was not found first."""
    return _desk_page(request)


@login_required
@pages.page("cases-desk")
@require_POST
def desk_dispatch(request: AuthedRequest) -> HttpResponse:
    """The desk's batch dispatch: the ticked cases to one body, all or nothing (``services.dispatch_many``); a refusal
    lists each case that cannot go and why, and nothing is dispatched."""
    form = BatchDispatchForm(request.POST, handler_choices=_handler_choices(request.user))
    valid = form.is_valid()
    if "case" in form.errors:  # the ticks are not a field of the form's card: said at its top
        form.add_error(None, form.errors.pop("case"))
    if valid:
        try:
            target = form.target()
            done = services.dispatch_many(
                actor=request.user,
                case_ids=form.cleaned_data["case"],
                handler_body_id=target.get("handler_body_id"),
                handler_node_id=target.get("handler_node_id"),
                note=form.cleaned_data.get("note") or "",
                phone_handoff_note=form.cleaned_data.get("phone_handoff_note") or "",
            )
        except ValidationFailed as exc:
            form.add_error(None, str(exc.message))
            for detail in exc.details:
                if detail.field == "case_ids":
                    form.add_error(None, str(detail.message))
                elif detail.field == "phone_handoff_note":
                    form.add_error("phone_handoff_note", str(detail.message))
                else:
                    form.add_error("handler", str(detail.message))
        else:
            handler_field = form.fields["handler"]
            assert isinstance(handler_field, ChoiceField)
            label = _choice_label(handler_field.choices, form.cleaned_data["handler"])
            messages.success(
                request,
                _("Dispatched %(count)s cases to %(to)s.") % {"count": len(done), "to": label},
            )
            return redirect("cases-desk")
    return _desk_page(request, form, status=400)


@login_required
@pages.page("cases-overdue")
def overdue(request: AuthedRequest) -> HttpResponse:
    """超期: open cases whose clock ran out, the longest overdue first."""
    page = _paginate(request, selectors.overdue_board(user=request.user), 50)
    return render(
        request,
        "cases/overdue.html",
        {"page": page, "now": timezone.now(), "may_import": _may_import(request.user)},
    )


@login_required
@pages.page("cases-list")
def case_list(request: AuthedRequest) -> HttpResponse:
    """All cases in scope, filtered and paginated."""
    places = territory.node_list(user=request.user).filter(
        kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID]
    )[:1000]
    form = CaseFilterForm(request.GET or None, categories=selectors.active_categories(), places=places)
    if form.is_bound and form.is_valid():
        cases = selectors.case_list(user=request.user, **form.selector_kwargs())
    elif form.is_bound:
        cases = selectors.case_list(user=request.user).none()
    else:
        cases = selectors.case_list(user=request.user)
    page = _paginate(request, cases, LIST_PAGE_SIZE)
    return render(
        request,
        "cases/list.html",
        {"form": form, "page": page, "now": timezone.now(), "may_import": _may_import(request.user)},
    )


HOTLINE_STAGE_AREA = "hotline-staged"  # core.uploads area of a 12345 file between the upload and the column step
HOTLINE_STAGE_MAX_AGE = 24 * 3600
SESSION_HOTLINE_STAGED = "gongzhi_hotline_staged"
_STAGE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _hotline_stage(request: HttpRequest, upload: Any) -> str:
    """Keep an uploaded 12345 file for the column step: a private file only this session knows (swept after a day)."""
    uploads.sweep(HOTLINE_STAGE_AREA, HOTLINE_STAGE_MAX_AGE)
    suffix = ".xlsx" if (upload.name or "").lower().endswith((".xlsx", ".xlsm")) else ".csv"
    name = uploads.store(HOTLINE_STAGE_AREA, upload, suffix)
    token = name.split("/", 1)[1]
    staged = dict(request.session.get(SESSION_HOTLINE_STAGED) or {})
    staged[token] = upload.name or ""
    request.session[SESSION_HOTLINE_STAGED] = staged
    return token


def _hotline_staged(request: HttpRequest, token: str) -> File[Any] | None:
    file_name = (request.session.get(SESSION_HOTLINE_STAGED) or {}).get(token)
    if file_name is None or not _STAGE_TOKEN.match(token.rsplit(".", 1)[0]) or "/" in token:
        return None
    try:
        return File(uploads.path_of(f"{HOTLINE_STAGE_AREA}/{token}").open("rb"), name=file_name)
    except (OSError, ValueError):
        return None


def _hotline_unstage(request: HttpRequest, token: str) -> None:
    staged = dict(request.session.get(SESSION_HOTLINE_STAGED) or {})
    staged.pop(token, None)
    request.session[SESSION_HOTLINE_STAGED] = staged
    if _STAGE_TOKEN.match(token.rsplit(".", 1)[0]) and "/" not in token:
        uploads.delete(f"{HOTLINE_STAGE_AREA}/{token}")


def _mapping_form(request: HttpRequest, upload: Any, token: str, data: Any = None) -> HotlineMappingForm:
    """The column step: a drop-down of the file's columns per field (required ones marked), pre-selected."""
    header = hotline.jobs.header_of(upload=upload)
    fields = [(name, hotline.FIELD_LABELS[name], name in hotline.REQUIRED) for name in hotline.FIELDS]
    form = HotlineMappingForm(
        data,
        initial={"token": token},
        fields=fields,
        header=header,
        guessed=hotline.jobs.guessed_mapping(actor=request.user, header=header),
    )
    form.file_name = upload.name  # type: ignore[attr-defined]
    return form


_COLUMN_FIELDS = {**{f"mapping.{n}": f"col_{n}" for n in hotline.FIELDS}, **{n: f"col_{n}" for n in hotline.FIELDS}}


def _is_column_problem(exc: ValidationFailed) -> bool:
    return bool(exc.details) and all(d.field in _COLUMN_FIELDS for d in exc.details)


@login_required
@pages.page("cases-hotline")
@require_http_methods(["GET", "POST"])
def hotline_import(request: AuthedRequest) -> HttpResponse:
    """12345 import: a CSV/XLSX export becomes cases. A small file is imported at once (created, skipped and the bad
    rows with their numbers); a big one becomes a background job, whose progress the page follows (``?job=<id>``,
    polled by HTMX until it is done). The columns are matched as the desk's last import did (or by the usual
    headers); when they do not fit, or when asked, a column step offers the file's columns per field to choose."""
    hotline.check_actor(request.user)
    result = None
    status = 200
    job = None
    form = HotlineForm()
    mapping_form = None
    outcome: Any = None
    if request.method == "POST" and request.POST.get("token"):  # the column step, sent
        token = request.POST["token"]
        upload = _hotline_staged(request, token)
        if upload is None:
            messages.error(request, _("The uploaded file has expired. Please upload it again."))
            return redirect("cases-hotline")
        with upload:
            mapping_form = _mapping_form(request, upload, token, request.POST)
            if mapping_form.is_valid():
                try:
                    outcome = hotline.import_upload(actor=request.user, upload=upload, mapping=mapping_form.mapping())
                except ValidationFailed as exc:
                    add_service_errors(mapping_form, exc, _COLUMN_FIELDS)
            if outcome is None:
                status = 400
            else:
                _hotline_unstage(request, token)
                mapping_form = None
    elif request.method == "POST":
        form = HotlineForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if form.cleaned_data["check_columns"]:
                    mapping_form = _mapping_form(request, upload, _hotline_stage(request, upload))
                else:
                    outcome = hotline.import_upload(actor=request.user, upload=upload)
            except ValidationFailed as exc:
                if _is_column_problem(exc):  # the columns do not fit: the column step, with what is wrong
                    token = _hotline_stage(request, upload)
                    mapping_form = _mapping_form(request, upload, token)
                    guessed = {"token": token, **{f"col_{n}": mapping_form[f"col_{n}"].initial for n in hotline.FIELDS}}
                    mapping_form = _mapping_form(request, upload, token, guessed)
                    mapping_form.is_valid()  # bound to the guesses: the fields without a column are marked
                    for detail in exc.details:  # what is wrong, in place of a bare "required"
                        name = _COLUMN_FIELDS[detail.field or ""]
                        mapping_form.errors.pop(name, None)
                        mapping_form.add_error(name, str(detail.message))
                    mapping_form.add_error(None, str(exc.message))
                else:
                    add_service_errors(form, exc, {})
                status = 400
        else:
            status = 400
    else:
        job_id = request.GET.get("job", "")
        if job_id:
            if not job_id.isdigit():
                raise NotFound(_("No such import."))
            job = hotline.job_for(user=request.user, job_id=int(job_id))
            if is_htmx(request):
                return render(request, "cases/hotline_job.html", _job_context(job))
    if isinstance(outcome, HotlineImport):  # see other: the job's page, which follows its progress
        response = HttpResponseRedirect(f"{reverse('cases-hotline')}?job={outcome.pk}")
        response.status_code = 303
        return response
    result = outcome
    services.fail_dead_hotline_imports()  # the recent jobs listed below never show a dead job as running
    return render(
        request,
        "cases/hotline.html",
        {
            "form": form,
            "mapping_form": mapping_form,
            "required_labels": [hotline.FIELD_LABELS[n] for n in hotline.REQUIRED],
            "result": result,
            "error_rows": _error_rows(result.errors if result else None),
            "may_import": True,
            "job": _job_context(job) if job else None,
            "jobs": selectors.hotline_jobs(user=request.user)[:10],
            "sync_rows": hotline.SYNC_MAX_ROWS,
        },
        status=status,
    )


def _job_context(job: Any) -> dict[str, Any]:
    errors = [ErrorDetail(row=e.get("row"), field=e.get("field"), message=e.get("message", "")) for e in job.errors]
    stale = job.is_active and job.updated_at < timezone.now() - hotline.JOB_STALE_AFTER
    return {
        "job": job,
        "no_worker": job.is_active and selectors.worker_alive() is False,
        "job_error_rows": _error_rows(errors),
        "message": stored(job.message),
        "percent": round(100 * (job.progress or 0)),
        "stale": stale,
    }


def _label_of(field: str | None) -> Any:
    """What the page calls one of our fields (its label, never the internal name)."""
    name = (field or "").removeprefix("mapping.")
    return hotline.FIELD_LABELS.get(name, "") if name else ""


def _error_rows(errors: list[ErrorDetail] | None) -> list[dict[str, Any]]:
    if not errors:
        return []
    rows: dict[int | None, list[ErrorDetail]] = {}
    for e in errors:
        rows.setdefault(e.row, []).append(e)
    return [
        {
            "row": row,
            "problems": [
                {"field": d.field or "", "label": _label_of(d.field), "message": stored(d.message)} for d in details
            ],
        }
        for row, details in sorted(rows.items(), key=lambda kv: kv[0] or 0)
    ]


# --- residents, without an account -----------------------------------------------------------------------------------

PUBLIC_FIELDS = {"category_id": "category", "files": "photos"}
TOO_MANY = gettext_lazy("Too many attempts from this connection. Please wait a while and try again.")
NOT_FOUND = gettext_lazy("No case with this tracking code (or case number and phone). Check and try again.")


@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest) -> HttpResponse:
    """我要反映: a resident reports a problem; the tracking code shown afterwards lets them follow it."""
    categories = list(selectors.active_categories())
    status = 200
    if request.method == "POST":
        form = PublicReportForm(request.POST, request.FILES, categories=categories)
        if _throttled(request, "report"):
            form.is_valid()
            form.add_error(None, TOO_MANY)
            status = 429
        elif form.is_valid():
            try:
                case = services.report_case(actor=None, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, PUBLIC_FIELDS)
                status = 400
            else:
                request.session[SESSION_REPORTED] = [case.number, case.tracking_code]
                return redirect("cases-public-report-done")
        else:
            status = 400
    else:
        form = PublicReportForm(categories=categories)
    return render(request, "cases/public/report.html", {"form": form, "case_strings": CASE_STRINGS}, status=status)


def public_report_done(request: HttpRequest) -> HttpResponse:
    """The number and the tracking code of the case just reported (from the session: a secret is not put in a URL)."""
    reported = request.session.get(SESSION_REPORTED)
    if not reported:
        return redirect("cases-public-report")
    number, code = reported if isinstance(reported, list) else (reported, "")
    return render(request, "cases/public/report_done.html", {"number": number, "code": tracking.display(code)})


def _track_context(case: Case, code: str, phone: str) -> dict[str, Any]:
    survivor = case.merged_into or case
    events = selectors.timeline(user=None, case=survivor, public_only=True)
    rows = [
        {
            "at": e.at,
            "label": event_label(e.action),
            "to_label": _status_label(e.to_status) if e.to_status else "",
            "changed": bool(e.from_status) and e.from_status != e.to_status,
            "note": e.note if e.action != "report" else "",
        }
        for e in events
    ]
    rate_form = None
    if case.status == Status.CLOSED:
        rate_form = RateForm(initial={"code": code, "phone": phone, "resolved": "1"})
    return {"case": case, "survivor": survivor, "timeline": rows, "rate_form": rate_form}


def _find_public(request: HttpRequest, code: str, phone: str) -> Case | None:
    """The page's one field takes a tracking code or a case number (``cases.tracking``)."""
    return tracking.find(request, code=code, number=code, phone=phone)


@require_http_methods(["GET", "POST"])
def public_track(request: HttpRequest) -> HttpResponse:
    """查询进度: tracking code (phone optional) or case number + phone → the status and the public timeline (the
    surviving case's, if merged)."""
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if _throttled(request, "track"):
            form.is_valid()
            form.add_error(None, TOO_MANY)
            status = 429
        elif form.is_valid():
            code, phone = form.cleaned_data["code"], form.cleaned_data["phone"]
            try:
                case = _find_public(request, code, phone)
            except tracking.TooManyGuesses:
                form.add_error(None, TOO_MANY)
                status = 429
            else:
                if case is None:
                    form.add_error(None, NOT_FOUND)
                    status = 404
                else:
                    context.update(_track_context(case, code, phone))
        else:
            status = 400
    else:
        form = TrackForm(initial={"code": request.GET.get("number", "")[:24]})
    context["form"] = form
    return render(request, "cases/public/track.html", context, status=status)


@require_POST
def public_rate(request: HttpRequest) -> HttpResponse:
    """满意度评价: the reporter rates their closed case (tracking code, or number and phone, checked again)."""
    form = RateForm(request.POST)
    track = TrackForm()
    if _throttled(request, "rate"):
        return render(request, "cases/public/track.html", {"form": track, "error": TOO_MANY}, status=429)
    code, phone = request.POST.get("code", ""), request.POST.get("phone", "")
    try:
        case = _find_public(request, code, phone)
    except tracking.TooManyGuesses:
        return render(request, "cases/public/track.html", {"form": track, "error": TOO_MANY}, status=429)
    if case is None:
        return render(request, "cases/public/track.html", {"form": track, "error": NOT_FOUND}, status=404)
    if not form.is_valid():
        context = _track_context(case, code, phone)
        context.update({"form": track, "rate_form": form})
        return render(request, "cases/public/track.html", context, status=400)
    d = form.cleaned_data
    try:
        workflow.perform_resident_rating(
            case=case, rating=d["rating"], resolved=d["resolved"] == "1", note=d.get("note") or ""
        )
    except (Conflict, ValidationFailed):
        context = _track_context(case, code, phone)
        context.update({"form": track, "error": _("This case can be rated once it is closed, and only once.")})
        return render(request, "cases/public/track.html", context, status=409)
    case.refresh_from_db()
    context = _track_context(case, code, phone)
    context.update({"form": track, "thanks": True})
    return render(request, "cases/public/track.html", context)


# --- residents with an account: 我要反映 and 我的反映 ---------------------------------------------------------

MINE_PAGE_SIZE = 20


@login_required
@pages.page("cases-my-report")
@require_http_methods(["GET", "POST"])
def my_report(request: AuthedRequest) -> HttpResponse:
    """我要反映, signed in: the resident's form with their name and phone from their account; the case records them
    as its reporter, so it is listed in 我的反映."""
    user: Any = request.user
    categories = list(selectors.active_categories())
    status = 200
    if request.method == "POST":
        form = PublicReportForm(request.POST, request.FILES, categories=categories)
        if form.is_valid():
            try:
                case = services.report_case(actor=user, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, PUBLIC_FIELDS)
                status = 400
            else:
                messages.success(request, _("Case %(number)s has been reported.") % {"number": case.number})
                return redirect("cases-mine-detail", case_id=case.pk)
        else:
            status = 400
    else:
        form = PublicReportForm(
            categories=categories, initial={"reporter_name": user.display_name, "reporter_phone": user.phone}
        )
    return render(
        request,
        "cases/public/report.html",
        {"form": form, "case_strings": CASE_STRINGS, "signed_in": True},
        status=status,
    )


@login_required
@pages.page("cases-mine")
def mine(request: AuthedRequest) -> HttpResponse:
    """我的反映: the cases I reported, with their status; each opens to its progress and, once closed, my rating."""
    page = _paginate(request, selectors.my_reports(user=request.user), MINE_PAGE_SIZE)
    counts = selectors.my_report_counts(user=request.user)
    return render(request, "cases/mine.html", {"page": page, "counts": counts})


def _my_case(request: AuthedRequest, case_id: int) -> Case:
    """One of my reports (another's case, or one I only see: 404)."""
    case = selectors.case_get(user=request.user, case_id=case_id)
    if case.reporter_user_id != request.user.pk:
        raise NotFound(_("No such case among your reports."))
    return case


def _mine_context(case: Case, **extra: Any) -> dict[str, Any]:
    context = _track_context(case, "", "")
    if context["rate_form"] is not None:
        context["rate_form"] = extra.pop("rate_form", None) or MyRateForm(initial={"resolved": "1"})
    context["rate_action"] = reverse("cases-mine-rate", args=[case.pk])
    context.update(extra)
    return context


@login_required
@pages.page("cases-mine")
def mine_detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    """One of my reports as I follow it: its status, the replies meant for me, and the rating once it is closed."""
    return render(request, "cases/mine_detail.html", _mine_context(_my_case(request, case_id)))


@login_required
@pages.page("cases-mine")
@require_POST
def mine_rate(request: AuthedRequest, case_id: int) -> HttpResponse:
    """满意度评价 of my own closed case (the same rating as the public page, without a code to give)."""
    case = _my_case(request, case_id)
    form = MyRateForm(request.POST)
    if not form.is_valid():
        return render(request, "cases/mine_detail.html", _mine_context(case, rate_form=form), status=400)
    d = form.cleaned_data
    try:
        workflow.perform_resident_rating(
            case=case, rating=d["rating"], resolved=d["resolved"] == "1", note=d.get("note") or ""
        )
    except (Conflict, ValidationFailed):
        error = _("This case can be rated once it is closed, and only once.")
        return render(request, "cases/mine_detail.html", _mine_context(case, error=error), status=409)
    case.refresh_from_db()
    return render(request, "cases/mine_detail.html", _mine_context(case, thanks=True))
