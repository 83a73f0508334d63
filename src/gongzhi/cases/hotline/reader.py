"""The 12345 import's reader: a file → rows (the columns by the header and a mapping, each row parsed into the
arguments of a new case — ``intake.NewCase`` — or its problems, each with our field name)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from gongzhi.cases import intake
from gongzhi.cases.choices import CategoryKind, Urgency
from gongzhi.cases.models import Category
from gongzhi.core import tabular
from gongzhi.core.errors import ErrorDetail, Text
from gongzhi.core.messages import fmt

MAX_FILE_BYTES = 300 * 1024 * 1024  # a million rows of a 12345 export are about 200 MB of CSV

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
# What our fields are called on the page and in messages (never the internal name).
FIELD_LABELS: dict[str, Any] = {
    "ticket": gettext_lazy("Ticket number"),
    "reported_at": gettext_lazy("Call time"),
    "title": gettext_lazy("Title"),
    "description": gettext_lazy("Description"),
    "category": gettext_lazy("Category (minor class)"),
    "category_major": gettext_lazy("Category (major class)"),
    "address": gettext_lazy("Address"),
    "reporter_name": gettext_lazy("Caller"),
    "reporter_phone": gettext_lazy("Caller's phone"),
    "urgency": gettext_lazy("Urgency"),
    "lng": gettext_lazy("Longitude"),
    "lat": gettext_lazy("Latitude"),
}
MAX_LENGTHS = {  # intake's limits (the ticket is the case's hotline_ticket)
    "ticket": intake.FIELD_LIMITS["hotline_ticket"],
    **{name: intake.FIELD_LIMITS[name] for name in ("address", "reporter_name", "reporter_phone")},
}
MAX_TITLE = intake.FIELD_LIMITS["title"]  # report_case's limit

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

parse_mapping = tabular.parse_mapping  # the ``mapping`` form field: a JSON object of our fields to the headers


# --- columns ---------------------------------------------------------------------------------------------------------


def resolve_columns(header: list[str], mapping: dict[str, Any] | None = None) -> dict[str, int]:
    """Our field → the column index in the file. Raises ``ValidationFailed`` (naming every problem) when a mapping
    key is unknown, a mapped header is not in the file, or a required column is missing."""
    return tabular.resolve_columns(header, mapping, DEFAULT_HEADERS, REQUIRED, FIELD_LABELS)


_text = tabular.text


def _batches(rows: Iterable[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


# --- one row ---------------------------------------------------------------------------------------------------------


def _cell_text(cells: list[Any], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    if value.__class__ is str:
        return value.strip()
    return _text(value)


def _cell(cells: list[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cells[index]


_TEXT_FIELDS = ("title", "category", "category_major", "urgency", "reporter_phone", "address", "reporter_name",
                "description")  # fmt: skip


class _Parser:
    """A row of the file → the arguments of ``report_case`` (as a ``intake.NewCase``), or the row's problems
    (each with our field name). The checks are the ones the importer always made, plus ``report_case``'s own."""

    def __init__(self, columns: dict[str, int], categories: _Categories, now: datetime) -> None:
        self.index = {name: columns.get(name) for name in FIELDS}
        self.text_columns = [self.index[name] for name in _TEXT_FIELDS]
        self.categories = categories
        self.now = now
        self.latest = now + timedelta(hours=1)
        self.local = timezone.get_default_timezone()

    def parse(self, number: int, cells: list[Any], ticket: str) -> tuple[intake.NewCase | None, list[ErrorDetail]]:
        # The text cells in one pass (this runs a million times for a city's year).
        width = len(cells)
        texts: list[str] = []
        for i in self.text_columns:
            if i is None or i >= width:
                texts.append("")
            else:
                value = cells[i]
                texts.append(value.strip() if value.__class__ is str else _text(value))
        title, category_text, major_text, urgency_text, phone_text, address, reporter_name, description = texts
        index = self.index

        details: list[ErrorDetail] = []
        if not ticket:
            details.append(ErrorDetail(field="ticket", message=gettext_lazy("the hotline ticket number is missing")))
        if not title:
            details.append(ErrorDetail(field="title", message=gettext_lazy("the title is missing")))
        reported_at, problem = self._time(_cell(cells, index["reported_at"]))
        if problem:
            details.append(ErrorDetail(field="reported_at", message=problem))

        category, problem, to_confirm = self.categories.match(category_text, major_text)
        if problem:
            details.append(ErrorDetail(field="category", message=problem))

        urgency = None
        if urgency_text:
            urgency = URGENCY_WORDS.get(urgency_text.upper())
            if urgency is None:
                details.append(
                    ErrorDetail(
                        field="urgency",
                        message=fmt(
                            gettext_lazy("“%(value)s” is not 紧急/A, 一般/B or 不急/C"),
                            value=urgency_text,
                        ),
                    )
                )

        phone = phone_text if phone_text.isdigit() or not phone_text else PHONE_SEPARATORS.sub("", phone_text)
        if phone.startswith("+"):
            phone = phone[1:]
        if phone and not phone.isdigit():
            details.append(
                ErrorDetail(
                    field="reporter_phone",
                    message=fmt(gettext_lazy("“%(value)s” is not digits only"), value=phone_text),
                )
            )

        lat, lat_problem = _coordinate(_cell(cells, index["lat"]), -90, 90)
        lng, lng_problem = _coordinate(_cell(cells, index["lng"]), -180, 180)
        if lat_problem:
            details.append(ErrorDetail(field="lat", message=lat_problem))
        if lng_problem:
            details.append(ErrorDetail(field="lng", message=lng_problem))
        if not (lat_problem or lng_problem):
            if lat == 0 and lng == 0:  # exports write 0/0 for "no position"
                lat = lng = None
            elif (lat is None) != (lng is None):
                details.append(
                    ErrorDetail(
                        field="lat" if lat is None else "lng",
                        message=gettext_lazy("give both the longitude and the latitude"),
                    )
                )

        sized = (("ticket", ticket), ("address", address), ("reporter_name", reporter_name), ("reporter_phone", phone))
        for name, value in sized:
            if len(value) > MAX_LENGTHS[name]:
                details.append(
                    ErrorDetail(
                        field=name, message=fmt(gettext_lazy("longer than %(n)s characters"), n=MAX_LENGTHS[name])
                    )
                )

        if details:
            return None, details
        assert category is not None and reported_at is not None
        # What report_case itself refuses, beyond the checks above.
        if len(title) > MAX_TITLE:
            return None, [
                ErrorDetail(
                    field="title", message=fmt(gettext_lazy("at most %(max_title)s characters"), max_title=MAX_TITLE)
                )
            ]
        if "\x00" in f"{ticket}{title}{description}{address}{reporter_name}":
            return None, [ErrorDetail(message=gettext_lazy("the row cannot be stored: it contains a NUL character"))]
        return intake.NewCase(
            row=number,
            ticket=ticket,
            title=title,
            description=description,
            category_id=category.id,
            default_urgency=category.default_urgency,
            urgency=urgency,
            address=address,
            lat=lat,
            lng=lng,
            reporter_name=reporter_name,
            reporter_phone=phone,
            reported_at=reported_at,
            category_unconfirmed=to_confirm,
            category_text=" / ".join(t for t in (major_text, category_text) if t)[:120] if to_confirm else "",
        ), []

    def _time(self, value: Any) -> tuple[datetime | None, Text]:
        if value.__class__ is str:  # the fast path: ISO-like text, the usual export format
            raw = value.strip()
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                pass
            else:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=self.local)  # timezone.make_aware
                return _plausible(parsed, value, self.latest)
        return parse_time(value, self.now)


