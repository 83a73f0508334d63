"""Reads of cases, always within the caller's scope."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from django.db.models import Case as When_
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from gongzhi.cases.choices import KIND_WORD, OPEN_STATUSES, CategoryKind, Status
from gongzhi.cases.models import Case, CaseEvent, Category, HotlineImport, HotlineMapping, WorkerBeat
from gongzhi.core.access import get_in_scope
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q
from gongzhi.territory import geo

if TYPE_CHECKING:
    from gongzhi.accounts.models import User


def active_categories() -> QuerySet[Category]:
    """The taxonomy is public reference data (the resident report form needs it without an account): the event
    classes (事件) first, then the facility classes (部件), each by code."""
    return Category.objects.filter(is_active=True).select_related("parent").order_by("kind", "code")


# A search box's text split into words: spaces and commas, ASCII or Chinese.
SEARCH_SPLIT = re.compile(r"[\s,，、;；/]+")


def category_terms(category: Category) -> list[str]:
    """What a category answers to in a search: its code, name, major class, kind (部件/事件 and the page's word for
    it) and keywords, lower-cased. The report form's picker (``static/cases/category-picker.js``) gets the same list
    in each option's ``data-terms`` and matches it the same way as :func:`category_matches`."""
    parent = category.parent if category.parent_id else None
    words = [
        category.code,
        category.name,
        parent.name if parent else "",
        *(parent.keyword_list if parent else []),
        str(KIND_WORD[CategoryKind(category.kind)]),
        {"event": "事件", "facility": "部件"}[category.kind],
        *category.keyword_list,
    ]
    return list(dict.fromkeys(w.lower() for w in words if w))


def category_matches(terms: list[str], query: str) -> bool:
    """Does every word of the query find the category? A word in digits matches the start of the code ("01": major
    class 01, "0101": the minor class); any other word matches a term that contains it ("井盖" → 上水井盖) or a
    term of two characters or more that it contains ("路灯不亮" → 路灯)."""
    words = [w for w in SEARCH_SPLIT.split(query.strip().lower()) if w]
    if not words:
        return True
    code = terms[0] if terms else ""
    for word in words:
        if word.isdigit():
            if not code.startswith(word):
                return False
        elif not any(word in term or (len(term) >= 2 and term in word) for term in terms):
            return False
    return True


def search_categories(query: str = "") -> list[Category]:
    """The active categories a search-box text finds, in the order of :func:`active_categories` (all of them for an
    empty text). Only the classes one picks are returned: a minor class, or a major class without active minor
    ones; a major class's name finds its minor classes."""
    rows = list(active_categories())
    with_minors = {c.parent_id for c in rows if c.parent_id}
    pickable = [c for c in rows if c.parent_id or c.pk not in with_minors]
    return [c for c in pickable if category_matches(category_terms(c), query)]


def _base(user: User, action: str = "view") -> ScopedQuerySet[Case]:
    """Cases in scope with what a list shows joined (the major class of a category, ≤ 40 rows, comes by one
    prefetch: each join more costs the database milliseconds of planning on every page)."""
    return (
        Case.objects.restrict(user, action)
        .select_related("category", "node", "owner_body", "handler_body", "handler_node")
        .defer("node__boundary", "handler_node__boundary")  # polygons: nothing about a case shows them
        .prefetch_related("category__parent")
    )


