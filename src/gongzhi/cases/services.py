"""Writes for cases other than status changes (those are ``workflow.perform``): intake, attachments, handover,
the 12345 hotline import."""

from __future__ import annotations

import functools
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db import utils as db_utils
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from gongzhi.cases import tiers, tracking, workflow
from gongzhi.cases.choices import Channel, Urgency
from gongzhi.cases.models import Attachment, Case, CaseEvent, Category, HotlineImport, HotlineImportState
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.territory import selectors as territory

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 9
ALLOWED_IMAGE_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "image/heic": (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheim", b"ftypheis"),
}


@dataclass
class Placement:
    node: Any
    unplaced: bool
    how: str


def place(
    *, lat: float | None, lng: float | None, address: str = "", node_id: int | None = None, actor: Any = None
) -> Placement:
    """Resolve where a case is: a given place, else GPS → grid → nearest building, else an address → building,
    else the subdistrict desk, flagged. Never fails."""
    from gongzhi.territory.models import Node

    if node_id is not None:
        node = (
            territory.node_get(user=actor, node_id=node_id)
            if actor is not None
            else Node.objects.select_related("lead_body").get(pk=node_id)
        )
        return Placement(node, False, "given")
    if lat is not None and lng is not None:
        spot = territory.place_of_point(lat=lat, lng=lng)  # grid + nearest building: one query
        if spot.grid is not None:
            return Placement(spot.building or spot.grid, False, "gps")
        fallback = spot.fallback
    else:
        fallback = None
    if address.strip():
        building = territory.building_by_address(address=address, user=actor)
        if building is not None:
            return Placement(building, False, "address")
    if fallback is None:
        fallback = territory.default_desk(user=actor)
    if fallback is None:
        raise ValidationFailed("No subdistrict is set up yet.", [ErrorDetail(field="node_id", message="no territory")])
    return Placement(fallback, True, "desk")


