"""Pages of the visits app: the grid worker's households on a phone (find a door, see who lives there, record the
visit, turn a need into a case), and the desk's campaign coverage and care-visit board.

Views hold no business logic: reads go through ``visits.selectors`` (and the registry's and cases' selectors),
writes through ``visits.services``. A refusal from a service is shown next to the field it names
(``core.forms.add_service_errors``); ``NotFound`` (out of scope) and ``Forbidden`` propagate to the error
middleware (404 / 403 pages). Personal data on these pages is masked (``core.privacy``); nothing here reveals it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.cases import selectors as cases_selectors
from gongzhi.cases.views import CASE_STRINGS
from gongzhi.core.access import reaches
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest, int_param
from gongzhi.core.idempotency import idempotent
from gongzhi.core.middleware import is_htmx
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry import selectors as registry
from gongzhi.registry.choices import TagKind
from gongzhi.territory.choices import NodeKind
from gongzhi.visits import selectors, services
from gongzhi.visits.forms import CampaignForm, CarePlanForm, VisitForm
from gongzhi.visits.models import Campaign, CarePlan

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

    from gongzhi.territory.models import Node

HOUSEHOLD_PAGE_SIZE = 30
VISIT_PAGE_SIZE = 20
CAMPAIGN_PAGE_SIZE = 20
UNCOVERED_PAGE_SIZE = 20
CARE_PAGE_SIZE = 50
PEOPLE_RESULTS = 20
# Where a service's field lands on a page's form.
VISIT_FIELDS = {"category_id": "category", "person_id": "person", "visited_at": None, "campaign_id": None}
CAMPAIGN_FIELDS = {"area_id": "area"}
CARE_FIELDS = {"person_id": "person"}


# --- helpers ------------------------------------------------------------------------------------------------------


def _holds(user: User, label: str, action: str) -> bool:
    """Does any of the user's roles grant ``action`` on ``label`` somewhere (not just on their own rows)?"""
    scope = user.scope_for(label, action)
    return bool(scope.everything or scope.prefixes or scope.lead_bodies)


def _require(user: User, label: str, action: str = "view") -> None:
    if not _holds(user, label, action):
        raise Forbidden(_("Your role does not work with household visits."))



def _paginate(request: HttpRequest, rows: Any, size: int) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def _nav(user: User) -> dict[str, bool]:
    return {
        "nav_campaigns": pages.allowed(user, "visits-campaigns"),  # the page policy, as the main menu
        "nav_care": _holds(user, "visits.careplan", "view"),
    }


