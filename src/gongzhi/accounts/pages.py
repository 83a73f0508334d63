"""Which role may open which page: the one policy the views and the menu both read.

Each :class:`Page` names a URL, its menu label and the roles that may open it. A view guards itself with
``@pages.page("cases-desk")`` (or ``pages.require(user, name)``; below the accounts layer
``core.pageguard.page``, which this policy is installed into when the app is ready): not allowed → the 403 page.
The menu (``templates/base.html``, through :func:`nav` in the context processor) lists exactly the pages whose
check passes, so it can never offer a page that answers 403 or 404.
Admins (superusers or the admin role) open every page.

The data a page shows is still read through its app's selectors (``restrict()``); this policy only says who has a
use for the page at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.accounts.choices import Role
from gongzhi.core import pageguard

R = Role
DESK = frozenset({R.SUBDISTRICT_OPERATOR, R.COMMUNITY_STAFF, R.GRID_LEADER})
GROUND = DESK | {R.GRID_WORKER}
PASSED = frozenset({R.MEDIATOR, R.DEPARTMENT_HANDLER, R.CO_BUILDING_UNIT})  # reach cases passed to their body
# The roles that take a case in on the staff form (cases.views.ROLE_CHANNELS says from which sources).
REPORTING = GROUND | {R.BUILDING_HEAD, R.MEDIATOR}
# The three lists (三张清单): staff and grid workers keep them, building heads read them, units take needs on.
LISTS = GROUND | {R.BUILDING_HEAD, R.CO_BUILDING_UNIT}


@dataclass(frozen=True)
class Page:
    name: str  # the URL name
    label: Any
    roles: frozenset[str]
    menu: bool = True  # listed in the main menu (else only guarded)
    current: tuple[str, ...] = field(default=())  # other URL names under this menu item (aria-current)
    dom_id: str = ""
    check: Callable[[Any], bool] | None = None  # a further condition on the user, beyond the role
    admins: bool = True  # False: a page of the role's own (the resident's reports), not one admins open


def _has_ground(user: Any) -> bool:
    """The user reads places of their own (a subtree): the map has something to show."""
    scope = user.scope_for("territory.node", "view")
    return bool(scope.everything or scope.prefixes)


def _sees_posts(user: Any) -> bool:
    """Service posts: staff of a ground, a unit, or a resident whose role stands on their community (a party member
    reported in there); a resident without a place has no posts to see."""
    scope = user.scope_for("service.post", "view")
    return bool(scope.everything or scope.prefixes or scope.bodies)


def _sees_campaigns(user: Any) -> bool:
    """Recognition: a user with a place (staff, a resident where they live) sees the campaigns over it."""
    scope = user.scope_for("recognition.campaign", "view")
    return bool(scope.everything or scope.prefixes or scope.bodies)


def _sees_activities(user: Any) -> bool:
    """Volunteer activities: staff of a ground, a unit, or a resident whose role stands on their community."""
    scope = user.scope_for("service.activity", "view")
    return bool(scope.everything or scope.prefixes or scope.bodies)


# The volunteer pages under the one menu item (志愿服务).
VOLUNTEER_PAGES = (
    "service-activity",
    "service-activity-new",
    "service-activity-qr",
    "service-activity-check",
    "service-volunteers",
    "service-volunteer",
    "service-volunteer-new",
    "service-volunteer-mine",
    "service-volunteer-figures",
    "service-figure-volunteers",
    "service-figure-served",
    "service-teams",
)


# The inspections pages under its one menu item (安全巡查).
INSPECTION_PAGES = (
    "inspections-round",
    "inspections-hazard",
    "inspections-building",
    "inspections-hazards",
    "inspections-figures",
    "inspections-records",
    "inspections-checklists",
    "inspections-plans",
)
def _sends_or_receives_notices(user: Any) -> bool:
    """Police notices land on a place (the grid's) or are sent by a body (the police station's)."""
    scope = user.scope_for("disputes.policenotice", "view")
    return bool(scope.everything or scope.prefixes or scope.lead_bodies or scope.bodies)


PAGES: tuple[Page, ...] = (
    Page("home", pgettext_lazy("nav", "My scope"), frozenset(Role.values), dom_id="nav-home"),
    Page(
        "territory-browser",
        _("Territory map"),
        GROUND | {R.BUILDING_HEAD, R.MEDIATOR, R.DEPARTMENT_HANDLER},
        current=("territory-node",),
        dom_id="nav-territory",
        check=_has_ground,
    ),
    Page(
        "cases-todo",
        pgettext_lazy("nav", "My to-do"),
        GROUND | {R.BUILDING_HEAD, R.MEDIATOR, R.DEPARTMENT_HANDLER},
        current=("cases-detail", "cases-report"),
        dom_id="nav-todo",
    ),
    Page("cases-report", _("Report"), REPORTING, menu=False),  # the big 上报 button on the workbench and to-do
    Page(
        "cases-my-report",
        pgettext_lazy("nav", "Report a problem"),
        frozenset({R.RESIDENT}),
        dom_id="nav-my-report",
        admins=False,
    ),
    Page(
        "cases-mine",
        pgettext_lazy("nav", "My reports"),
        frozenset({R.RESIDENT}),
        current=("cases-mine-detail",),
        dom_id="nav-mine",
        admins=False,
    ),
    Page("cases-desk", pgettext_lazy("nav", "Intake desk"), DESK, dom_id="nav-desk"),
    Page("cases-overdue", pgettext_lazy("nav", "Overdue"), DESK, dom_id="nav-overdue"),
    Page("cases-list", pgettext_lazy("nav", "All cases"), DESK | PASSED, dom_id="nav-cases"),
    Page(
        "kpis-dashboard",
        pgettext_lazy("nav", "Figures"),
        GROUND,
        current=("kpis-drill", "kpis-reports", "kpis-report-month", "kpis-disputes", "kpis-disputes-drill"),
        dom_id="nav-kpis",
    ),
    Page(
        "kpis-me",
        pgettext_lazy("nav", "My performance"),
        frozenset({R.GRID_WORKER, R.GRID_LEADER, R.DEPARTMENT_HANDLER, R.COMMUNITY_STAFF}),
        dom_id="nav-kpis-me",
    ),
    Page(
        "disputes-desk",
        pgettext_lazy("nav", "Mediation"),
        GROUND | {R.MEDIATOR},
        current=("disputes-new",),
        dom_id="nav-disputes",
    ),
    Page(
        "disputes-list",
        pgettext_lazy("nav", "Disputes"),
        GROUND | {R.MEDIATOR, R.DEPARTMENT_HANDLER},
        current=("disputes-detail", "disputes-agreement-print"),
        dom_id="nav-disputes-list",
    ),
    Page("disputes-new", _("Register a dispute"), GROUND | {R.MEDIATOR}, menu=False),
    Page(
        "disputes-notices",
        pgettext_lazy("nav", "Police notices"),
        GROUND | {R.DEPARTMENT_HANDLER, R.CO_BUILDING_UNIT},
        current=("disputes-notice", "disputes-notice-new"),
        dom_id="nav-police-notices",
        check=_sends_or_receives_notices,
    ),
    Page(
        "visits-home",
        pgettext_lazy("nav", "My households"),
        frozenset({R.COMMUNITY_STAFF, R.GRID_LEADER, R.GRID_WORKER, R.BUILDING_HEAD}),  # the door-to-door list
        current=("visits-household",),
        dom_id="nav-visits",
    ),
    Page(
        "registry-people",
        pgettext_lazy("nav", "Residents"),
        GROUND | {R.BUILDING_HEAD},
        current=("registry-person", "registry-household"),
        dom_id="nav-registry",
    ),
    Page(
        "visits-campaigns",
        pgettext_lazy("nav", "Visits"),
        GROUND,
        current=("visits-campaign", "visits-care"),
        dom_id="nav-campaigns",
    ),
    Page(
        "inspections-home",
        pgettext_lazy("nav", "Inspections"),
        GROUND | {R.BUILDING_HEAD},  # the rounds to do, on a phone
        current=INSPECTION_PAGES,
        dom_id="nav-inspections",
    ),
    Page("inspections-hazards", _("Hazard register"), GROUND | {R.BUILDING_HEAD}, menu=False),
    Page("inspections-figures", _("Inspection figures"), GROUND, menu=False),
    Page("inspections-checklists", _("Checklists"), DESK, menu=False),
    Page("inspections-plans", _("Inspection plans"), DESK, menu=False),
    Page(
        "notices-list",
        pgettext_lazy("nav", "Notices"),
        DESK,
        current=("notices-detail", "notices-new"),
        dom_id="nav-notices",
    ),
    Page(
        "service-posts",
        pgettext_lazy("nav", "Service posts"),
        GROUND | {R.CO_BUILDING_UNIT, R.RESIDENT},
        current=("service-post", "service-post-new"),
        dom_id="nav-service",
        check=_sees_posts,
    ),
    Page("service-post-new", _("Publish a post"), DESK | {R.CO_BUILDING_UNIT}, menu=False),
    Page(
        "service-mine",
        pgettext_lazy("nav", "My posts"),
        frozenset({R.RESIDENT}),
        dom_id="nav-service-mine",
        check=_sees_posts,
        admins=False,
    ),
    Page("service-rate", _("Claim rate"), DESK | {R.GRID_WORKER}, menu=False),
    Page("service-report", _("Monthly service report"), DESK, menu=False),
    Page(
        "recognition-campaigns",
        pgettext_lazy("nav", "Recognition"),
        GROUND | {R.BUILDING_HEAD, R.RESIDENT},
        current=("recognition-campaign", "recognition-campaign-new", "recognition-nominate"),
        dom_id="nav-recognition",
        check=_sees_campaigns,
    ),
    Page(
        "recognition-campaign-new",
        pgettext_lazy("recognition", "New recognition campaign"),
        frozenset({R.SUBDISTRICT_OPERATOR, R.COMMUNITY_STAFF}),
        menu=False,
    ),
    Page(
        "service-activities",
        pgettext_lazy("nav", "Volunteering"),
        GROUND | {R.CO_BUILDING_UNIT, R.RESIDENT},
        current=VOLUNTEER_PAGES,
        dom_id="nav-volunteering",
        check=_sees_activities,
    ),
    Page("service-volunteers", pgettext_lazy("volunteer", "Volunteers"), GROUND | {R.CO_BUILDING_UNIT}, menu=False),
    Page("service-volunteer-new", pgettext_lazy("volunteer", "Register a volunteer"), DESK, menu=False),
    Page("service-teams", pgettext_lazy("volunteer", "Volunteer teams"), GROUND | {R.CO_BUILDING_UNIT}, menu=False),
    Page("service-activity-new", pgettext_lazy("volunteer", "New activity"), DESK | {R.CO_BUILDING_UNIT}, menu=False),
    Page("service-volunteer-figures", pgettext_lazy("volunteer", "Volunteer figures"), GROUND, menu=False),
    Page(
        "service-volunteer-mine",
        pgettext_lazy("volunteer", "My volunteering"),
        frozenset({R.RESIDENT}),
        menu=False,
        check=_sees_activities,
        admins=False,
    ),
    Page(
        "participation-needs",
        pgettext_lazy("nav", "Three lists"),
        LISTS,
        current=(
            "participation-resources",
            "participation-projects",
            "participation-need",
            "participation-need-new",
            "participation-resource",
            "participation-resource-new",
            "participation-project",
            "participation-wishes",
            "participation-wish-new",
        ),
        dom_id="nav-lists",
    ),
    Page("participation-resources", _("Resources list"), LISTS, menu=False),
    Page("participation-wishes", _("Micro-wishes"), LISTS, menu=False),
    Page("participation-wish-new", _("Record a wish"), GROUND, menu=False),
    Page("kpis-participation", _("Participation figures"), GROUND, menu=False),
    Page("participation-projects", _("Projects list"), LISTS, menu=False),
    Page("participation-need-new", _("List a need"), GROUND, menu=False),
    Page("participation-resource-new", _("Publish a resource"), DESK | {R.CO_BUILDING_UNIT}, menu=False),
    Page(
        "participation-mine",
        pgettext_lazy("nav", "My co-building"),
        frozenset({R.CO_BUILDING_UNIT}),
        current=("participation-unit",),
        dom_id="nav-cobuild",
        admins=False,
    ),
    # Meetings (议事): the ground's staff run them; residents and grid workers propose topics on the phone.
    Page(
        "meetings-list",
        pgettext_lazy("nav", "Meetings"),
        GROUND,
        current=("meetings-detail", "meetings-new", "meetings-series", "meetings-figures", "meetings-records"),
        dom_id="nav-meetings",
    ),
    Page("meetings-new", pgettext_lazy("meetings", "Plan a meeting"), DESK, menu=False),
    Page("meetings-series", pgettext_lazy("meetings", "Standing meetings"), DESK, menu=False),
    Page("meetings-figures", pgettext_lazy("meetings", "Meeting figures"), GROUND, menu=False),
    Page(
        "meetings-topics",
        pgettext_lazy("nav", "Topics"),
        GROUND | {R.BUILDING_HEAD, R.RESIDENT},
        current=("meetings-decision",),  # a decision's page: its staff, and those told of it (proposers, attendees)
        dom_id="nav-topics",
    ),
    Page("messaging-inbox", _("Messages"), frozenset(Role.values), menu=False),  # opened from the bell
    # One's own channels: from the inbox and the user's name in the top bar.
    Page("messaging-preferences", _("Notification settings"), frozenset(Role.values), menu=False),
    Page(
        "messaging-deliveries",
        _("Failed deliveries"),
        frozenset({R.SUBDISTRICT_OPERATOR}),
        dom_id="nav-deliveries",
    ),
    Page(
        "messaging-role-defaults",
        _("Default channels"),
        frozenset({R.SUBDISTRICT_OPERATOR}),
        dom_id="nav-role-defaults",
    ),
    Page(
        "triage-home",
        _("Learned triage"),
        frozenset({R.SUBDISTRICT_OPERATOR}),
        dom_id="nav-triage",
    ),
    Page(
        "messaging-duty-groups",
        _("WeCom duty groups"),
        frozenset({R.SUBDISTRICT_OPERATOR}),
        dom_id="nav-duty-groups",
    ),
    Page(
        "registry-import",
        pgettext_lazy("nav", "Registry import"),
        frozenset({R.SUBDISTRICT_OPERATOR, R.COMMUNITY_STAFF}),
        current=("registry-import-result",),
        dom_id="nav-import",
    ),
    Page(
        "registry-organisations",
        pgettext_lazy("nav", "Organisations"),
        frozenset({R.SUBDISTRICT_OPERATOR, R.COMMUNITY_STAFF}),
        current=("registry-organisation",),
        dom_id="nav-organisations",
    ),
    Page(
        "registry-party-members",
        pgettext_lazy("nav", "Party members"),
        frozenset({R.SUBDISTRICT_OPERATOR, R.COMMUNITY_STAFF}),
        dom_id="nav-party-members",
    ),
    Page(
        "cases-hotline", pgettext_lazy("nav", "12345 import"), frozenset({R.SUBDISTRICT_OPERATOR}), dom_id="nav-hotline"
    ),
)
BY_NAME: dict[str, Page] = {p.name: p for p in PAGES}


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or (hasattr(user, "has_role") and user.has_role(Role.ADMIN))


def allowed(user: Any, name: str) -> bool:
    """May this user open the page named ``name``? (The menu shows it exactly then.)"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    item = BY_NAME[name]
    if is_admin(user) and item.admins:
        return True
    if not (item.roles & user.roles()):
        return False
    return item.check is None or item.check(user)


def has_any_role(user: Any, roles: frozenset[str]) -> bool:
    return is_admin(user) or bool(roles & user.roles())


def require(user: Any, name: str) -> None:
    BY_NAME[name]
    pageguard.require(user, name)


def page(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view with the policy of the page ``name`` (use under ``@login_required``)."""
    BY_NAME[name]  # a typo fails at import time
    return pageguard.page(name)


def nav(user: Any, url_name: str | None) -> list[dict[str, Any]]:
    """The menu items this user may open, in menu order, the current one marked."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        {
            "name": p.name,
            "url": reverse(p.name),
            "label": p.label,
            "id": p.dom_id,
            "current": url_name == p.name or url_name in p.current,
        }
        for p in PAGES
        if p.menu and allowed(user, p.name)
    ]


def context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``nav_items`` for the main menu. Lazy: a page without the menu (a partial) costs nothing."""
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match is not None else None
    return {"nav_items": functools.partial(nav, request.user, url_name)}