def _retry_tracking_code_clash(take_in: Callable[..., Case]) -> Callable[..., Case]:
    """A new case's tracking code is random (``cases.tracking``: 80 bits, so a clash is all but impossible; the
    8-hex-digit codes of before clashed once in ~4,000 draws at a million cases). Should a drawn code be taken, the
    unique index refuses it, the intake's transaction (or its savepoint inside a caller's) rolls back, and the
    intake runs again with a fresh draw; cheaper than a look-up before every insert."""

    @functools.wraps(take_in)
    def wrapper(**kwargs: Any) -> Case:
        for attempt in range(3):
            try:
                return take_in(**kwargs)
            except db_utils.IntegrityError as exc:
                if attempt == 2 or "tracking_code" not in str(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def _active_category(category_id: int) -> Category | None:
    """The active category of that id. Intake runs this for every case: a raw query skips the ORM's compilation of
    the same statement each time (about 1 ms of a small machine's CPU)."""
    if not 0 < category_id < 2**63:  # no row has it, and a database column could not even hold it
        return None
    table = Category._meta.db_table
    rows = list(Category.objects.raw(f"SELECT * FROM {table} WHERE id = %s AND is_active", [category_id]))
    return rows[0] if rows else None


@_retry_tracking_code_clash
@transaction.atomic
def report_case(
    *,
    actor: Any,
    channel: str,
    title: str,
    category_id: int,
    description: str = "",
    urgency: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    node_id: int | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    hotline_ticket: str | None = None,
    reported_at: datetime | None = None,
    fixed_on_spot_note: str = "",
    files: list[UploadedFile] | None = None,
) -> Case:
    """Take a case in. The actor (None for a resident without an account) becomes its first-contact owner."""
    details: list[ErrorDetail] = []
    if channel not in Channel.values:
        details.append(ErrorDetail(field="channel", message=f"one of {', '.join(Channel.values)}"))
    if not title.strip():
        details.append(ErrorDetail(field="title", message="say what the problem is"))
    category = _active_category(category_id)
    if category is None:
        details.append(ErrorDetail(field="category_id", message=f"no active category {category_id}"))
    if urgency is not None and urgency not in Urgency.values:
        details.append(ErrorDetail(field="urgency", message="A, B or C"))
    for name, value, limit in (("title", title, 200), ("address", address, 200), ("reporter_name", reporter_name, 60),
                               ("reporter_phone", reporter_phone, 20)):
        if len(value or "") > limit:
            details.append(ErrorDetail(field=name, message=f"at most {limit} characters"))
    if reporter_phone and not reporter_phone.strip().isdigit():
        details.append(ErrorDetail(field="reporter_phone", message="digits only"))
    for i, f in enumerate(files or []):
        details.extend(check_attachment(f, f"files[{i}]"))
    if len(files or []) > MAX_ATTACHMENTS:
        details.append(ErrorDetail(field="files", message=f"at most {MAX_ATTACHMENTS} photos"))
    if details:
        raise ValidationFailed("The case cannot be taken in.", details)
    assert category is not None
    placement = place(lat=lat, lng=lng, address=address, node_id=node_id, actor=actor)
    now = timezone.now()
    reported_at = reported_at or now
    # The number carries the primary key. On PostgreSQL the id is drawn from the table's sequence first, so the
    # row goes in whole; elsewhere it is known only once the row is in, and one UPDATE writes the number (an UPDATE
    # of an indexed column rewrites every index entry of the row: twice the insert's index work).
    pk = _reserve_case_ids(1)[0] if connection.vendor == "postgresql" else None
    case = Case.objects.create(
        pk=pk,
        number=_case_number(timezone.localtime(reported_at), pk) if pk else f"TMP{secrets.token_hex(8)}",
        title=title.strip()[:200],
        description=description,
        category=category,
        urgency=urgency or category.default_urgency,
        channel=channel,
        status=workflow.create_status(),
        tier=tiers.initial_tier(placement.node.kind),
        node=placement.node,
        place_code=placement.node.code,
        unplaced=placement.unplaced,
        lat=lat,
        lng=lng,
        address=address,
        owner_body=placement.node.lead_body,
        owner_user=actor if getattr(actor, "pk", None) else None,
        reporter_user=actor if getattr(actor, "pk", None) else None,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone.strip(),
        tracking_code=tracking.new_code(),
        hotline_ticket=hotline_ticket or None,
        reported_at=reported_at,
    )
    if pk is None:
        case.number = _case_number(timezone.localtime(case.reported_at), case.pk)
        Case.objects.filter(pk=case.pk).update(number=case.number)
    event = CaseEvent.objects.create(
        case=case,
        at=case.reported_at,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=str(actor) if getattr(actor, "pk", None) else (reporter_name or "resident"),
        action="report",
        to_status=case.status,
        note=("Location matched no grid: held by the subdistrict desk." if placement.unplaced else ""),
        data={"channel": channel, "placed_by": placement.how},
    )
    for f in files or []:
        _store_attachment(case, event, f, actor)
    audit.record(
        actor=actor,
        action="cases.reported",
        obj=case,
        node_code=case.node.code,
        after={"number": case.number, "node": case.node_id, "unplaced": case.unplaced, "channel": channel},
    )
    if fixed_on_spot_note:
        workflow.perform(actor=actor, case_id=case.pk, action="fix_on_spot", note=fixed_on_spot_note)
        case.refresh_from_db()
    return case


def check_attachment(f: UploadedFile, where: str) -> list[ErrorDetail]:
    errors = []
    size = f.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors.append(ErrorDetail(field=where, message=f"{f.name}: {size // 1024} KB is over the 10 MB limit"))
    ctype = (f.content_type or "").lower()
    if ctype == "image/heif":
        ctype = "image/heic"
    signatures = ALLOWED_IMAGE_TYPES.get(ctype)
    if signatures is None:
        errors.append(
            ErrorDetail(
                field=where, message=f"{f.name}: {ctype or 'unknown type'} is not a photo (jpeg, png, webp or heic)"
            )
        )
        return errors
    head = f.read(32)
    f.seek(0)
    if not any(sig in head[:16] for sig in signatures):
        errors.append(ErrorDetail(field=where, message=f"{f.name}: the content is not a {ctype} image"))
    return errors


def _store_attachment(case: Case, event: CaseEvent | None, f: UploadedFile, actor: Any) -> Attachment:
    return Attachment.objects.create(
        case=case,
        event=event,
        file=f,
        name=(f.name or "photo")[:200],
        content_type=f.content_type or "",
        size=f.size or 0,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def add_attachments(*, actor: Any, case_id: int, files: list[UploadedFile], note: str = "") -> list[Attachment]:
    case = get_in_scope(Case, actor, case_id, "change")
    details = [e for i, f in enumerate(files) for e in check_attachment(f, f"files[{i}]")]
    if not files:
        details.append(ErrorDetail(field="files", message="no file"))
    if case.attachments.count() + len(files) > MAX_ATTACHMENTS * 3:
        details.append(ErrorDetail(field="files", message="too many attachments on this case"))
    if details:
        raise ValidationFailed("The attachments were not accepted.", details)
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="attach",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=False,
    )
    stored = [_store_attachment(case, event, f, actor) for f in files]
    audit.record(
        actor=actor,
        action="cases.attached",
        obj=case,
        node_code=case.node.code,
        after={"files": [a.name for a in stored]},
    )
    return stored


@transaction.atomic
def hand_over(*, actor: Any, case_id: int, to_user_id: int, note: str) -> Case:
    """首问负责: the responsible person changes only by a recorded handover."""
    from gongzhi.accounts.models import User

    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed("Say why the case is handed over.", [ErrorDetail(field="note", message="required")])
    target = User.objects.filter(pk=to_user_id, is_active=True).first()
    if target is None or not Case.objects.restrict(target, "change").filter(pk=case.pk).exists():
        raise Forbidden("The new owner must be able to act on this case.")
    before = {"owner_user": case.owner_user_id}
    case.owner_user = target
    case.save(update_fields=["owner_user", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="hand_over",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=False,
        data={"to_user": target.pk},
    )
    audit.record(
        actor=actor,
        action="cases.handed_over",
        obj=case,
        node_code=case.node.code,
        before=before,
        after={"owner_user": target.pk},
        note=note,
    )
    return case


@transaction.atomic
def add_note(*, actor: Any, case_id: int, note: str, public: bool = False) -> CaseEvent:
    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed("The note is empty.", [ErrorDetail(field="note", message="required")])
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="note",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=public,
    )
    audit.record(actor=actor, action="cases.noted", obj=case, node_code=case.node.code, note=note)
    return event


@transaction.atomic
def confirm_category(*, actor: Any, case_id: int, category_id: int, note: str = "") -> Case:
    """The desk sets the category of a case (a 12345 ticket whose category matched none of ours waits for this,
    flagged ``category_unconfirmed``): any active category; the flag is cleared, the timeline and the audit log say
    from what to what. Needs the right to change the case."""
    case = get_in_scope(Case, actor, case_id, "change")
    category = _active_category(category_id) if isinstance(category_id, int) else None
    if category is None:
        raise ValidationFailed(
            gettext("Choose one of the active categories."),
            [ErrorDetail(field="category_id", message=gettext("no active category %(id)s") % {"id": category_id})],
        )
    before = {"category": case.category_id, "category_unconfirmed": case.category_unconfirmed}
    old_name = case.category.name
    case.category = category
    case.category_unconfirmed = False
    case.save(update_fields=["category", "category_unconfirmed", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="categorise",
        from_status=case.status,
        to_status=case.status,
        note=note.strip()
        or gettext("Category: %(old)s → %(new)s") % {"old": case.category_text or old_name, "new": category.name},
        public=False,
        data={"from": before["category"], "to": category.pk},
    )
    audit.record(
        actor=actor,
        action="cases.categorised",
        obj=case,
        node_code=case.node.code,
        before=before,
        after={"category": category.pk, "category_unconfirmed": False},
        note=note,
    )
    return case


def reveal_reporter_phone(*, actor: Any, case_id: int) -> str:
    """The reporter's phone unmasked: only in scope with the reveal right, always audited."""
    case = get_in_scope(Case, actor, case_id, "reveal")
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.reveal", obj=case, node_code=case.node.code,
                     note="field=reporter_phone")
    return case.reporter_phone


# --- the 12345 hotline import at scale: many cases in one statement per table --------------------------------------
#
# ``cases.hotline`` parses, places and scope-checks a whole batch of rows, then hands them here. Each case is written
# exactly as ``report_case(channel=hotline, …)`` writes it (the same fields, the same first timeline event, the same
# ``cases.reported`` audit record; a test compares the two field by field), only many at a time: PostgreSQL gets one
# ``COPY`` per table, SQLite ``bulk_create``. The import's background jobs (``HotlineImport``) are written here too.

PLACED_ON_DESK_NOTE = "Location matched no grid: held by the subdistrict desk."


def _first_note(c: HotlineCase) -> str:
    """The first timeline event's note for an imported row: where it is held, and a category to confirm."""
    notes = [PLACED_ON_DESK_NOTE] if c.unplaced else []
    if c.category_unconfirmed:
        notes.append(
            gettext("The 12345 category “%(category)s” matched none of ours: the desk sets the category.")
            % {"category": c.category_text}
        )
    return " ".join(notes)


class PlaceRef(NamedTuple):
    """A territory node as the bulk writer needs it (``pk``, ``code``, ``kind``, ``lead_body_id``; ``name`` for
    messages)."""

    pk: int
    code: str
    name: str
    kind: str
    lead_body_id: int


@dataclass(slots=True)
class HotlineCase:
    """One 12345 row, parsed and placed, as :func:`report_hotline_cases` takes it: the arguments ``report_case``
    would get, plus the placement ``place`` would have found (``placed_by``: gps, address or desk)."""

    row: int
    ticket: str
    title: str
    description: str
    category_id: int
    default_urgency: str
    urgency: str | None
    address: str
    lat: float | None
    lng: float | None
    reporter_name: str
    reporter_phone: str
    reported_at: datetime
    node: PlaceRef | None = None
    unplaced: bool = False
    placed_by: str = ""
    category_unconfirmed: bool = False  # the export's category matched none of ours: the desk sets it
    category_text: str = ""  # that category, as the export gave it


@dataclass
class HotlineWritten:
    created: list[tuple[int, str]] = field(default_factory=list)  # (row, case number), in row order
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, ticket): imported meanwhile by someone else


