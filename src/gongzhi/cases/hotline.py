"""The 12345 hotline import: a CSV or XLSX export of hotline tickets becomes cases.

The first row of the file is the header. A column mapping says which column holds which of our fields; the default
knows the usual headers of 12345 exports. The import is idempotent on the hotline ticket number: a ticket already
imported is skipped, never duplicated. Each row is taken in by :func:`services.report_case` in its own savepoint, so
a bad row is reported (with its row number in the file, the header being row 1) and never half-written, while the
good rows go in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.cases import services
from gongzhi.cases.choices import Channel, Urgency
from gongzhi.cases.models import Case, Category
from gongzhi.core import audit, tabular
from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, ValidationFailed

HotlineResult = services.HotlineResult

MAX_FILE_BYTES = tabular.MAX_FILE_BYTES
MAX_ROWS = 5000

# Our field → the headers a 12345 export usually gives it, in order of preference. The field's own name is
# accepted as a header too.
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "ticket": ("工单编号", "工单号"),
    "reported_at": ("来电时间", "受理时间"),
    "title": ("诉求标题", "标题"),
    "description": ("诉求内容", "内容"),
    "category": ("诉求分类", "问题分类", "小类"),
    "category_major": ("大类",),
    "address": ("事发地址", "地址"),
    "reporter_name": ("来电人", "联系人"),
    "reporter_phone": ("联系电话", "来电号码"),
    "urgency": ("紧急程度",),
    "lng": ("经度",),
    "lat": ("纬度",),
}
FIELDS = tuple(DEFAULT_HEADERS)
REQUIRED = ("ticket", "title", "reported_at")
MAX_LENGTHS = {"ticket": 40, "address": 200, "reporter_name": 60, "reporter_phone": 20}

URGENCY_WORDS = {
    "A": Urgency.A, "紧急": Urgency.A, "特急": Urgency.A, "加急": Urgency.A, "急": Urgency.A,
    "B": Urgency.B, "一般": Urgency.B, "普通": Urgency.B,
    "C": Urgency.C, "不急": Urgency.C, "缓": Urgency.C,
}  # fmt: skip
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H时%M分",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
)
CATEGORY_SEPARATORS = re.compile(r"\s*[/／\\|｜>＞→\-－—–]+\s*")
PHONE_SEPARATORS = re.compile(r"[\s\-－—()（）]")
FALLBACK_CATEGORY = "其他"


class _RowFailed(Exception):
    """Rolls a row's savepoint back and reports the row."""

    def __init__(self, details: list[ErrorDetail]) -> None:
        super().__init__(details[0].message if details else "")
        self.details = details


# --- entry points ----------------------------------------------------------------------------------------------------


def check_actor(actor: Any) -> None:
    """Only the subdistrict desk (operators) and administrators import the hotline."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden("Log in to import the hotline.")
    if not actor.has_role(Role.ADMIN, Role.SUBDISTRICT_OPERATOR):
        raise Forbidden("Only the subdistrict desk may import 12345 hotline tickets.")


parse_mapping = tabular.parse_mapping  # the ``mapping`` form field: a JSON object of our fields to the headers


def import_upload(*, actor: Any, upload: Any, mapping_json: str | None = None) -> HotlineResult:
    """The API's way in: an uploaded file and the mapping as a JSON string."""
    check_actor(actor)
    mapping = parse_mapping(mapping_json)
    tabular.check_size(upload.size or 0, MAX_FILE_BYTES)
    return import_file(actor=actor, file_name=upload.name or "", data=upload.read(), mapping=mapping)


