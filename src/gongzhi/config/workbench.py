"""The home page: each role's workbench (工作台).

Every staff role lands here after log-in and sees, first, the work waiting for it: a short list (a few rows) per
block with the block's total and a link to the full list. Which blocks a user gets follows the page policy
(``accounts.pages``: a block links only to a page the user may open). The page composes the apps' selectors, so it
lives here in ``config``, the one layer above them all; every read goes through a selector (``restrict()``), each
block is two bounded queries (``core.pagination.page_of``: the first rows' ids with the total, then those rows).

Below the blocks: my roles and my places (what "my scope" showed before), and my API tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import pages
from gongzhi.accounts import selectors as accounts
from gongzhi.accounts.choices import Role
from gongzhi.cases import selectors as cases
from gongzhi.cases.choices import Status
from gongzhi.core.pagination import page_of
from gongzhi.disputes import pagesupport as dispute_pages
from gongzhi.disputes import selectors as disputes
from gongzhi.disputes.choices import NOTICE_OPEN_STATUSES, OPEN_STATUSES, NoticeStatus
from gongzhi.disputes.choices import Status as DisputeStatus
from gongzhi.inspections import selectors as inspections
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import COUNTED_KINDS, NodeKind
from gongzhi.visits import selectors as visits

ROWS = 6  # rows per block (the full list is one link away)

# What the roles that work for a body see passed to them, by role: the block's title.
PASSED_TITLES = {
    Role.DEPARTMENT_HANDLER: _("Dispatched to my department"),
    Role.MEDIATOR: _("Passed to the mediation team"),
    Role.CO_BUILDING_UNIT: _("Passed to my unit"),
}
WAITING = [Status.DISPATCHED]
WORKING = [Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REWORK, Status.POSTPONED]


def _cases_block(
    key: str, title: Any, qs: QuerySet[Any], more: str, empty: Any, *, tone: str = "", rows: int = ROWS
) -> dict[str, Any]:
    items, total = page_of(qs, 0, rows)
    return {"key": key, "kind": "cases", "title": title, "rows": items, "total": total, "more": more,
            "empty": empty, "tone": tone}  # fmt: skip


def _list_url(**params: str) -> str:
    return f"{reverse('cases-list')}?{urlencode(params)}"


def _staff_blocks(user: Any, now: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    may = {name: pages.allowed(user, name) for name in pages.BY_NAME}
    roles = user.roles()
    is_admin = pages.is_admin(user)
    desk = may["cases-desk"] and (is_admin or bool(roles & {Role.SUBDISTRICT_OPERATOR, Role.COMMUNITY_STAFF}))
    on_ground = is_admin or bool(roles & (pages.GROUND | {Role.BUILDING_HEAD}))
    if may["cases-todo"] and on_ground and not (desk and Role.GRID_LEADER not in roles):
        # My to-do, overdue first; what runs out today. (The desks get their queues instead; the roles that work
        # for a body get what is passed to it.)
        title = _("Open cases of my grid") if Role.GRID_LEADER in roles else _("My to-do")
        blocks.append(
            _cases_block("todo", title, cases.todo(user=user), reverse("cases-todo"), _("Nothing to do right now."))
        )
        blocks.append(
            _cases_block(
                "due-today",
                _("Due today"),
                cases.due_today(user=user, now=now),
                reverse("cases-todo"),
                _("Nothing runs out today."),
                tone="soon",
            )
        )
    if desk:
        blocks += [
            _cases_block(
                "intake",
                _("Intake queue"),
                cases.in_status(user=user, statuses=[Status.REPORTED]),
                reverse("cases-desk"),
                _("No new case waits to be taken in."),
            ),
            _cases_block(
                "dispatch",
                _("Dispatch queue"),
                cases.in_status(user=user, statuses=[Status.ACCEPTED]),
                _list_url(status=Status.ACCEPTED),
                _("No registered case waits to be dispatched."),
            ),
            _cases_block(
                "overdue",
                _("Overdue"),
                cases.overdue_board(user=user),
                reverse("cases-overdue"),
                _("No case is overdue."),
                tone="overdue",
            ),
            _cases_block(
                "due-soon",
                _("Due within 24 hours"),
                cases.due_soon(user=user, now=now),
                reverse("cases-todo"),
                _("No deadline runs out within 24 hours."),
                tone="soon",
            ),
            _cases_block(
                "returned",
                _("Returned cases"),
                cases.in_status(user=user, statuses=[Status.RETURNED]),
                _list_url(status=Status.RETURNED),
                _("No case was returned."),
            ),
        ]
    if Role.GRID_LEADER in roles and not is_admin:
        blocks.append(
            {
                "key": "load",
                "kind": "load",
                "title": _("My workers' load"),
                "rows": cases.owner_load(user=user),
                "total": None,
                "more": reverse("cases-list") + "?status=open",
                "empty": _("Nobody holds an open case."),
            }
        )
    passed_roles = [r for r in PASSED_TITLES if r in roles] if not is_admin else []
    if passed_roles:
        title = PASSED_TITLES[passed_roles[0]]
        blocks.append(
            _cases_block(
                "passed",
                title,
                cases.passed_to_my_body(user=user, statuses=WAITING),
                _list_url(status=Status.DISPATCHED),
                _("Nothing waits to be acknowledged."),
            )
        )
        blocks.append(
            _cases_block(
                "working",
                _("Being handled by us"),
                cases.passed_to_my_body(user=user, statuses=WORKING),
                _list_url(status="open"),
                _("Nothing is being handled."),
            )
        )
    if may["visits-home"]:
        blocks += _visit_blocks(user)
    if may["inspections-home"] and roles & {Role.GRID_LEADER, Role.GRID_WORKER, Role.BUILDING_HEAD}:
        blocks.append(_rounds_block(user))
    blocks += _dispute_blocks(user, may, roles, now)
    return blocks


def _dispute_blocks(user: Any, may: dict[str, bool], roles: set[str], now: Any) -> list[dict[str, Any]]:
    """The mediator's disputes and follow-ups due; the police station's notices and their feedback; the grid's
    police notices to visit."""
    blocks: list[dict[str, Any]] = []
    sender = may["disputes-notices"] and dispute_pages.is_sender(user=user)
    if may["disputes-desk"] and Role.MEDIATOR in roles:
        mine = disputes.dispute_list(user=user, mine=True, status=[*OPEN_STATUSES, DisputeStatus.AGREED])
        rows, total = page_of(mine, 0, ROWS)
        blocks.append({"key": "disputes", "kind": "disputes", "title": _("My disputes"), "rows": rows, "total": total,
                       "more": f"{reverse('disputes-list')}?mine=1", "empty": _("No dispute is assigned to you.")})
        station = disputes.dispute_list(user=user, status=OPEN_STATUSES).exclude(pk__in=mine.values("pk"))
        rows, total = page_of(station, 0, ROWS)
        blocks.append({"key": "disputes-station", "kind": "disputes", "title": _("Open disputes of the station"),
                       "rows": rows, "total": total, "more": f"{reverse('disputes-list')}?status=open",
                       "empty": _("No other dispute is open.")})  # fmt: skip
        due = disputes.follow_ups_due(user=user, mine=True, until=timezone.localdate() + timedelta(days=7))
        rows, total = page_of(due, 0, ROWS)
        blocks.append({"key": "follow-ups", "kind": "follow_ups", "title": _("Performance follow-ups due"),
                       "rows": rows, "total": total, "more": reverse("disputes-desk"),
                       "empty": _("No performance follow-up is due this week."), "tone": "soon"})  # fmt: skip
    elif may["disputes-desk"]:
        open_ = disputes.dispute_list(user=user, status=OPEN_STATUSES)
        rows, total = page_of(open_, 0, ROWS)
        blocks.append({"key": "disputes", "kind": "disputes", "title": _("Open disputes"), "rows": rows,
                       "total": total, "more": f"{reverse('disputes-list')}?status=open",
                       "empty": _("No dispute is open.")})  # fmt: skip
    if sender:
        waiting = disputes.notice_list(user=user, sent_by_me=True, status=NOTICE_OPEN_STATUSES).order_by("due_at")
        rows, total = page_of(waiting, 0, ROWS)
        blocks.append({"key": "notices-waiting", "kind": "notices", "title": _("Our notices awaiting feedback"),
                       "rows": rows, "total": total, "more": f"{reverse('disputes-notices')}?state=open",
                       "empty": _("Every notice has been answered.")})  # fmt: skip
        answered = disputes.notice_list(user=user, sent_by_me=True, status=NoticeStatus.ANSWERED).order_by(
            "-answered_at"
        )
        rows, total = page_of(answered, 0, ROWS)
        blocks.append({"key": "notices-answered", "kind": "notices", "title": _("Feedback received"),
                       "rows": rows, "total": total, "more": f"{reverse('disputes-notices')}?state=answered",
                       "empty": _("No feedback yet.")})  # fmt: skip
    elif may["disputes-notices"]:
        waiting = disputes.notice_list(user=user, status=NOTICE_OPEN_STATUSES).order_by("due_at")
        rows, total = page_of(waiting, 0, ROWS)
        blocks.append({"key": "notices-to-visit", "kind": "notices", "title": _("Police notices to visit"),
                       "rows": rows, "total": total, "more": f"{reverse('disputes-notices')}?state=open",
                       "empty": _("No police notice waits for a visit."), "tone": "soon"})  # fmt: skip
    return blocks


def _rounds_block(user: Any) -> dict[str, Any]:
    """The hazard-inspection rounds waiting for me (or my buildings), due first; those due today marked."""
    todo = inspections.round_list(user=user, mine=True, todo=True, due_since=inspections.todo_since())
    rows, total = page_of(todo, 0, ROWS)
    return {
        "key": "rounds",
        "kind": "rounds",
        "title": _("Inspection rounds to do"),
        "rows": rows,
        "total": total,
        "today": timezone.localdate(),
        "more": reverse("inspections-home"),
        "empty": _("No inspection round is waiting."),
    }


def _visit_blocks(user: Any) -> list[dict[str, Any]]:
    """Care visits due (today or overdue) and the open visit campaigns with how many of my households remain."""
    today = timezone.localdate()
    due = visits.care_plan_list(user=user).filter(next_due__lte=today)
    plans, total = page_of(due, 0, ROWS)
    campaigns = list(visits.campaign_list(user=user, active_only=True)[:ROWS])
    counts = visits.todo_counts(user=user, campaign_ids=[c.pk for c in campaigns])
    home = reverse("visits-home")
    return [
        {
            "key": "care",
            "kind": "care",
            "title": _("Care visits due"),
            "rows": [{"plan": p, "days_overdue": visits.days_overdue(p, today)} for p in plans],
            "total": total,
            "more": f"{home}?care=1",
            "empty": _("No care visit is due."),
        },
        {
            "key": "campaigns",
            "kind": "campaigns",
            "title": _("Visit rounds"),
            "rows": [{"campaign": c, "left": counts.get(c.pk, 0), "url": f"{home}?todo={c.pk}"} for c in campaigns],
            "total": None,
            "more": home,
            "empty": _("No visit round is open."),
        },
    ]


def _resident_blocks(user: Any) -> list[dict[str, Any]]:
    counts = cases.my_report_counts(user=user)
    rows, _total = page_of(cases.my_reports(user=user), 0, ROWS)
    return [
        {
            "key": "mine",
            "kind": "mine",
            "title": _("My reports"),
            "rows": rows,
            "total": counts["total"],
            "open": counts["open"],
            "to_rate": counts["to_rate"],
            "more": reverse("cases-mine"),
            "empty": _("You have reported nothing yet."),
        }
    ]


def _places(user: Any, assignments: list[Any]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    nodes = []
    for row in assignments:
        if row.node is not None and row.node.pk not in seen:
            seen.add(row.node.pk)
            nodes.append(row.node)
    if not nodes:
        # Scope held through a body (e.g. a residents' committee): the places that body leads or co-covers.
        nodes = territory.scope_roots(user=user)
    places = []
    for node in nodes:
        counts = territory.children_counts(user=user, node=node)
        rows = [
            {"kind": kind.value, "label": kind.label, "count": counts.get(kind.value, 0)}
            for kind in COUNTED_KINDS[NodeKind(node.kind)]
        ]
        if counts.get(NodeKind.COMMUNITY) or counts.get(NodeKind.VILLAGE):
            rows = [r for r in rows if r["count"] or r["kind"] not in (NodeKind.COMMUNITY, NodeKind.VILLAGE)]
        places.append({"node": node, "counts": rows})
    return places


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: the blocks of work waiting for my roles, then my roles, my places and my API tokens."""
    user: Any = request.user
    now = timezone.now()
    assignments = accounts.my_assignments(user=user)
    resident_only = user.roles() <= {Role.RESIDENT} and not pages.is_admin(user)
    blocks = _resident_blocks(user) if pages.allowed(user, "cases-mine") else []
    if not resident_only:
        blocks = _staff_blocks(user, now) + blocks
    context = {
        "blocks": blocks,
        "resident_only": resident_only,
        "assignments": assignments,
        "places": [] if resident_only else _places(user, assignments),
        "tokens": accounts.token_list(user=user),
        "may_report": pages.allowed(user, "cases-report"),
        "may_report_mine": pages.allowed(user, "cases-my-report"),
        "may_dispute": pages.allowed(user, "disputes-new") and Role.MEDIATOR in user.roles(),
        "may_notice": pages.allowed(user, "disputes-notices") and dispute_pages.is_sender(user=user),
        "now": now,
    }
    return render(request, "accounts/home.html", context)