def report_hotline_cases(*, actor: Any, cases: Sequence[HotlineCase]) -> HotlineWritten:
    """Take a batch of 12345 rows in, all in one transaction: each becomes a case, its first timeline event and its
    ``cases.reported`` audit record, exactly as :func:`report_case` would write them. The caller has parsed and
    placed the rows and checked the actor may add cases there (``cases.hotline``).

    A batch that hits a unique ticket (another import took it in meanwhile) or, rarely, a tracking code that came
    up twice is written again row by row, each in its own savepoint: a ticket taken meanwhile is reported skipped.
    Safe to call from several threads at once (each with its own connection)."""
    codes: list[str] = []
    try:
        return _report_hotline_cases(actor, cases, codes)
    finally:
        _release_tracking_codes(codes)  # in the table now (its unique index guards them), or free again


@transaction.atomic
def _report_hotline_cases(actor: Any, cases: Sequence[HotlineCase], codes: list[str]) -> HotlineWritten:
    if not cases:
        return HotlineWritten()
    try:
        with transaction.atomic():
            return HotlineWritten(created=_write_hotline_cases(actor, cases, codes))
    except IntegrityError:
        pass
    out = HotlineWritten()
    for item in cases:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    out.created.extend(_write_hotline_cases(actor, [item], codes))
                break
            except IntegrityError:
                if Case.objects.filter(hotline_ticket=item.ticket).exists():
                    out.skipped.append((item.row, item.ticket))
                    break
                if attempt == 2:  # not the ticket and not a fresh tracking code's bad luck: a real problem
                    raise
    return out