def parse_time(value: Any, now: datetime | None = None) -> tuple[datetime | None, Text]:
    """A time from a cell: a datetime (XLSX), an Excel serial number, or text like "2026-03-01 08:15" or
    "2026/3/1 8:15". Naive times are local (settings.TIME_ZONE). Returns (time, problem)."""
    now = now or timezone.now()
    parsed: datetime | None = None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, gettext_lazy("the time is missing")
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
            for pattern in DATE_FORMATS:
                try:
                    parsed = datetime.strptime(raw, pattern)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None, fmt(gettext_lazy("“%(value)s” is not a time (e.g. 2026-03-01 08:15)"), value=_text(value))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return _plausible(parsed, value, now + timedelta(hours=1))


def _plausible(parsed: datetime, value: Any, latest: datetime) -> tuple[datetime | None, Text]:
    if parsed > latest:
        return None, fmt(gettext_lazy("%(value)s is in the future"), value=_text(value))
    if parsed.year < 2000:
        return None, fmt(gettext_lazy("%(value)s is not a plausible call time"), value=_text(value))
    return parsed, ""


def _coordinate(value: Any, low: float, high: float) -> tuple[float | None, Text]:
    raw = _text(value)
    if not raw:
        return None, ""
    try:
        number = float(raw)
    except ValueError:
        return None, fmt(gettext_lazy("“%(value)s” is not a number"), value=raw)
    if not low <= number <= high:
        return None, fmt(gettext_lazy("%(value)s is not between %(low)s and %(high)s"), value=raw, low=low, high=high)
    return number, ""


