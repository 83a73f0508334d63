"""Open311 reads. An Open311 client is no user: what it reads is the public face of one subdistrict's cases (the
key's, or the one ``jurisdiction_id`` names), narrowed here by the subdistrict's code range
(``core.scope.code_prefix_q``) and reduced to public fields by :func:`request_rows` — never a reporter's name, phone
or ID number, never an internal note. Categories are public reference data (as on the resident report form)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.cases.choices import FINAL_STATUSES, OPEN_STATUSES, CategoryKind
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.core.scope import code_prefix_q
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

KIND_PREFIX: dict[str, str] = {
    CategoryKind.EVENT: "E",
    CategoryKind.FACILITY: "F",
}  # event and facility codes overlap (0101)
MAX_REQUESTS = 1000  # the spec's cap on one answer
DEFAULT_DAYS = 90  # the spec's default window


def service_code(category: Category) -> str:
    return f"{KIND_PREFIX.get(category.kind, 'E')}{category.code}"


def reportable_categories() -> QuerySet[Category]:
    """What a citizen may report: the active minor classes (the resident form's choices), by kind and code."""
    return (
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .order_by("kind", "code")
    )


def category_for(code: str) -> Category | None:
    """The reportable category of a service code (``E0105``, ``F0101``)."""
    kinds = {prefix: kind for kind, prefix in KIND_PREFIX.items()}
    kind = kinds.get(code[:1].upper())
    if kind is None or not code[1:]:
        return None
    return reportable_categories().filter(kind=kind, code=code[1:]).first()


def subdistricts() -> list[Node]:
    return list(Node.objects.filter(kind=NodeKind.SUBDISTRICT).order_by("code")[:2])


def subdistrict_by_code(code: str) -> Node | None:
    return Node.objects.filter(kind=NodeKind.SUBDISTRICT, code=code).first()


def node_in(subdistrict: Node, code: str) -> Node | None:
    """A place of the subdistrict by its territory code (a client's ``address_id``)."""
    if not code.isdigit():
        return None
    return Node.objects.filter(code_prefix_q("code", subdistrict.code), code=code).first()


@dataclass
class Filters:
    ids: list[str]
    service_codes: list[str]
    start: datetime | None
    end: datetime | None
    statuses: list[str]  # open, closed
    page: int = 1
    page_size: int = MAX_REQUESTS


def _cases(subdistrict: Node) -> QuerySet[Case]:
    return Case.objects.filter(code_prefix_q("place_code", subdistrict.code))


def requests(subdistrict: Node, f: Filters, *, now: datetime | None = None) -> list[Case]:
    """The subdistrict's cases by the filters, newest first: the ids given (any date), else those reported in the
    window (default: the last 90 days), at most ``page_size`` (≤ 1,000) a page."""
    qs = _cases(subdistrict)
    if f.ids:
        qs = qs.filter(number__in=f.ids[:MAX_REQUESTS])
    else:
        now = now or timezone.now()
        end = f.end or now
        start = f.start or (end - timedelta(days=DEFAULT_DAYS))
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
    if f.service_codes:
        pairs = [category_for(code) for code in f.service_codes]
        qs = qs.filter(category_id__in=[c.pk for c in pairs if c is not None])
    if f.statuses and set(f.statuses) != {"open", "closed"}:
        qs = qs.filter(status__in=OPEN_STATUSES if "open" in f.statuses else FINAL_STATUSES)
    size = max(1, min(f.page_size, MAX_REQUESTS))
    offset = (max(f.page, 1) - 1) * size
    qs = qs.select_related("category__parent", "owner_body", "handler_body", "open311").order_by("-reported_at", "-id")
    return list(qs[offset : offset + size])


def request_by_id(subdistrict: Node, service_request_id: str) -> Case | None:
    return (
        _cases(subdistrict)
        .select_related("category__parent", "owner_body", "handler_body", "open311")
        .filter(number=service_request_id)
        .first()
    )


def _public_notes(case_ids: Sequence[int]) -> dict[int, str]:
    """Each case's latest note written to the reporter (a public step's reply: what the tracking page shows)."""
    notes: dict[int, str] = {}
    rows = (
        CaseEvent.objects.filter(case_id__in=case_ids, public=True, reply=True)
        .exclude(note="")
        .order_by("case_id", "at", "id")
        .values_list("case_id", "note")
    )
    for case_id, note in rows:
        notes[case_id] = note
    return notes


def _w3c(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def request_rows(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """The spec's fields of each case, public ones only."""
    cases = list(cases)
    notes = _public_notes([c.pk for c in cases])
    rows = []
    for case in cases:
        closed = case.status in FINAL_STATUSES
        body = case.handler_body or case.owner_body
        link = getattr(case, "open311", None) if hasattr(case, "open311") else None
        rows.append(
            {
                "service_request_id": case.number,
                "status": "closed" if closed else "open",
                "status_notes": notes.get(case.pk, ""),
                "service_name": case.category.name,
                "service_code": service_code(case.category),
                # a client's own words for its own requests; else the title only (a 12345 text may name the caller)
                "description": (case.description or case.title) if link is not None else case.title,
                "agency_responsible": body.name if body is not None else "",
                "service_notice": "",
                "requested_datetime": _w3c(case.reported_at),
                "updated_datetime": _w3c(case.updated_at),
                "expected_datetime": None if closed else _w3c(case.due_at),
                "address": case.address,
                "address_id": "",
                "zipcode": "",
                "lat": case.lat,
                "long": case.lng,
                "media_url": link.media_url if link is not None else "",
            }
        )
    return rows