def _write_hotline_cases(actor: Any, cases: Sequence[HotlineCase], used_codes: list[str]) -> list[tuple[int, str]]:
    actor_pk = actor.pk if getattr(actor, "pk", None) else None
    now = timezone.now()
    local = timezone.get_current_timezone()
    codes = _fresh_tracking_codes(len(cases))
    used_codes.extend(codes)
    if connection.vendor == "postgresql":
        ids = _reserve_case_ids(len(cases))
        numbers = [_case_number(c.reported_at.astimezone(local), pk) for c, pk in zip(cases, ids, strict=True)]
        _copy_hotline_cases(actor, actor_pk, now, cases, ids, numbers, codes)
    else:
        ids, numbers = _create_hotline_cases(actor, actor_pk, now, cases, codes, local)
    return [(c.row, number) for c, number in zip(cases, numbers, strict=True)]


def _json_template(value: dict[str, Any], holes: dict[str, str]) -> str:
    """``value`` as JSON (COPY-escaped), turned into a ``str.format`` template by replacing each placeholder."""
    text = _copy_text(json.dumps(value)).replace("{", "{{").replace("}", "}}")
    for placeholder, hole in holes.items():
        assert text.count(placeholder) == 1, placeholder
        text = text.replace(placeholder, hole)
    return text