def import_file(*, actor: Any, file_name: str, data: bytes, mapping: dict[str, str] | None = None) -> HotlineResult:
    """Import a 12345 export. Row problems are reported in the result; a file that cannot be read at all, or whose
    columns do not fit (an unknown mapping key, a missing required column), raises ``ValidationFailed`` and
    imports nothing.

    There is deliberately no transaction around the whole file: each row commits on its own (a long import does not
    hold the database's write lock), and the ticket number makes an interrupted import safe to run again."""
    check_actor(actor)
    tabular.check_size(len(data), MAX_FILE_BYTES)
    rows = tabular.read_rows(file_name, data)
    columns = resolve_columns(tabular.header_of(rows), mapping)
    body = tabular.data_rows(rows, MAX_ROWS)

    result = HotlineResult()
    categories = _Categories()
    tickets = [_text(_cell(cells, columns.get("ticket"))) for _, cells in body]
    existing = _existing_tickets([t for t in tickets if t])
    seen: dict[str, int] = {}
    now = timezone.now()
    subdistricts: set[str] = set()

    for (number, cells), ticket in zip(body, tickets, strict=True):
        values = {name: _cell(cells, index) for name, index in columns.items()}
        if ticket:
            if ticket in seen:
                result.errors.append(
                    ErrorDetail(row=number, field="ticket", message=f"ticket {ticket} repeats row {seen[ticket]}")
                )
                continue
            seen[ticket] = number
            if ticket in existing:
                result.skipped.append(ticket)
                continue
        kwargs, details = _parse_row(values, categories, now)
        if details:
            result.errors.extend(ErrorDetail(row=number, field=d.field, message=d.message) for d in details)
            continue
        try:
            with transaction.atomic():
                case = services.report_case(actor=actor, channel=Channel.HOTLINE, **kwargs)
                if not Case.objects.restrict(actor, "add").filter(pk=case.pk).exists():
                    outside = f"the case would land on {case.node.name}, outside your area"
                    raise _RowFailed([ErrorDetail(field="address", message=outside)])
        except IntegrityError:
            if not Case.objects.filter(hotline_ticket=ticket).exists():
                raise
            result.skipped.append(ticket)  # imported meanwhile by someone else
            continue
        except _RowFailed as exc:
            result.errors.extend(ErrorDetail(row=number, field=d.field, message=d.message) for d in exc.details)
            continue
        except ValidationFailed as exc:
            result.errors.extend(
                ErrorDetail(row=number, field=_our_field(d.field), message=d.message)
                for d in (exc.details or [ErrorDetail(message=exc.message)])
            )
            continue
        except DomainError as exc:
            result.errors.append(ErrorDetail(row=number, message=exc.message))
            continue
        except DataError as exc:
            result.errors.append(ErrorDetail(row=number, message=f"the row cannot be stored: {exc}"))
            continue
        result.created.append(case.number)
        subdistricts.add(case.node.code[:9])

    audit.record(
        actor=actor,
        action="cases.hotline_imported",
        object_type="cases.case",
        object_repr=(file_name or "hotline import")[:200],
        node_code=_audit_code(actor, subdistricts),
        after={
            "file": file_name,
            "rows": len(body),
            "created": len(result.created),
            "skipped": len(result.skipped),
            "errors": len({e.row for e in result.errors}),
            "numbers": result.created,
        },
    )
    return result


# --- columns ---------------------------------------------------------------------------------------------------------


def resolve_columns(header: list[str], mapping: dict[str, Any] | None = None) -> dict[str, int]:
    """Our field → the column index in the file. Raises ``ValidationFailed`` (naming every problem) when a mapping
    key is unknown, a mapped header is not in the file, or a required column is missing."""
    return tabular.resolve_columns(header, mapping, DEFAULT_HEADERS, REQUIRED)


# --- reading ---------------------------------------------------------------------------------------------------------

_cell = tabular.cell
_text = tabular.text


def _existing_tickets(tickets: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(tickets), 500):
        chunk = tickets[start : start + 500]
        found.update(Case.objects.filter(hotline_ticket__in=chunk).values_list("hotline_ticket", flat=True))
    return found


# --- one row ---------------------------------------------------------------------------------------------------------


def _parse_row(
    values: dict[str, Any], categories: _Categories, now: datetime
) -> tuple[dict[str, Any], list[ErrorDetail]]:
    """The arguments of ``report_case`` for one row, or the row's problems (each with our field name)."""
    details: list[ErrorDetail] = []
    text = {name: _text(value) for name, value in values.items()}
    ticket = text.get("ticket", "")
    if not ticket:
        details.append(ErrorDetail(field="ticket", message="the hotline ticket number is missing"))
    title = text.get("title", "")
    if not title:
        details.append(ErrorDetail(field="title", message="the title is missing"))
    reported_at, problem = parse_time(values.get("reported_at"), now)
    if problem:
        details.append(ErrorDetail(field="reported_at", message=problem))

    category, problem = categories.match(text.get("category", ""), text.get("category_major", ""))
    if problem:
        details.append(ErrorDetail(field="category", message=problem))

    urgency = None
    if text.get("urgency"):
        urgency = URGENCY_WORDS.get(text["urgency"].upper())
        if urgency is None:
            details.append(ErrorDetail(field="urgency", message=f"“{text['urgency']}” is not 紧急/A, 一般/B or 不急/C"))

    phone = PHONE_SEPARATORS.sub("", text.get("reporter_phone", ""))
    if phone.startswith("+"):
        phone = phone[1:]
    if phone and not phone.isdigit():
        details.append(ErrorDetail(field="reporter_phone", message=f"“{text['reporter_phone']}” is not digits only"))

    lat, lat_problem = _coordinate(values.get("lat"), -90, 90)
    lng, lng_problem = _coordinate(values.get("lng"), -180, 180)
    if lat_problem:
        details.append(ErrorDetail(field="lat", message=lat_problem))
    if lng_problem:
        details.append(ErrorDetail(field="lng", message=lng_problem))
    if not (lat_problem or lng_problem):
        if lat == 0 and lng == 0:  # exports write 0/0 for "no position"
            lat = lng = None
        elif (lat is None) != (lng is None):
            details.append(ErrorDetail(field="lat" if lat is None else "lng", message="give both 经度 and 纬度"))

    sized = {"ticket": ticket, "address": text.get("address", ""), "reporter_name": text.get("reporter_name", "")}
    sized["reporter_phone"] = phone
    for name, value in sized.items():
        if len(value) > MAX_LENGTHS[name]:
            details.append(ErrorDetail(field=name, message=f"longer than {MAX_LENGTHS[name]} characters"))

    if details:
        return {}, details
    assert category is not None and reported_at is not None
    return {
        "hotline_ticket": ticket,
        "reported_at": reported_at,
        "title": title,
        "description": text.get("description", ""),
        "category_id": category.pk,
        "urgency": urgency,
        "address": sized["address"],
        "lat": lat,
        "lng": lng,
        "reporter_name": sized["reporter_name"],
        "reporter_phone": phone,
    }, []