class _Categories:
    """Matching a category cell to the taxonomy by code or name: 小类 (minor class) first, then 大类. Each distinct
    (小类 text, 大类 text) is matched once per import."""

    def __init__(self) -> None:
        # Events before facilities: a bare code or name both kinds have (0101, 市容环境) is the event class, as
        # before facilities existed, unless the cell says 部件.
        active = list(Category.objects.filter(is_active=True).select_related("parent").order_by("kind", "code"))
        self.minor = [c for c in active if c.parent_id]
        self.major = [c for c in active if not c.parent_id]
        self.matched: dict[tuple[str, str], tuple[Category | None, Text, bool]] = {}

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
            if len(hits) > 1 and any("部件" in part for part in context):  # the same code in both kinds
                hits = [c for c in hits if c.kind == CategoryKind.FACILITY] or hits
            if hits:
                return hits[0]
        return None

    def match(self, minor_text: str, major_text: str) -> tuple[Category | None, Text, bool]:
        """(category, problem, to confirm). A category text that matches none of ours is not a problem: the
        ticket is taken in with the fallback category (:data:`FALLBACK_CATEGORY`, else the first active one) and
        flagged for the desk to set its category. Only a taxonomy without any active category refuses the row."""
        key = (minor_text, major_text)
        found = self.matched.get(key)
        if found is None:
            found = self.matched[key] = self._match(minor_text, major_text)
        return found

    def fallback(self) -> Category | None:
        return (
            self._find(self.minor, [FALLBACK_CATEGORY], [])
            or self._find(self.major, [FALLBACK_CATEGORY], [])
            or next(iter(self.minor or self.major), None)
        )

    def _match(self, minor_text: str, major_text: str) -> tuple[Category | None, Text, bool]:
        if not minor_text and not major_text:
            fallback = self._find(self.minor, [FALLBACK_CATEGORY], [])
            if fallback is None:
                return None, gettext_lazy("the category is missing"), False
            return fallback, "", False
        minor_parts = [p for p in CATEGORY_SEPARATORS.split(minor_text) if p]
        major_parts = [p for p in CATEGORY_SEPARATORS.split(major_text) if p]
        # The most specific text first: the whole cell, then its parts from the last (小类) to the first (大类).
        tokens = [t for t in (minor_text, *reversed(minor_parts), major_text, *reversed(major_parts)) if t]
        context = [*minor_parts, *major_parts]
        found = self._find(self.minor, tokens, context) or self._find(self.major, tokens, context)
        if found is not None:
            return found, "", False
        fallback = self.fallback()
        if fallback is None:
            shown = " / ".join(t for t in (major_text, minor_text) if t)
            return None, fmt(gettext_lazy("no category “%(value)s” (by name or code)"), value=shown), False
        return fallback, "", True