def _case_number(local_time: datetime, pk: int) -> str:
    """``report_case``'s case number: the local date of the report and the id, ``YYYYMMDD`` + 7 digits."""
    return f"{local_time.year:04d}{local_time.month:02d}{local_time.day:02d}{pk:07d}"


def _hotline_case_fields(actor_pk: int | None, now: datetime) -> dict[str, Any]:
    """The fields every imported case shares (as ``report_case`` sets them for ``channel=hotline``)."""
    return {
        "channel": Channel.HOTLINE,
        "status": workflow.create_status(),
        "owner_user_id": actor_pk,
        "reporter_user_id": actor_pk,
        "created_at": now,
        "updated_at": now,
    }


def _reported_after(number: str, node_id: int, unplaced: bool) -> dict[str, Any]:
    return {"number": number, "node": node_id, "unplaced": unplaced, "channel": Channel.HOTLINE}


def _event_fields(actor: Any, actor_pk: int | None) -> dict[str, Any]:
    return {
        "actor_id": actor_pk,
        "actor_label": str(actor) if actor_pk else "resident",
        "action": "report",
        "from_status": "",
        "public": True,
    }


_codes_lock = threading.Lock()
_codes_in_flight: set[str] = set()  # handed out to batches not committed yet (imports may write batches in parallel)


def _fresh_tracking_codes(n: int) -> list[str]:
    """``n`` tracking codes (as ``report_case`` makes them: ``tracking.new_code``) that no case has yet and no batch
    being written in this process holds. Release them with :func:`_release_tracking_codes` once the batch is over."""
    codes: list[str] = []
    while len(codes) < n:
        want = n - len(codes)
        fresh = {tracking.new_code() for _ in range(want)}
        fresh -= set(_existing_values("tracking_code", list(fresh)))
        with _codes_lock:
            fresh -= _codes_in_flight
            _codes_in_flight.update(fresh)
        codes.extend(fresh)
    return codes


def _release_tracking_codes(codes: Iterable[str]) -> None:
    with _codes_lock:
        _codes_in_flight.difference_update(codes)


def existing_hotline_tickets(tickets: Sequence[str]) -> set[str]:
    """Which of these 12345 tickets are already cases (one indexed query per 5,000)."""
    return set(_existing_values("hotline_ticket", tickets))


def _existing_values(column: str, values: Sequence[str]) -> list[str]:
    """The values of a unique text column of cases that are taken. On PostgreSQL one array parameter per query
    (``= ANY``), not thousands of placeholders."""
    found: list[str] = []
    for start in range(0, len(values), 5000):
        chunk = list(values[start : start + 5000])
        if not chunk:
            continue
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {column} FROM {Case._meta.db_table} WHERE {column} = ANY(%s)", [chunk])
                found.extend(row[0] for row in cursor.fetchall())
        else:
            found.extend(Case.objects.filter(**{f"{column}__in": chunk}).values_list(column, flat=True))
    return found


def _reserve_case_ids(n: int) -> list[int]:
    """``n`` case ids from the table's own sequence (PostgreSQL): single-case intake keeps drawing from it meanwhile."""
    table = Case._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
        return sorted(row[0] for row in cursor.fetchall())


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_value(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _copy_text(json.dumps(value))
    return _copy_text(str(value))


# The columns that differ from case to case, in the order the COPY line writes them.
_CASE_ROW_COLUMNS = (
    "id", "number", "title", "description", "category_id", "urgency", "tier", "node_id", "place_code", "unplaced",
    "lat", "lng", "address", "owner_body_id", "reporter_name", "reporter_phone", "tracking_code", "hotline_ticket",
    "reported_at", "category_unconfirmed", "category_text",
)  # fmt: skip
_EVENT_COLUMNS = ("case_id", "at", "actor_id", "actor_label", "action", "from_status", "to_status", "note", "public",
                  "data")  # fmt: skip
_AUDIT_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "object_repr", "node_code", "before", "after",
                  "note")  # fmt: skip