def parse_time(value: Any, now: datetime | None = None) -> tuple[datetime | None, str]:
    """A time from a cell: a datetime (XLSX), an Excel serial number, or text like "2026-03-01 08:15" or
    "2026/3/1 8:15". Naive times are local (settings.TIME_ZONE). Returns (time, problem)."""
    now = now or timezone.now()
    parsed: datetime | None = None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "the time is missing"
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time.min)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date (1954–2119)
            from openpyxl.utils.datetime import from_excel

            parsed = from_excel(value)
    else:
        raw = re.sub(r"\s+", " ", str(value).strip())
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            for fmt in DATE_FORMATS:
                try:
                    parsed = datetime.strptime(raw, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None, f"“{_text(value)}” is not a time (e.g. 2026-03-01 08:15)"
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    if parsed > now + timedelta(hours=1):
        return None, f"{_text(value)} is in the future"
    if parsed.year < 2000:
        return None, f"{_text(value)} is not a plausible call time"
    return parsed, ""


def _coordinate(value: Any, low: float, high: float) -> tuple[float | None, str]:
    raw = _text(value)
    if not raw:
        return None, ""
    try:
        number = float(raw)
    except ValueError:
        return None, f"“{raw}” is not a number"
    if not low <= number <= high:
        return None, f"{raw} is not between {low} and {high}"
    return number, ""


class _Categories:
    """Matching a category cell to the taxonomy by code or name: 小类 (minor class) first, then 大类."""

    def __init__(self) -> None:
        active = list(Category.objects.filter(is_active=True).select_related("parent").order_by("code"))
        self.minor = [c for c in active if c.parent_id]
        self.major = [c for c in active if not c.parent_id]

    @staticmethod
    def _codes(token: str) -> set[str]:
        codes = {token}
        if token.isdigit():  # XLSX drops leading zeros: 105 → 0105
            codes |= {token.zfill(2), token.zfill(4)}
        return codes

    def _find(self, pool: list[Category], tokens: list[str], context: list[str]) -> Category | None:
        for token in tokens:
            codes = self._codes(token)
            hits = [c for c in pool if c.code in codes] or [c for c in pool if c.name == token]
            if len(hits) > 1:  # the same 小类 name under several 大类: the row's 大类 decides
                narrowed = [c for c in hits if c.parent and (c.parent.name in context or c.parent.code in context)]
                hits = narrowed or hits
            if hits:
                return hits[0]
        return None

    def match(self, minor_text: str, major_text: str) -> tuple[Category | None, str]:
        if not minor_text and not major_text:
            fallback = self._find(self.minor, [FALLBACK_CATEGORY], [])
            if fallback is None:
                return None, "the category is missing"
            return fallback, ""
        minor_parts = [p for p in CATEGORY_SEPARATORS.split(minor_text) if p]
        major_parts = [p for p in CATEGORY_SEPARATORS.split(major_text) if p]
        # The most specific text first: the whole cell, then its parts from the last (小类) to the first (大类).
        tokens = [t for t in (minor_text, *reversed(minor_parts), major_text, *reversed(major_parts)) if t]
        context = [*minor_parts, *major_parts]
        found = self._find(self.minor, tokens, context) or self._find(self.major, tokens, context)
        if found is None:
            shown = " / ".join(t for t in (major_text, minor_text) if t)
            return None, f"no category “{shown}” (by name or code)"
        return found, ""


# --- bookkeeping -----------------------------------------------------------------------------------------------------


def _our_field(name: str | None) -> str | None:
    return {"category_id": "category", "hotline_ticket": "ticket"}.get(name or "", name)


def _audit_code(actor: Any, subdistricts: set[str]) -> str:
    if len(subdistricts) == 1:
        return next(iter(subdistricts))
    scope = actor.scope_for("cases.case", "add")
    if not scope.everything and len(scope.prefixes) == 1:
        return str(next(iter(scope.prefixes)))
    return ""
