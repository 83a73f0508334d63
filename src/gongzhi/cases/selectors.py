"""Reads of cases, always within the caller's scope."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from gongzhi.cases.choices import KIND_WORD, OPEN_STATUSES, CategoryKind, Status
from gongzhi.cases.models import Case, CaseEvent, Category, HotlineImport, WorkerBeat
from gongzhi.core.access import get_in_scope
from gongzhi.core.scope import code_prefix_q
from gongzhi.territory import geo


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


def _base(user: Any, action: str = "view") -> QuerySet[Case]:
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
    user: Any,
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


def case_get(*, user: Any, case_id: int) -> Case:
    return get_in_scope(Case, user, case_id, queryset=_base(user).select_related("owner_user"))


def todo(*, user: Any) -> QuerySet[Case]:
    """A grid worker's to-do: open cases they own or that sit on their ground; overdue first, then by due time."""
    qs = _base(user, "change").filter(status__in=OPEN_STATUSES)
    return qs.annotate(
        mine=When_(When(owner_user_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("-is_overdue", "mine", "due_at", "-reported_at")


def intake_queue(*, user: Any) -> QuerySet[Case]:
    return (
        _base(user, "change")
        .filter(status__in=[Status.REPORTED, Status.ACCEPTED, Status.RETURNED])
        .order_by("-unplaced", "-category_unconfirmed", "-is_overdue", "reported_at")
    )


def overdue_board(*, user: Any) -> QuerySet[Case]:
    return _base(user).filter(status__in=OPEN_STATUSES, is_overdue=True).order_by("due_at")


def timeline(*, user: Any | None, case: Case, public_only: bool = False) -> list[CaseEvent]:
    events = CaseEvent.objects.filter(case=case).select_related("actor").prefetch_related("attachments")
    if public_only:
        events = events.filter(public=True)
    return list(events.order_by("at", "id"))


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
    user: Any,
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


def hotline_job(*, user: Any, job_id: int) -> HotlineImport:
    """One 12345 import job in the user's scope (their own, or their area's); else ``NotFound``."""
    return get_in_scope(HotlineImport, user, job_id, queryset=HotlineImport.objects.select_related("actor"))


def hotline_jobs(*, user: Any) -> QuerySet[HotlineImport]:
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