_COPY_CHUNK = 2000  # rows per write: PostgreSQL stores the first rows while the next ones are formatted


def _constant_columns(actor_pk: int | None, now: datetime) -> tuple[list[str], str]:
    """Every other column of ``cases_case``: the shared hotline fields, else the field's default (what ``create``
    would store). A new field without a default would be NULL here and fail loudly, never silently differ."""
    shared = _hotline_case_fields(actor_pk, now)
    names, values = [], []
    for f in Case._meta.concrete_fields:
        if f.attname in _CASE_ROW_COLUMNS:
            continue
        names.append(str(f.column))
        values.append(_copy_value(shared[f.attname] if f.attname in shared else f.get_default()))
    return names, "\t".join(values)


def _copy_lines(cursor: Any, table: str, columns: Iterable[str], lines: Iterable[str]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= _COPY_CHUNK:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def _copy_hotline_cases(
    actor: Any,
    actor_pk: int | None,
    now: datetime,
    cases: Sequence[HotlineCase],
    ids: list[int],
    numbers: list[str],
    codes: list[str],
) -> None:
    const_names, const_line = _constant_columns(actor_pk, now)
    status = workflow.create_status()
    esc = _copy_text
    null = "\\N"
    tier_of = {}
    for c in cases:
        assert c.node is not None, "every row is placed before it is written"
        if c.node.kind not in tier_of:
            tier_of[c.node.kind] = tiers.initial_tier(c.node.kind)

    titles = [c.title.strip()[:200] for c in cases]
    times = [c.reported_at.isoformat() for c in cases]

    def case_lines() -> Iterable[str]:
        for c, pk, number, code, title, at in zip(cases, ids, numbers, codes, titles, times, strict=True):
            node = c.node
            assert node is not None
            yield (
                f"{pk}\t{number}\t{esc(title)}\t{esc(c.description)}\t{c.category_id}\t"
                f"{c.urgency or c.default_urgency}\t{tier_of[node.kind]}\t{node.pk}\t{esc(node.code)}\t"
                f"{'t' if c.unplaced else 'f'}\t"
                f"{null if c.lat is None else repr(c.lat)}\t{null if c.lng is None else repr(c.lng)}\t"
                f"{esc(c.address)}\t{node.lead_body_id}\t{esc(c.reporter_name)}\t{esc(c.reporter_phone.strip())}\t"
                f"{code}\t{esc(c.ticket) if c.ticket else null}\t{at}\t"
                f"{'t' if c.category_unconfirmed else 'f'}\t{esc(c.category_text)}\t{const_line}\n"
            )

    ev = _event_fields(actor, actor_pk)
    ev_head = f"{_copy_value(ev['actor_id'])}\t{esc(ev['actor_label'])}\treport\t\t{status}\t"
    data_of = {
        how: esc(json.dumps({"channel": Channel.HOTLINE, "placed_by": how})) for how in {c.placed_by for c in cases}
    }
    desk_note = esc(PLACED_ON_DESK_NOTE)

    def event_lines() -> Iterable[str]:
        for c, pk, at in zip(cases, ids, times, strict=True):
            note = esc(_first_note(c)) if c.category_unconfirmed else desk_note if c.unplaced else ""
            yield f"{pk}\t{at}\t{ev_head}{note}\tt\t{data_of[c.placed_by]}\n"

    audit_head = f"{now.isoformat()}\t{_copy_value(actor_pk)}\tcases.reported\t{Case._meta.label_lower}\t"

    # The audit record's ``after`` (``_reported_after``) as a JSON template: a case number and an id need no
    # escaping, so each row only fills them in.
    after_of = {flag: _json_template(_reported_after("@number@", -1, flag), {"@number@": "{0}", "-1": "{1}"})
                for flag in (True, False)}  # fmt: skip

    def audit_lines() -> Iterable[str]:
        for c, pk, number, title in zip(cases, ids, numbers, titles, strict=True):
            node = c.node
            assert node is not None
            after = after_of[c.unplaced].format(number, node.pk)
            yield f"{audit_head}{pk}\t{esc(f'{number} {title}'[:200])}\t{node.code}\t\\N\t{after}\t\n"

    column_of = {f.attname: str(f.column) for f in Case._meta.concrete_fields}
    case_columns = [column_of[name] for name in _CASE_ROW_COLUMNS] + const_names
    with connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: COPY
        _copy_lines(cursor, Case._meta.db_table, case_columns, case_lines())
        _copy_lines(cursor, CaseEvent._meta.db_table, _EVENT_COLUMNS, event_lines())
        _copy_lines(cursor, AuditLog._meta.db_table, _AUDIT_COLUMNS, audit_lines())


def _create_hotline_cases(
    actor: Any, actor_pk: int | None, now: datetime, cases: Sequence[HotlineCase], codes: list[str], local: Any
) -> tuple[list[int], list[str]]:
    """The same rows through the ORM (SQLite): ``bulk_create`` returns the new ids, then the numbers are set."""
    shared = _hotline_case_fields(actor_pk, now)
    objs = []
    for c, code in zip(cases, codes, strict=True):
        node = c.node
        assert node is not None
        objs.append(
            Case(
                number=f"TMP{secrets.token_hex(8)}",
                title=c.title.strip()[:200],
                description=c.description,
                category_id=c.category_id,
                urgency=c.urgency or c.default_urgency,
                channel=shared["channel"],
                status=workflow.create_status(),
                tier=tiers.initial_tier(node.kind),
                node_id=node.pk,
                place_code=node.code,
                unplaced=c.unplaced,
                lat=c.lat,
                lng=c.lng,
                address=c.address,
                owner_body_id=node.lead_body_id,
                owner_user_id=actor_pk,
                reporter_user_id=actor_pk,
                reporter_name=c.reporter_name,
                reporter_phone=c.reporter_phone.strip(),
                tracking_code=code,
                hotline_ticket=c.ticket or None,
                reported_at=c.reported_at,
                category_unconfirmed=c.category_unconfirmed,
                category_text=c.category_text,
            )
        )
    Case.objects.bulk_create(objs)
    for obj in objs:
        obj.number = f"{obj.reported_at.astimezone(local):%Y%m%d}{obj.pk:07d}"
    Case.objects.bulk_update(objs, ["number"], batch_size=500)
    ev = _event_fields(actor, actor_pk)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=obj.pk,
            at=obj.reported_at,
            to_status=obj.status,
            note=_first_note(c),
            data={"channel": Channel.HOTLINE, "placed_by": c.placed_by},
            **ev,
        )
        for obj, c in zip(objs, cases, strict=True)
    )
    AuditLog.objects.bulk_create(
        AuditLog(
            actor_id=actor_pk,
            action="cases.reported",
            object_type=Case._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            node_code=c.node.code if c.node else "",
            after=_reported_after(obj.number, obj.node_id, obj.unplaced),
        )
        for obj, c in zip(objs, cases, strict=True)
    )
    return [obj.pk for obj in objs], [obj.number for obj in objs]


