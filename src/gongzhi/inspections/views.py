"""Pages of inspections: my rounds on a phone (360 px first), a round's form, a building's hazard register, a
hazard (re-check, turn into a case), the figures and the records behind each, checklists and plans; and two HTMX
fragments other apps' pages load (a case's hazard, a place's figures) — they cannot import this app.

Reads through ``inspections.selectors``, writes through ``inspections.services``; a refusal is shown on the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import pages
from gongzhi.core import idempotency
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from gongzhi.core.http import AuthedRequest, int_param
from gongzhi.core.idempotency import idempotent
from gongzhi.inspections import selectors, services
from gongzhi.inspections.choices import AssignTo, HazardStatus, PlaceKind, Result, Severity
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

PAGE_SIZE = 30


def _page(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))



def _holds(user: User, label: str, action: str) -> bool:
    scope = user.scope_for(label, action)
    return bool(scope.everything or scope.prefixes or scope.lead_bodies)


def _nav(user: User) -> dict[str, bool]:
    return {
        "nav_figures": pages.allowed(user, "inspections-figures"),
        "nav_checklists": pages.allowed(user, "inspections-checklists"),
        "nav_plans": pages.allowed(user, "inspections-plans"),
    }


def _errors(exc: DomainError) -> list[str]:
    out = [str(exc.message)] if exc.message else []
    for d in exc.details:
        message = str(d.message)
        out.append(
            _("Row %(row)s: %(message)s") % {"row": d.row + 1, "message": message} if d.row is not None else message
        )
    return out


# --- my rounds ------------------------------------------------------------------------------------------------------


@login_required
@pages.page("inspections-home")
def home(request: AuthedRequest) -> HttpResponse:
    """安全巡查: my rounds to do (due first, overdue marked), then the hazards I follow up."""
    user = request.user
    today = timezone.localdate()
    todo = _page(request, selectors.round_list(user=user, mine=True, todo=True, due_since=selectors.todo_since(today)))
    hazards = list(selectors.hazard_list(user=user, status=HazardStatus.OPEN).order_by("deadline", "id")[:20])
    done = list(selectors.round_list(user=user, mine=True, done=True).order_by("-done_at")[:10])
    context = {"page": todo, "today": today, "hazards": hazards, "done": done, **_nav(user)}
    return render(request, "inspections/home.html", context)


def _round_context(request: AuthedRequest, round_: Any, errors: list[str] | None = None) -> dict[str, Any]:
    user = request.user
    posted = request.POST if request.method == "POST" else None
    rows = selectors.round_rows(user=user, round_=round_)
    for row in rows:
        key = str(row["item"].pk)
        row["chosen"] = posted.get(f"result_{key}") if posted else (row["answer"] or {}).get("result")
        row["note"] = posted.get(f"note_{key}", "") if posted else (row["answer"] or {}).get("note", "")
        row["severity"] = (posted.get(f"severity_{key}") if posted else None) or row["item"].severity
    may_do = round_.done_at is None and _may_do(user, round_)
    return {
        "round": round_,
        "rows": rows,
        "results": Result.choices,
        "severities": Severity.choices,
        "may_do": may_do,
        "errors": errors or [],
        "hazards": list(selectors.hazard_list(user=user, building_id=round_.building_id).filter(round=round_)),
        "today": timezone.localdate(),
        **_nav(user),
    }


def _may_do(user: User, round_: Any) -> bool:
    try:
        selectors.round_get(user=user, round_id=round_.pk, action="change")
    except (NotFound, Forbidden):
        return False
    return True


@login_required
@idempotent("inspections.round")
def round_view(request: AuthedRequest, round_id: int) -> HttpResponse:
    """One round: the checklist to answer (pass / fail / n.a., a note, a photo per item), or its record once done.

    The form works offline (``data-offline="round"``, docs/offline.md): its post carries an idempotency key
    (``core.idempotency``), so the phone's outbox sending it again answers what the first send did. A round someone
    else completed meanwhile is a 409 with the page's message; the outbox keeps everything typed."""
    user = request.user
    round_ = selectors.round_get(user=user, round_id=round_id)
    if request.method != "POST":
        return render(request, "inspections/round.html", _round_context(request, round_))
    answers = []
    photos = []
    for row in selectors.round_rows(user=user, round_=round_):
        key = str(row["item"].pk)
        answers.append(
            {
                "item": row["item"].pk,
                "result": request.POST.get(f"result_{key}", ""),
                "note": request.POST.get(f"note_{key}", ""),
                "severity": request.POST.get(f"severity_{key}") or None,
            }
        )
        photos += [services.Photo(row["item"].pk, f) for f in request.FILES.getlist(f"photo_{key}")]
    key = idempotency.key_of(request) or ""  # kept on the round: who sent which submission
    try:
        done = services.submit_round(
            actor=user,
            round_id=round_.pk,
            answers=answers,
            note=request.POST.get("note", ""),
            photos=photos,
            client_key=key,
        )
    except (ValidationFailed, Conflict) as exc:
        status = 400
        if isinstance(exc, Conflict):  # done by someone else meanwhile: the page shows their record and the message
            status = 409
            round_ = selectors.round_get(user=user, round_id=round_.pk)
        return render(request, "inspections/round.html", _round_context(request, round_, _errors(exc)), status=status)
    found = selectors.hazard_list(user=user).filter(round=done).count()
    if found:
        messages.success(request, _("The round was recorded: %(count)s hazards found.") % {"count": found})
    else:
        messages.success(request, _("The round was recorded: no hazard found."))
    return redirect("inspections-round", round_id=done.pk)