def case_list(
    *,
    user: User,
    status: list[str] | None = None,
    category_id: int | None = None,
    node_id: int | None = None,
    body_id: int | None = None,
    overdue: bool | None = None,
    unplaced: bool | None = None,
    channel: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text: str | None = None,
    open_only: bool = False,
    category_unconfirmed: bool | None = None,
) -> QuerySet[Case]:
    qs = _base(user)
    if status:
        qs = qs.filter(status__in=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if node_id:
        from gongzhi.territory import selectors as territory

        node = territory.node_get(user=user, node_id=node_id)
        qs = qs.filter(code_prefix_q("node__code", node.code))
    if body_id:
        qs = qs.filter(Q(owner_body_id=body_id) | Q(handler_body_id=body_id))
    if overdue is not None:
        qs = qs.filter(is_overdue=overdue)
    if unplaced is not None:
        qs = qs.filter(unplaced=unplaced)
    if category_unconfirmed is not None:
        qs = qs.filter(category_unconfirmed=category_unconfirmed)
    if channel:
        qs = qs.filter(channel=channel)
    if date_from:
        qs = qs.filter(reported_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(reported_at__date__lte=date_to)
    if text:
        qs = qs.filter(
            Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(number__startswith=text)
            | Q(address__icontains=text)
        )
    return qs.order_by("-reported_at", "-id")


def case_get(*, user: User, case_id: int) -> Case:
    return get_in_scope(Case, user, case_id, queryset=_base(user).select_related("owner_user"))


def todo(*, user: User) -> QuerySet[Case]:
    """A grid worker's to-do: open cases they own or that sit on their ground; overdue first, then by due time."""
    qs = _base(user, "change").filter(status__in=OPEN_STATUSES)
    return qs.annotate(
        mine=When_(When(owner_user_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("-is_overdue", "mine", "due_at", "-reported_at")


def my_reports(*, user: User) -> QuerySet[Case]:
    """我的反映: the cases the user reported (a resident follows them), newest first."""
    return _base(user).filter(reporter_user_id=user.pk).order_by("-reported_at", "-id")


def my_report_counts(*, user: User) -> dict[str, int]:
    """How many cases the user reported: in all, still open, closed and waiting for their rating (one query)."""
    row = (
        Case.objects.restrict(user, "view")
        .filter(reporter_user_id=user.pk)
        .order_by()
        .aggregate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
            to_rate=Count("pk", filter=Q(status=Status.CLOSED, rating="")),
        )
    )
    return {k: v or 0 for k, v in row.items()}


def todo_counts(*, user: User, now: datetime | None = None) -> dict[str, int]:
    """The totals of my to-do in one query: open, overdue, due by the end of today (not yet overdue)."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
    row = (
        Case.objects.restrict(user, "change")
        .filter(status__in=OPEN_STATUSES)
        .order_by()
        .aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(is_overdue=True)),
            due_today=Count("pk", filter=Q(is_overdue=False, due_at__isnull=False, due_at__lte=end_of_day)),
        )
    )
    return {k: v or 0 for k, v in row.items()}


def due_today(*, user: User, now: datetime | None = None) -> QuerySet[Case]:
    """Open cases of my to-do whose clock runs out by the end of today and has not yet: the soonest first."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
    return (
        _base(user, "change")
        .filter(status__in=OPEN_STATUSES, is_overdue=False, due_at__isnull=False, due_at__lte=end_of_day)
        .order_by("due_at", "id")
    )


# --- the workbench (the home page's blocks: a few rows each, and the total) ------------------------------------------


def in_status(*, user: User, statuses: Sequence[str], action: str = "change") -> QuerySet[Case]:
    """Cases of these statuses I may act on (view for the roles that only follow what is passed to them): overdue
    first, then the oldest."""
    return _base(user, action).filter(status__in=statuses).order_by("-is_overdue", "reported_at", "id")


def due_soon(*, user: User, hours: int = 24, now: datetime | None = None) -> QuerySet[Case]:
    """Open cases I may act on whose clock runs out within ``hours`` (not yet overdue): the soonest first."""
    until = (now or timezone.now()) + timedelta(hours=hours)
    return (
        _base(user, "change")
        .filter(status__in=OPEN_STATUSES, is_overdue=False, due_at__isnull=False, due_at__lte=until)
        .order_by("due_at", "id")
    )


def passed_to_my_body(*, user: User, statuses: Sequence[str]) -> QuerySet[Case]:
    """The cases passed to the bodies I act for (a department, the mediation team, a co-building unit), in these
    statuses: overdue first, then the longest waiting."""
    return (
        _base(user)
        .filter(status__in=statuses, handler_body__isnull=False)
        .order_by("-is_overdue", "dispatched_at", "id")
    )


def owner_load(*, user: User, limit: int = 10) -> list[dict[str, Any]]:
    """The open cases I may act on, counted by the person responsible (and how many of them overdue), the most
    loaded first: a grid leader's view of their workers."""
    rows = (
        Case.objects.restrict(user, "change")
        .filter(status__in=OPEN_STATUSES, owner_user__isnull=False)
        .values("owner_user_id", "owner_user__display_name", "owner_user__username")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(is_overdue=True)))
        .order_by("-open", "owner_user_id")[:limit]
    )
    return [
        {
            "user_id": r["owner_user_id"],
            "name": r["owner_user__display_name"] or r["owner_user__username"],
            "open": r["open"],
            "overdue": r["overdue"],
        }
        for r in rows
    ]


def intake_queue(*, user: User, channel: str = "") -> QuerySet[Case]:
    """The desk's queue; ``channel``: only the cases that came that way (the 12345 import's message links there)."""
    qs = _base(user, "change").filter(status__in=[Status.REPORTED, Status.ACCEPTED, Status.RETURNED])
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-unplaced", "-category_unconfirmed", "-is_overdue", "reported_at")


def overdue_board(*, user: User) -> QuerySet[Case]:
    return _base(user).filter(status__in=OPEN_STATUSES, is_overdue=True).order_by("due_at")


def timeline(*, user: User | None, case: Case, public_only: bool = False) -> list[CaseEvent]:
    """The case's timeline. ``public_only``: what the reporter sees on the tracking page — the public steps, and of
    their notes only the replies to the reporter (a staff note is internal unless marked a reply)."""
    events = CaseEvent.objects.filter(case=case).select_related("actor").prefetch_related("attachments")
    if public_only:
        events = events.filter(public=True)
    rows = list(events.order_by("at", "id"))
    if public_only:
        for event in rows:
            if not event.reply:
                event.note = ""  # in memory only: the staff timeline keeps it
    return rows


def public_case(*, code: str = "", number: str = "", phone: str = "", full_length: int = 16) -> Case | None:
    """A case a resident may follow without an account (``cases.tracking``): by its tracking code (``code``,
    normalised), the phone optional but matching if given, required with an old code shorter than ``full_length``;
    or, when no code matches, by its number and the reporter's phone."""
    cases = Case.objects.select_related("category", "node", "merged_into")
    phone = phone.strip()
    if code:
        case = cases.filter(tracking_code=code).first()
        if case is not None:
            if (phone or len(code) < full_length) and (not phone or case.reporter_phone != phone):
                return None
            return case
    if number.strip():
        case = cases.filter(number=number.strip()).first()
        if case is not None and phone and case.reporter_phone == phone:
            return case
    return None


def similar_open_cases(
    *,
    user: User,
    category_id: int,
    lat: float | None,
    lng: float | None,
    text: str,
    node_id: int | None = None,
    exclude_id: int | None = None,
    radius_m: float = 300,
    days: int = 14,
    now: datetime | None = None,
    limit: int = 5,
) -> list[tuple[Case, float]]:
    """Open cases of the same category, near (distance), recent (time) and alike (text), best first.

    Score in [0, 1]: 0.4 × nearness + 0.3 × recency + 0.3 × text similarity; only candidates within the radius (or
    on the same place, when there is no point) and the time window are considered.
    """
    now = now or timezone.now()
    qs = _base(user).filter(
        status__in=OPEN_STATUSES, category_id=category_id, reported_at__gte=now - timedelta(days=days)
    )
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    if lat is not None and lng is not None:
        dlat, dlng = geo.degree_box(lat=lat, within_m=radius_m)
        qs = qs.filter(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))
    elif node_id is not None:
        qs = qs.filter(node_id=node_id)
    else:
        return []
    scored = []
    for c in qs[:200]:
        if lat is not None and lng is not None and c.lat is not None and c.lng is not None:
            d = geo.metres_between(lat, lng, c.lat, c.lng)
            if d > radius_m:
                continue
            near = 1 - d / radius_m
        else:
            near = 0.5
        age = (now - c.reported_at).total_seconds() / 86400
        recent = max(0.0, 1 - age / days)
        alike = SequenceMatcher(None, text, f"{c.title} {c.description}").ratio() if text else 0.0
        scored.append((c, round(0.4 * near + 0.3 * recent + 0.3 * alike, 3)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


def hotline_job(*, user: User, job_id: int) -> HotlineImport:
    """One 12345 import job in the user's scope (their own, or their area's); else ``NotFound``."""
    return get_in_scope(HotlineImport, user, job_id, queryset=HotlineImport.objects.select_related("actor"))


def hotline_mapping(*, user: User, node_code: str) -> dict[str, str]:
    """The column mapping the desk at ``node_code`` last imported with (empty when none, or out of scope)."""
    row = HotlineMapping.objects.restrict(user, "view").filter(node_code=node_code).first()
    return dict(row.mapping) if row else {}


def hotline_jobs(*, user: User) -> QuerySet[HotlineImport]:
    """The 12345 import jobs the user sees, newest first."""
    return HotlineImport.objects.restrict(user, "view").select_related("actor").order_by("-created_at", "-id")


# --- the background worker --------------------------------------------------------------------------------------------

WORKER_SILENT_AFTER = timedelta(seconds=60)  # a worker beats every 10 s (cases.worker): silent this long, it is gone


def worker_needed() -> bool:
    """Do queued tasks wait for a worker process (django-tasks-db's database backend), or run at once (the
    immediate backend of the tests)?"""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import task_backends

    return isinstance(task_backends["default"], DatabaseBackend)


def worker_alive(*, now: datetime | None = None) -> bool | None:
    """Has a background worker (``gongzhi task_worker``) been seen lately? ``None`` when no worker is needed. Not
    scoped: it says only whether some worker runs."""
    if not worker_needed():
        return None
    now = now or timezone.now()
    return WorkerBeat.objects.filter(seen_at__gte=now - WORKER_SILENT_AFTER).exists()


MAX_MAP_CASES = 2000


def case_pins(
    *,
    user: Any,
    within_id: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int, bool]:
    """The open cases in scope as map pins (docs/maps.md): their reported point (WGS-84), else their place's
    centroid; under ``within_id`` (404 out of scope) and in ``bbox`` (south, west, north, east) when given. Overdue
    and urgent first, at most ``limit`` of them; also the number of open cases that matched and whether some were
    left out."""
    limit = limit or MAX_MAP_CASES
    qs = Case.objects.restrict(user, "view").filter(status__in=OPEN_STATUSES)
    if within_id is not None:
        from gongzhi.territory import selectors as territory

        node = territory.node_get(user=user, node_id=within_id)
        qs = qs.filter(code_prefix_q("place_code", node.code))
    qs = qs.annotate(
        pin_lat=Coalesce(F("lat"), F("node__centroid_lat")), pin_lng=Coalesce(F("lng"), F("node__centroid_lng"))
    ).filter(pin_lat__isnull=False, pin_lng__isnull=False)
    if bbox is not None:
        south, west, north, east = bbox
        qs = qs.filter(pin_lat__range=(south, north), pin_lng__range=(west, east))
    total = qs.count()
    rows = qs.order_by("-is_overdue", "urgency", "-reported_at", "-id").values(
        "id", "number", "title", "status", "urgency", "is_overdue", "pin_lat", "pin_lng"
    )[:limit]
    labels = dict(Status.choices)
    items = [
        {"id": r["id"], "number": r["number"], "title": r["title"], "status": r["status"],
         "status_label": str(labels.get(r["status"], r["status"])), "urgency": r["urgency"],
         "overdue": r["is_overdue"], "lat": r["pin_lat"], "lng": r["pin_lng"]}
        for r in rows
    ]  # fmt: skip
    return items, total, total > len(items)