def record_hotline_import(
    *,
    actor: Any,
    file_name: str,
    node_code: str,
    rows: int,
    created: int,
    skipped: int,
    error_rows: int,
    numbers: list[str],
) -> None:
    """The one audit record of a whole 12345 file (``numbers``: the new case numbers, the first ones of a big file)."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="cases.hotline_imported",
            object_type="cases.case",
            object_repr=(file_name or "hotline import")[:200],
            node_code=node_code,
            after={
                "file": file_name,
                "rows": rows,
                "created": created,
                "skipped": skipped,
                "errors": error_rows,
                "numbers": numbers,
            },
        )


# --- 12345 import jobs ------------------------------------------------------------------------------------------------


@transaction.atomic
def create_hotline_import(
    *, actor: Any, upload: Any, file_name: str, mapping: dict[str, Any] | None, node_code: str
) -> HotlineImport:
    """Store an uploaded 12345 file for the background import and queue it (the caller enqueues the task after
    commit). The stored file is deleted when the job ends: it holds reporters' phone numbers."""
    job = HotlineImport(
        actor=actor,
        file_name=(file_name or "")[:200],
        file_size=getattr(upload, "size", 0) or 0,
        mapping=mapping or None,
        node_code=node_code,
    )
    suffix = ".xlsx" if (file_name or "").lower().endswith((".xlsx", ".xlsm")) else ".csv"
    upload.seek(0)
    job.file.save(f"{secrets.token_hex(12)}{suffix}", upload, save=False)
    job.save()
    audit.record(
        actor=actor,
        action="cases.hotline_queued",
        obj=job,
        node_code=node_code,
        after={"file": job.file_name, "size": job.file_size},
    )
    return job