# --- hazards --------------------------------------------------------------------------------------------------------


@login_required
@pages.page("inspections-hazards")
def hazards(request: AuthedRequest) -> HttpResponse:
    """隐患台账: the hazards in scope (open, overdue, rectified), newest first."""
    user = request.user
    status = request.GET.get("status") or "open"
    qs = selectors.hazard_list(
        user=user,
        status=status if status in HazardStatus.values else None,
        overdue=status == "overdue",
    )
    if status in ("open", "overdue"):
        qs = qs.order_by("deadline", "id")
    context = {"page": _page(request, qs), "status": status, "today": timezone.localdate(), **_nav(user)}
    return render(request, "inspections/hazards.html", context)


@login_required
def building(request: AuthedRequest, building_id: int) -> HttpResponse:
    """A building's hazard register: open hazards, rectified ones, and its rounds (the history)."""
    user = request.user
    if not pages.allowed(user, "inspections-hazards"):
        raise Forbidden(_("Your role does not work with inspections."))
    node = territory.node_get(user=user, node_id=building_id)
    if node.kind != NodeKind.BUILDING:
        raise NotFound(_("Not a building."))
    all_hazards = selectors.hazard_list(user=user, building_id=node.pk)
    context = {
        "building": node,
        "site": selectors.site_of(user=user, building=node),
        "open": list(all_hazards.filter(status=HazardStatus.OPEN).order_by("deadline", "id")),
        "closed": _page(request, all_hazards.filter(status=HazardStatus.CLOSED).order_by("-closed_at", "-id")),
        "rounds": list(selectors.round_list(user=user, building_id=node.pk)[:24]),
        "kinds": PlaceKind.choices,
        "may_site": _holds(user, "inspections.site", "change"),
        "today": timezone.localdate(),
        **_nav(user),
    }
    return render(request, "inspections/building.html", context)


@login_required
@require_POST
def building_site(request: AuthedRequest, building_id: int) -> HttpResponse:
    try:
        services.set_site(
            actor=request.user,
            building_id=building_id,
            kind=request.POST.get("kind", ""),
            responsible=request.POST.get("responsible", ""),
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, _("The kind of place was saved; the next rounds use its checklist."))
    return redirect("inspections-building", building_id=building_id)