def _age(birth: datetime.date | None, today: datetime.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _tag_labels(person: Any, today: datetime.date) -> list[str]:
    """The key-service tags that apply today (``tags`` prefetched by the selector)."""
    labels = []
    for tag in person.tags.all():
        if tag.since <= today and (tag.until is None or tag.until >= today):
            labels.append(tag.label or str(tag.get_tag_display()))
    return labels


def _person_row(person: Any, today: datetime.date) -> dict[str, Any]:
    """A person as the pages show them: name, age, tags, and the ID number and phone masked."""
    return {
        "person": person,
        "age": _age(person.birth_date, today),
        "tags": _tag_labels(person, today),
        "id_masked": mask_id_number(person.id_number),
        "phone_masked": mask_phone(person.phone),
    }


def _tags_label(tags: list[str]) -> list[str]:
    labels = dict(TagKind.choices)
    return [str(labels.get(t, t)) for t in tags]


# --- the grid worker: my households -------------------------------------------------------------------------------


@login_required
@pages.page("visits-home")
def home(request: AuthedRequest) -> HttpResponse:
    """我的住户: the households on my ground; search, and the chips "campaign to-do" and "care visits due"."""
    user = request.user
    _require(user, "visits.visit")
    today = timezone.localdate()
    q = (request.GET.get("q") or "").strip()[:60]
    todo = int_param(request.GET.get("todo"))
    care = request.GET.get("care") == "1"
    campaigns = list(selectors.campaign_list(user=user, active_only=True)[:20])
    counts = selectors.todo_counts(user=user, campaign_ids=[c.pk for c in campaigns])
    chips = [{"campaign": c, "count": counts.get(c.pk, 0)} for c in campaigns]
    rows = selectors.household_rows(user=user, q=q or None, todo_campaign_id=todo, care_due=care, today=today)
    page = _paginate(request, rows, HOUSEHOLD_PAGE_SIZE)
    context = {
        "page": page,
        "q": q,
        "todo": todo,
        "care": care,
        "chips": chips,
        "care_count": selectors.care_due_count(user=user, today=today),
        "today": today,
        "filtered": bool(q or todo or care),
        **_nav(user),
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "household-list":
        return render(request, "visits/_household_list.html", context)
    return render(request, "visits/home.html", context)


def _household_context(
    request: AuthedRequest, household: Node, *, form: VisitForm | None = None, people: list[Any] | None = None
) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    if people is None:
        people = selectors.household_people(user=user, household=household)
    may_record = reaches(user, "visits.visit", "add", household)
    if form is None and may_record:
        form = VisitForm(people=people, categories=cases_selectors.active_categories())
    building = household.parent
    grid = building.parent if building is not None and building.kind == NodeKind.BUILDING else None
    plans = selectors.household_care_plans(user=user, household=household)
    visits = _paginate(request, selectors.visit_list(user=user, household_id=household.pk), VISIT_PAGE_SIZE)
    return {
        "household": household,
        "building": building,
        "grid": grid,
        "residents": [_person_row(p, today) for p in people],
        "targets": selectors.open_targets_of(user=user, household=household),
        "plans": [{"plan": p, "days_overdue": selectors.days_overdue(p, today)} for p in plans],
        "visits": visits,
        "form": form,
        "may_record": may_record,
        "case_strings": CASE_STRINGS,
        "today": today,
        **_nav(user),
    }


@login_required
def household(request: AuthedRequest, household_id: int) -> HttpResponse:
    """One household: address, residents (masked), open campaign targets, care plans, visits, and the visit form."""
    home_ = selectors.household_get(user=request.user, household_id=household_id)
    _require(request.user, "visits.visit")
    return render(request, "visits/household.html", _household_context(request, home_))


@login_required
@require_POST
@idempotent("visits.record")
def record(request: AuthedRequest, household_id: int) -> HttpResponse:
    """Record a visit at the door. Success → back to the household with a message (and the case raised, linked)."""
    user = request.user
    home_ = selectors.household_get(user=user, household_id=household_id)
    people = selectors.household_people(user=user, household=home_)
    form = VisitForm(request.POST, people=people, categories=cases_selectors.active_categories())
    if form.is_valid():
        try:
            visit = services.record_visit(actor=user, household_id=home_.pk, **form.service_kwargs())
        except ValidationFailed as exc:
            add_service_errors(form, exc, VISIT_FIELDS)
        else:
            visit = selectors.visit_get(user=user, visit_id=visit.pk)
            if visit.case is not None:
                link = format_html(
                    '<a href="{}" id="raised-case" data-case-number="{}">{}</a>',
                    reverse("cases-detail", args=[visit.case.pk]),
                    visit.case.number,
                    visit.case.number,
                )
                messages.success(
                    request, format_html(_("The visit was recorded and case {case} was raised."), case=link)
                )
            else:
                messages.success(
                    request,
                    _("The visit was recorded: %(outcome)s.") % {"outcome": visit.get_outcome_display()},
                )
            return redirect("visits-household", household_id=home_.pk)
    context = _household_context(request, home_, form=form, people=people)
    context["form_open"] = True
    return render(request, "visits/household.html", context, status=400)


# --- campaigns ----------------------------------------------------------------------------------------------------


def _may_close(user: User, campaign: Campaign) -> bool:
    if campaign.closed_at is not None:
        return False
    try:
        selectors.campaign_get(user=user, campaign_id=campaign.pk, action="change")
    except (NotFound, Forbidden):
        return False
    return True


@login_required
@pages.page("visits-campaigns")
def campaigns(request: AuthedRequest) -> HttpResponse:
    """走访活动: the campaigns in scope with their period, area, tags and total coverage."""
    user = request.user
    _require(user, "visits.campaign")
    page = _paginate(request, selectors.campaign_list(user=user), CAMPAIGN_PAGE_SIZE)
    today = timezone.localdate()
    rows = [
        {
            "campaign": c,
            "total": selectors.campaign_total(user=user, campaign=c),
            "tags": _tags_label(c.tags),
            "running": c.closed_at is None and c.starts <= today <= c.ends,
        }
        for c in page.object_list
    ]
    return render(
        request,
        "visits/campaigns.html",
        {"page": page, "rows": rows, "may_add": _holds(user, "visits.campaign", "add"), **_nav(user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: AuthedRequest) -> HttpResponse:
    """A new campaign over an area of my scope (optionally only households with key service targets)."""
    user = request.user
    areas = selectors.campaign_areas(user=user)
    if not areas:
        raise Forbidden(_("You may not run a visit campaign."))
    status = 200
    if request.method == "POST":
        form = CampaignForm(request.POST, areas=areas)
        if form.is_valid():
            try:
                campaign = services.create_campaign(actor=user, **form.service_kwargs())
            except ValidationFailed as exc:
                add_service_errors(form, exc, CAMPAIGN_FIELDS)
            else:
                total = selectors.campaign_total(user=user, campaign=campaign)
                messages.success(
                    request,
                    _("The campaign “%(name)s” was started: %(count)s households to visit.")
                    % {"name": campaign.name, "count": total.targets},
                )
                return redirect("visits-campaign", campaign_id=campaign.pk)
        status = 400
    else:
        today = timezone.localdate()
        form = CampaignForm(areas=areas, initial={"starts": today, "ends": today + datetime.timedelta(days=30)})
    return render(request, "visits/campaign_new.html", {"form": form, **_nav(user)}, status=status)


def _coverage_context(user: User, campaign: Campaign) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "total": selectors.campaign_total(user=user, campaign=campaign),
        "by_community": selectors.coverage(user=user, campaign=campaign, by="community"),
        "by_grid": selectors.coverage(user=user, campaign=campaign, by="grid"),
        "updated_at": timezone.localtime(),
    }


@login_required
def campaign(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Coverage live (refreshed every 20 s), the households still to visit per grid, and closing the campaign."""
    user = request.user
    item = selectors.campaign_get(user=user, campaign_id=campaign_id)
    context = _coverage_context(user, item)
    context.update(
        {
            "tags": _tags_label(item.tags),
            "may_close": _may_close(user, item),
            "open_grids": [row for row in context["by_grid"] if row.remaining],
            **_nav(user),
        }
    )
    return render(request, "visits/campaign.html", context)


@login_required
def campaign_coverage(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The coverage fragment the campaign page polls."""
    item = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    return render(request, "visits/_coverage.html", _coverage_context(request.user, item))


@login_required
def campaign_uncovered(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The households of one grid the campaign has not reached yet, with who is to visit them (paginated)."""
    user = request.user
    item = selectors.campaign_get(user=user, campaign_id=campaign_id)
    within = (request.GET.get("within") or "").strip()
    if not within.isdigit():  # a territory code; the selector only ever shows targets the user may see
        within = ""
    targets = selectors.campaign_targets(user=user, campaign=item, uncovered=True, within_code=within or None)
    page = _paginate(request, targets, UNCOVERED_PAGE_SIZE)
    context = {
        "campaign": item,
        "page": page,
        "within": within,
        "base_url": reverse("visits-campaign-uncovered", args=[item.pk]),
        **_nav(user),
    }
    if is_htmx(request):
        return render(request, "visits/_uncovered.html", context)
    return render(request, "visits/uncovered.html", context)


@login_required
@require_POST
def campaign_close(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    try:
        item = services.close_campaign(actor=request.user, campaign_id=campaign_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The campaign “%(name)s” was closed.") % {"name": item.name})
    return redirect("visits-campaign", campaign_id=campaign_id)


# --- care visits --------------------------------------------------------------------------------------------------


def _care_context(
    request: AuthedRequest, *, form: CarePlanForm | None = None, chosen: list[Any] | None = None
) -> dict[str, Any]:
    user: User = request.user
    today = timezone.localdate()
    mine = request.GET.get("mine") == "1"
    board = selectors.care_board(user=user, mine=mine, today=today)
    may_end = user.scope_for(CarePlan._meta.label_lower, "change")
    page = _paginate(request, board.plans, CARE_PAGE_SIZE)

    def rows(plans: list[CarePlan]) -> list[dict[str, Any]]:
        out = []
        for plan in plans:
            home_ = plan.person.household
            out.append(
                {
                    "plan": plan,
                    "days_overdue": selectors.days_overdue(plan, today),
                    "may_end": home_ is not None and may_end.covers(home_.code, home_.lead_body_id),
                }
            )
        return out

    # The page's rows, in due order, headed by section (overdue, this week, later) with each section's total.
    plans = list(page.object_list)
    sections = [
        ("overdue", [p for p in plans if p.next_due < today], board.overdue_total),
        ("week", [p for p in plans if today <= p.next_due <= board.week_end], board.this_week_total),
        ("later", [p for p in plans if p.next_due > board.week_end], board.later_total),
    ]
    may_add = _holds(user, "visits.careplan", "add")
    q = (request.GET.get("q") or "").strip()[:60]
    if chosen is None and may_add and q:
        chosen = list(
            registry.person_list(user=user, q=q)
            .exclude(household=None)
            .select_related("household__parent")[:PEOPLE_RESULTS]
        )
    return {
        "mine": mine,
        "today": today,
        "page": page,
        "overdue": rows(sections[0][1]),
        "this_week": rows(sections[1][1]),
        "later": rows(sections[2][1]),
        "overdue_total": board.overdue_total,
        "this_week_total": board.this_week_total,
        "later_total": board.later_total,
        "may_add": may_add,
        "form": form or (CarePlanForm(today=today) if may_add else None),
        "form_open": form is not None or bool(q),
        "q": q,
        "people": [_person_row(p, today) for p in chosen or []],
        "searched": bool(q),
        "chosen_id": form.data.get("person") if form is not None and form.is_bound else None,
        **_nav(user),
    }


@login_required
def care(request: AuthedRequest) -> HttpResponse:
    """关爱走访: care visits overdue (days overdue), then due this week, then later; "mine" filter."""
    _require(request.user, "visits.careplan")
    return render(request, "visits/care.html", _care_context(request))


@login_required
def care_people(request: AuthedRequest) -> HttpResponse:
    """HTMX partial of the care-plan form: people in scope whose name or room matches (ID and phone masked)."""
    user = request.user
    _require(user, "visits.careplan", "add")
    today = timezone.localdate()
    q = (request.GET.get("q") or "").strip()[:60]
    people = (
        list(
            registry.person_list(user=user, q=q)
            .exclude(household=None)
            .select_related("household__parent")[:PEOPLE_RESULTS]
        )
        if q
        else []
    )
    return render(
        request,
        "visits/_people.html",
        {"people": [_person_row(p, today) for p in people], "searched": bool(q), "q": q},
    )


@login_required
@require_POST
def care_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    _require(user, "visits.careplan", "add")
    form = CarePlanForm(request.POST)
    chosen: list[Any] = []
    if form.is_valid():
        try:
            plan = services.create_care_plan(actor=user, **form.service_kwargs())
        except (ValidationFailed, Conflict) as exc:
            add_service_errors(form, exc, CARE_FIELDS)
        else:
            messages.success(
                request,
                _("Care visits for %(name)s every %(days)s days, the first due %(due)s.")
                % {"name": plan.person.name, "days": plan.every_days, "due": plan.next_due.isoformat()},
            )
            return redirect("visits-care")
    person_id = int_param(request.POST.get("person"))
    if person_id is not None:
        try:
            chosen = [registry.person_get(user=user, person_id=person_id)]
        except NotFound:
            chosen = []
    context = _care_context(request, form=form, chosen=chosen)
    return render(request, "visits/care.html", context, status=400)


@login_required
@require_POST
def care_end(request: AuthedRequest, care_plan_id: int) -> HttpResponse:
    try:
        plan = services.end_care_plan(actor=request.user, care_plan_id=care_plan_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The care visits for %(name)s were ended.") % {"name": plan.person.name})
    target = reverse("visits-care")
    return redirect(f"{target}?mine=1" if request.POST.get("mine") == "1" else target)