@transaction.atomic
def start_hotline_import(*, job_id: int) -> HotlineImport | None:
    """Mark a queued job running (once: a job already started or finished is left alone and ``None`` returned)."""
    job = HotlineImport.objects.select_for_update().select_related("actor").filter(pk=job_id).first()
    if job is None or job.state != HotlineImportState.QUEUED:
        return None
    now = timezone.now()
    HotlineImport.objects.filter(pk=job.pk).update(
        state=HotlineImportState.RUNNING, started_at=now, updated_at=now, heartbeat_at=now
    )
    job.refresh_from_db()
    return job


def record_hotline_progress(
    *, job_id: int, rows: int, created: int, skipped: int, error_rows: int, progress: float | None
) -> None:
    """How far a running job got (after each batch; the page polls it). Also the job's heartbeat."""
    now = timezone.now()
    HotlineImport.objects.filter(pk=job_id, state=HotlineImportState.RUNNING).update(
        heartbeat_at=now,
        rows=rows,
        created=created,
        skipped=skipped,
        error_rows=error_rows,
        progress=max(0.0, min(1.0, progress or 0.0)),
        updated_at=now,
    )


@transaction.atomic
def finish_hotline_import(
    *,
    job_id: int,
    failed: bool,
    rows: int,
    created: int,
    skipped: int,
    error_rows: int,
    errors: list[dict[str, Any]],
    message: str = "",
) -> None:
    """A job ended (done, or failed with ``message``): its final counts and problems; the stored file is removed."""
    job = HotlineImport.objects.select_for_update().get(pk=job_id)
    stored = job.file.name
    HotlineImport.objects.filter(pk=job_id).update(
        state=HotlineImportState.FAILED if failed else HotlineImportState.DONE,
        rows=rows,
        created=created,
        skipped=skipped,
        error_rows=error_rows,
        errors=errors,
        message=message,
        progress=1.0 if not failed else job.progress,
        file="",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if stored:
        storage = job.file.storage
        transaction.on_commit(lambda: storage.delete(stored))


# A running job writes its heartbeat at its start and after every batch (a batch takes seconds): one silent for this
# long lost its worker (killed, out of memory, the machine restarted).
HOTLINE_JOB_DEAD_AFTER = timedelta(minutes=5)
WORKER_DIED = gettext_noop(
    "The background worker running this import stopped before the end. The rows read before that are in; import "
    "the same file again to finish: tickets already imported are skipped, never duplicated."
)


def fail_dead_hotline_imports(*, job_id: int | None = None, now: datetime | None = None) -> list[int]:
    """Mark failed the running jobs whose worker died (no heartbeat for :data:`HOTLINE_JOB_DEAD_AFTER`; only
    ``job_id`` if given), with :data:`WORKER_DIED` as their message, and delete their stored files. Returns their
    ids. Safe to call from anywhere at any time: the job page, the API and the deadline check call it."""
    now = now or timezone.now()
    cutoff = now - HOTLINE_JOB_DEAD_AFTER
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    candidates = HotlineImport.objects.filter(silent, state=HotlineImportState.RUNNING)
    if job_id is not None:
        candidates = candidates.filter(pk=job_id)
    if not candidates.exists():  # the usual answer, without a write transaction
        return []
    failed: list[int] = []
    with transaction.atomic():
        for job in candidates.select_for_update().order_by("pk"):
            stored = job.file.name
            HotlineImport.objects.filter(pk=job.pk).update(
                state=HotlineImportState.FAILED,
                message=WORKER_DIED,
                file="",
                finished_at=now,
                updated_at=now,
            )
            audit.record(
                actor=None,
                action="cases.hotline_failed",
                obj=job,
                node_code=job.node_code,
                before={"state": job.state, "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None},
                after={"state": HotlineImportState.FAILED, "rows": job.rows, "created": job.created},
                note="the worker stopped",
            )
            if stored:
                storage = job.file.storage
                transaction.on_commit(functools.partial(storage.delete, stored))
            failed.append(job.pk)
    return failed
