"""The three lists' pages (phone first): the needs, resources and projects of a community; a need with its suggested
resources (and why), a resource with the needs it could serve, a project with its milestones and progress, a
co-building unit's year (exportable as XLSX).

Views hold no business logic: reads through ``participation.selectors``, writes through ``participation.services``.
A service's refusal is shown on the page (a form's errors, or the message of a conflict); ``NotFound`` and
``Forbidden`` go to the error middleware.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import Conflict, DomainError, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest, int_param
from gongzhi.core.middleware import is_htmx
from gongzhi.core.privacy import mask_phone
from gongzhi.participation import selectors, services
from gongzhi.participation.choices import NeedStatus, ProjectState, ResourceKind, Slot
from gongzhi.participation.forms import AcceptForm, NeedForm, ProgressForm, ResourceForm
from gongzhi.territory import selectors as territory

PAGE_SIZE = 20
NEED_FIELDS = {"category_id": "category", "place_id": "place"}
RESOURCE_FIELDS = {"unit_id": "unit", "category_id": "category", "place_id": "place"}



def _place(request: AuthedRequest) -> Any:
    place_id = int_param(request.GET.get("place"))
    return territory.node_get(user=request.user, node_id=place_id) if place_id else None


def _slot_names(slots: list[str]) -> str:
    labels = dict(Slot.choices)
    return "、".join(str(labels.get(s, s)) for s in slots)


def _lists_context(request: AuthedRequest, tab: str, queryset: Any, **extra: Any) -> dict[str, Any]:
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    return {
        "tab": tab,
        "page": page,
        "place": _place(request),
        "communities": selectors.communities(user=user),
        "categories": selectors.categories(),
        "may_add_need": not user.scope_for("participation.need", "add").is_empty,
        "may_add_resource": not user.scope_for("participation.resource", "add").is_empty,
        "q": request.GET.get("q", ""),
        **extra,
    }


def _render_list(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    template = "participation/_list.html" if is_htmx(request) else "participation/lists.html"
    return render(request, template, context)


@login_required
@pages.page("participation-needs")
def need_list(request: AuthedRequest) -> HttpResponse:
    """需求清单: the needs of a community (or of the user's whole ground)."""
    status = request.GET.get("status") or None
    category_id = int_param(request.GET.get("category"))
    qs = selectors.need_list(
        user=request.user, place=_place(request), status=status, category_id=category_id, q=request.GET.get("q") or None
    )
    context = _lists_context(request, "needs", qs, status=status, category_id=category_id, statuses=NeedStatus.choices)
    return _render_list(request, context)


@login_required
@pages.page("participation-resources")
def resource_list(request: AuthedRequest) -> HttpResponse:
    """资源清单: what the units offer on (and above) a community."""
    kind = request.GET.get("kind") or None
    qs = selectors.resource_list(
        user=request.user,
        place=_place(request),
        kind=kind,
        unit_id=int_param(request.GET.get("unit")),
        category_id=int_param(request.GET.get("category")),
        q=request.GET.get("q") or None,
    )
    return _render_list(request, _lists_context(request, "resources", qs, kind=kind, kinds=ResourceKind.choices))


@login_required
@pages.page("participation-projects")
def project_list(request: AuthedRequest) -> HttpResponse:
    """项目清单: the projects on a community, by state."""
    state = request.GET.get("state") or None
    qs = selectors.project_list(
        user=request.user,
        place=_place(request),
        state=state,
        unit_id=int_param(request.GET.get("unit")),
        reached=request.GET.get("reached") == "1",
    )
    return _render_list(request, _lists_context(request, "projects", qs, state=state, states=ProjectState.choices))


# --- needs ------------------------------------------------------------------------------------------------------------


@login_required
@pages.page("participation-needs")
def need_detail(request: AuthedRequest, need_id: int) -> HttpResponse:
    need = selectors.need_get(user=request.user, need_id=need_id)
    match = selectors.active_match(need=need)
    project = selectors.project_list(user=request.user).filter(need=need).first() if match is not None else None
    units = selectors.my_units(user=request.user)
    return render(
        request,
        "participation/need.html",
        {
            "need": need,
            "match": match,
            "project": project,
            "slots": _slot_names(need.slots),
            "may_confirm": selectors.may(
                user=request.user, label="participation.match", action="add", place_code=need.place_code
            ),
            "units": units,
            "my_resources": list(selectors.resource_list(user=request.user, available=True).filter(unit__in=units))
            if units
            else [],
        },
    )


@login_required
@pages.page("participation-needs")
def need_suggestions(request: AuthedRequest, need_id: int) -> HttpResponse:
    """The suggested resources of a need (an HTMX partial of the need's page)."""
    need = selectors.need_get(user=request.user, need_id=need_id)
    return render(
        request,
        "participation/_need_suggestions.html",
        {
            "need": need,
            "suggestions": selectors.need_suggestions(user=request.user, need=need),
            "may_confirm": selectors.may(
                user=request.user, label="participation.match", action="add", place_code=need.place_code
            ),
        },
    )


@login_required
@pages.page("participation-need-new")
@require_http_methods(["GET", "POST"])
def need_new(request: AuthedRequest) -> HttpResponse:
    kwargs: dict[str, Any] = {
        "categories": selectors.categories(),
        "places": selectors.places_for_needs(user=request.user),
    }
    status = 200
    if request.method == "POST":
        form = NeedForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                need = services.create_need(actor=request.user, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, NEED_FIELDS)
            else:
                messages.success(request, _("The need is on the list: see the suggested resources below."))
                return redirect("participation-need", need_id=need.pk)
        status = 400
    else:
        form = NeedForm(initial={"place": int_param(request.GET.get("place"))}, **kwargs)
    return render(request, "participation/form.html", {"form": form, "what": "need"}, status=status)


def _take(request: AuthedRequest, need_id: int, write: Any) -> HttpResponse:
    try:
        project = write()
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("participation-need", need_id=need_id)
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return redirect("participation-need", need_id=need_id)
    messages.success(request, _("Matched: the project has begun."))
    return redirect("participation-project", project_id=project.pk)


@login_required
@pages.page("participation-needs")
@require_POST
def need_confirm(request: AuthedRequest, need_id: int) -> HttpResponse:
    resource_id = int_param(request.POST.get("resource_id")) or 0
    return _take(
        request,
        need_id,
        lambda: services.confirm_match(actor=request.user, need_id=need_id, resource_id=resource_id),
    )


@login_required
@pages.page("participation-needs")
@require_POST
def need_claim(request: AuthedRequest, need_id: int) -> HttpResponse:
    resource_id = int_param(request.POST.get("resource_id"))
    unit_id = int_param(request.POST.get("unit_id"))
    return _take(
        request,
        need_id,
        lambda: services.claim_need(actor=request.user, need_id=need_id, unit_id=unit_id, resource_id=resource_id),
    )


# --- resources ------------------------------------------------------------------------------------------------------


@login_required
@pages.page("participation-resources")
def resource_detail(request: AuthedRequest, resource_id: int) -> HttpResponse:
    res = selectors.resource_get(user=request.user, resource_id=resource_id)
    units = selectors.my_units(user=request.user)
    return render(
        request,
        "participation/resource.html",
        {
            "res": res,
            "phone": mask_phone(res.contact_phone),
            "slots": _slot_names(res.slots),
            "suggestions": selectors.resource_suggestions(user=request.user, resource=res),
            "may_claim": res.unit in units,
            "may_confirm": selectors.may(
                user=request.user, label="participation.match", action="add", place_code=res.place.code
            ),
        },
    )


@login_required
@pages.page("participation-resource-new")
@require_http_methods(["GET", "POST"])
def resource_new(request: AuthedRequest) -> HttpResponse:
    kwargs: dict[str, Any] = {
        "units": selectors.unit_choices(user=request.user),
        "categories": selectors.categories(),
        "places": selectors.places_for_resources(user=request.user),
    }
    status = 200
    if request.method == "POST":
        form = ResourceForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                res = services.create_resource(actor=request.user, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, RESOURCE_FIELDS)
            else:
                messages.success(request, _("The resource is published: see the needs it could serve below."))
                return redirect("participation-resource", resource_id=res.pk)
        status = 400
    else:
        form = ResourceForm(**kwargs)
    return render(request, "participation/form.html", {"form": form, "what": "resource"}, status=status)


# --- projects -------------------------------------------------------------------------------------------------------


def _project_context(request: AuthedRequest, project_id: int, **extra: Any) -> dict[str, Any]:
    user = request.user
    project = selectors.project_get(user=user, project_id=project_id)
    may_report = project.state in (ProjectState.PLANNED, ProjectState.IN_PROGRESS) and bool(
        type(project).objects.restrict(user, "change").filter(pk=project.pk).exists()
    )
    may_accept = project.state == ProjectState.COMPLETED and selectors.may(
        user=user, label="participation.project", action="change", place_code=project.place_code
    )
    return {
        "project": project,
        "milestones": selectors.milestones(user=user, project=project),
        "reports": selectors.reports(user=user, project=project),
        "may_report": may_report,
        "may_accept": may_accept,
        "progress_form": extra.pop("progress_form", None) or ProgressForm(initial={"progress": project.progress}),
        "accept_form": extra.pop("accept_form", None) or AcceptForm(),
        **extra,
    }


@login_required
@pages.page("participation-projects")
def project_detail(request: AuthedRequest, project_id: int) -> HttpResponse:
    return render(request, "participation/project.html", _project_context(request, project_id))


@login_required
@pages.page("participation-projects")
@require_POST
def project_progress(request: AuthedRequest, project_id: int) -> HttpResponse:
    form = ProgressForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        done = [m for m in (int_param(v) for v in request.POST.getlist("milestones_done")) if m]
        try:
            services.report_progress(
                actor=request.user,
                project_id=project_id,
                progress=d["progress"],
                note=d["note"],
                hours=d["hours"],
                funds=d["funds"],
                people_served=d["people_served"],
                milestones_done=done,
                photo=d["photo"],
            )
        except DomainError as exc:
            if isinstance(exc, ValidationFailed):
                add_service_errors(form, exc)
            else:
                messages.error(request, str(exc.message))
                return redirect("participation-project", project_id=project_id)
        else:
            messages.success(request, _("Progress reported."))
            return redirect("participation-project", project_id=project_id)
    context = _project_context(request, project_id, progress_form=form)
    return render(request, "participation/project.html", context, status=400)


@login_required
@pages.page("participation-projects")
@require_POST
def project_accept(request: AuthedRequest, project_id: int) -> HttpResponse:
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            services.accept_project(actor=request.user, project_id=project_id, **form.cleaned_data)
        except DomainError as exc:
            if isinstance(exc, ValidationFailed):
                add_service_errors(form, exc)
            else:
                messages.error(request, str(exc.message))
                return redirect("participation-project", project_id=project_id)
        else:
            messages.success(request, _("Completion confirmed: the need is closed."))
            return redirect("participation-project", project_id=project_id)
    context = _project_context(request, project_id, accept_form=form)
    return render(request, "participation/project.html", context, status=400)


# --- a unit's year ----------------------------------------------------------------------------------------------------


@login_required
@pages.page("participation-mine")
def mine(request: AuthedRequest) -> HttpResponse:
    """A co-building unit's own page: its unit's year (the first of its units)."""
    units = selectors.my_units(user=request.user)
    if not units:
        return render(request, "participation/no_unit.html")
    return _unit_page(request, units[0])


def _year(request: AuthedRequest) -> int:
    year = int_param(request.GET.get("year"))
    return year if year and 2000 <= year <= 2100 else selectors.this_year()


@login_required
@pages.page("participation-projects")
def unit_detail(request: AuthedRequest, unit_id: int) -> HttpResponse:
    return _unit_page(request, selectors.unit_get(user=request.user, unit_id=unit_id))


def _unit_page(request: AuthedRequest, unit: Any) -> HttpResponse:
    year = _year(request)
    c = selectors.contribution(user=request.user, unit=unit, year=year)
    mine = unit in selectors.my_units(user=request.user)
    resources = list(selectors.resource_list(user=request.user, unit_id=unit.pk)[:50])
    return render(
        request,
        "participation/unit.html",
        {
            "unit": unit,
            "c": c,
            "year": year,
            "years": list(range(selectors.this_year(), selectors.this_year() - 4, -1)),
            "states": dict(ProjectState.choices),
            "mine": mine,
            "resources": resources,
            "to_take_on": selectors.needs_for_unit(user=request.user, resources=resources) if mine else [],
            "needs_url_status": NeedStatus.OPEN,
        },
    )


@login_required
@pages.page("participation-projects")
def unit_export(request: AuthedRequest, unit_id: int) -> HttpResponse:
    """The unit's year as an XLSX, for its own reporting: a summary sheet and one row per project."""
    from openpyxl import Workbook

    unit = selectors.unit_get(user=request.user, unit_id=unit_id)
    year = _year(request)
    c = selectors.contribution(user=request.user, unit=unit, year=year)
    states = dict(ProjectState.choices)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Summary")
    sheet.append([_("Unit"), unit.name])
    sheet.append([_("Year"), year])
    sheet.append([_("Projects"), c.projects])
    sheet.append([_("Volunteer hours"), float(c.hours)])
    sheet.append([_("Funds (yuan)"), float(c.funds)])
    sheet.append([_("People served"), c.people_served])
    rows = book.create_sheet(_("Projects"))
    rows.append(
        [_("Project"), _("Place"), _("Category"), _("State"), _("Progress %"), _("Volunteer hours"),
         _("Funds (yuan)"), _("People served"), _("Satisfaction %")]
    )  # fmt: skip
    for p in c.rows:
        rows.append(
            [p.title, p.place.name, p.need.category.name, str(states.get(p.state, p.state)), p.progress,
             float(p.hours), float(p.funds), p.people_served, p.satisfaction if p.satisfaction is not None else ""]
        )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="contribution-{unit.pk}-{year}.xlsx"'
    return response