@login_required
def hazard(request: AuthedRequest, hazard_id: int) -> HttpResponse:
    user = request.user
    item = selectors.hazard_get(user=user, hazard_id=hazard_id)
    try:
        selectors.hazard_get(user=user, hazard_id=hazard_id, action="change")
        may_change = item.status == HazardStatus.OPEN
    except Forbidden:
        may_change = False
    context = {
        "hazard": item,
        "checks": selectors.hazard_checks(user=user, hazard=item),
        "may_change": may_change,
        "today": timezone.localdate(),
        **_nav(user),
    }
    return render(request, "inspections/hazard.html", context)


@login_required
@require_POST
def hazard_recheck(request: AuthedRequest, hazard_id: int) -> HttpResponse:
    rectified = request.POST.get("rectified") == "1"
    try:
        item = services.recheck_hazard(
            actor=request.user, hazard_id=hazard_id, rectified=rectified, note=request.POST.get("note", "")
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        if rectified:
            messages.success(request, _("Rectified: the hazard is closed."))
        else:
            messages.warning(
                request,
                _("Not rectified: escalated to %(severity)s, new deadline %(deadline)s.")
                % {"severity": item.get_severity_display(), "deadline": item.deadline.isoformat()},
            )
    return redirect("inspections-hazard", hazard_id=hazard_id)


@login_required
@require_POST
def hazard_case(request: AuthedRequest, hazard_id: int) -> HttpResponse:
    try:
        item = services.hazard_to_case(actor=request.user, hazard_id=hazard_id)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        assert item.case is not None
        messages.success(request, _("Case %(number)s was raised from the hazard.") % {"number": item.case.number})
    return redirect("inspections-hazard", hazard_id=hazard_id)


@login_required
def case_hazards(request: AuthedRequest, case_id: int) -> HttpResponse:
    """Fragment for the case page: the hazard(s) this case came from (nothing when none, or none in scope)."""
    return render(
        request,
        "inspections/_case_hazards.html",
        {"hazards": selectors.hazards_of_case(user=request.user, case_id=case_id)},
    )


@login_required
def photo(request: AuthedRequest, photo_id: int) -> FileResponse:
    item = selectors.photo_get(user=request.user, photo_id=photo_id)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The file is gone.") from None
    response = FileResponse(handle, content_type=item.content_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- figures --------------------------------------------------------------------------------------------------------


def _place(request: AuthedRequest) -> Any:
    user = request.user
    place_id = int_param(request.GET.get("place"))
    if place_id is not None:
        return territory.node_get(user=user, node_id=place_id)
    roots = territory.scope_roots(user=user)
    if not roots:
        raise NotFound(_("You have no place of your own."))
    return roots[0]


def _figures_context(request: AuthedRequest) -> dict[str, Any]:
    user = request.user
    place = _place(request)
    period = selectors.month_period(request.GET.get("month"))
    shown = selectors.figures(user=user, place=place, period=period)
    base = {"place": place.pk, "month": period.label}

    def url(figure: str, **extra: Any) -> str:
        return f"{reverse('inspections-records')}?{urlencode({**base, 'figure': figure, **extra})}"

    cards = [
        {"key": f, "label": selectors.FIGURE_LABELS[f], "value": shown.counts[f], "url": url(f)}
        for f in selectors.FIGURES
    ]
    for row in shown.by_grid:
        row["urls"] = {k: url(f"rounds_{k}", grid=row["code"]) for k in ("due", "done", "overdue")}
    for row in shown.by_worker:
        extra = {"worker": row["unit"]} if row["unit"] else {}
        row["urls"] = {k: url(f"rounds_{k}", **extra) for k in ("due", "done", "overdue")} if extra else {}
    for row in shown.repeat_buildings:
        row["url"] = url("hazards_repeat", building=row["building_id"])
    return {"figures": shown, "cards": cards, "place": place, "period": period}


@login_required
@pages.page("inspections-figures")
def figures(request: AuthedRequest) -> HttpResponse:
    """Coverage of rounds this month per grid and worker, hazards found and rectified on time, time to rectify,
    repeat hazards per building — each number links to its records."""
    context = {**_figures_context(request), **_nav(request.user)}
    return render(request, "inspections/figures.html", context)


@login_required
def place_figures(request: AuthedRequest) -> HttpResponse:
    """Fragment for a community's or subdistrict's page (territory): the month's inspection figures."""
    if not pages.allowed(request.user, "inspections-figures"):
        return HttpResponse("")
    return render(request, "inspections/_figures_panel.html", _figures_context(request))


@login_required
@pages.page("inspections-figures")
def records(request: AuthedRequest) -> HttpResponse:
    """The records behind one figure (the same query, listed): its count is the figure."""
    user = request.user
    place = _place(request)
    period = selectors.month_period(request.GET.get("month"))
    figure = request.GET.get("figure") or "rounds_due"
    if figure not in selectors.FIGURES:
        raise NotFound(_("No such figure."))
    rows = selectors.records(
        user=user,
        place=place,
        period=period,
        figure=figure,
        grid=(request.GET.get("grid") or "")[:15] or None,
        worker_id=int_param(request.GET.get("worker")),
        building_id=int_param(request.GET.get("building")),
    )
    context = {
        "page": _page(request, rows),
        "figure": figure,
        "label": selectors.FIGURE_LABELS[figure],
        "is_rounds": figure in selectors.ROUND_FIGURES,
        "place": place,
        "period": period,
        "today": timezone.localdate(),
        **_nav(user),
    }
    return render(request, "inspections/records.html", context)


# --- checklists and plans -------------------------------------------------------------------------------------------


@login_required
@pages.page("inspections-checklists")
def checklists(request: AuthedRequest) -> HttpResponse:
    user = request.user
    rows = []
    for checklist in selectors.checklist_list(user=user):
        rows.append(
            {
                "checklist": checklist,
                "items": selectors.checklist_items(user=user, checklist=checklist, active_only=False),
                "may_edit": user.scope_for("inspections.checklistitem", "change").covers(checklist.area.code),
            }
        )
    context = {"rows": rows, "severities": Severity.choices, **_nav(user)}
    return render(request, "inspections/checklists.html", context)


@login_required
@require_POST
def checklist_item(request: AuthedRequest, checklist_id: int) -> HttpResponse:
    post = request.POST
    try:
        services.save_item(
            actor=request.user,
            checklist_id=checklist_id,
            item_id=int_param(post.get("item_id")),
            question=post.get("question", ""),
            basis=post.get("basis", ""),
            photo_required=post.get("photo_required") == "1",
            severity=post.get("severity", Severity.MINOR),
            category_code=post.get("category_code", ""),
            is_active=post.get("is_active", "1") == "1",
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, _("The checklist item was saved."))
    return redirect(f"{reverse('inspections-checklists')}#checklist-{checklist_id}")


@login_required
@pages.page("inspections-plans")
def plans(request: AuthedRequest) -> HttpResponse:
    user = request.user
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            plan = services.create_plan(
                actor=user,
                area_id=int_param(request.POST.get("area")) or 0,
                kind=request.POST.get("kind", ""),
                every_months=int_param(request.POST.get("every_months")) or 0,
                assign_to=request.POST.get("assign_to", AssignTo.GRID_WORKER),
                name=request.POST.get("name", ""),
            )
        except (ValidationFailed, NotFound, Forbidden) as exc:
            errors = _errors(exc) if isinstance(exc, ValidationFailed) else [str(exc.message)]
            status = 400
        else:
            count = selectors.round_list(user=user).filter(plan=plan).count()
            messages.success(request, _("The plan was created: %(count)s rounds this period.") % {"count": count})
            return redirect("inspections-plans")
    may_add = _holds(user, "inspections.plan", "add")
    areas = [n for n in territory.scope_roots(user=user) if n.kind != NodeKind.HOUSEHOLD] if may_add else []
    context = {
        "page": _page(request, selectors.plan_list(user=user)),
        "may_add": may_add,
        "areas": areas,
        "kinds": PlaceKind.choices,
        "assign_choices": AssignTo.choices,
        "errors": errors,
        **_nav(user),
    }
    return render(request, "inspections/plans.html", context, status=status)
