"""How a case is born — the one way, for one case (``report_case``: a page, the API, a visit, the demo) or for many
at once (``report_many``: a 12345 file through ``cases.hotline``).

Either way a new case is the same three rows, built here once: the case (:func:`_case_row`), its first timeline
event (:func:`_event_row`) and its ``cases.reported`` audit record (:func:`_reported_entry`); its place comes from
``territory.selectors.place_many`` (:func:`place`), its id and number from the case table's sequence
(``core.bulk.reserve_ids``), its tracking code from ``cases.tracking``. One case is written with the ORM in its own
transaction; many with one ``COPY`` per table on PostgreSQL (``core.bulk.copy_rows``, ``core.audit.record_many``),
``bulk_create`` elsewhere. A case's status here is only ever ``workflow.create_status()``.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db import utils as db_utils
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gongzhi.cases import events, notify, sql, tiers, tracking, workflow
from gongzhi.cases.choices import Channel, Urgency
from gongzhi.cases.models import Attachment, Case, CaseEvent, Category
from gongzhi.core import audit, bulk
from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt, system_note
from gongzhi.territory import coords
from gongzhi.territory import selectors as territory
from gongzhi.territory.models import Node
from gongzhi.territory.selectors import PlacePoint

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 9
ALLOWED_IMAGE_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "image/heic": (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheim", b"ftypheis"),
}


# How long a new case's texts may be (the columns' sizes), for one case and for a 12345 file's rows alike.
FIELD_LIMITS = {"title": 200, "address": 200, "reporter_name": 60, "reporter_phone": 20, "hotline_ticket": 40}


@dataclass
class Placement:
    node: Any
    unplaced: bool
    how: str


def place(
    *, lat: float | None, lng: float | None, address: str = "", node_id: int | None = None, actor: User | None = None
) -> Placement:
    """Resolve where a case is: a given place, else ``territory.selectors.place_many`` for its point and address
    (GPS → grid → nearest building, else an address → building, else the subdistrict desk, flagged). Never fails
    while a subdistrict exists."""
    from gongzhi.territory.models import Node

    if node_id is not None:
        node = (
            territory.node_get(user=actor, node_id=node_id)
            if actor is not None
            else Node.objects.select_related("lead_body").get(pk=node_id)
        )
        return Placement(node, False, "given")
    placed = territory.place_many([PlacePoint(lat, lng, address)], user=actor)[0]
    if placed.node is None:
        raise ValidationFailed(
            gettext_lazy("No subdistrict is set up yet."),
            [ErrorDetail(field="node_id", message=gettext_lazy("no territory"))],
        )
    return Placement(placed.node, placed.unplaced, placed.how)


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
    statement = sql.active_category(connection.ops.quote_name, Category._meta.db_table)
    rows = list(Category.objects.raw(statement, [category_id]))
    return rows[0] if rows else None


@_retry_tracking_code_clash
@transaction.atomic
def report_case(
    *,
    actor: User,
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
    files: list[UploadedFile[bytes]] | None = None,
    coord_system: str = coords.WGS84,
    gps_accuracy: float | None = None,
    channel_label: str = "",
) -> Case:
    """Take a case in. The actor (None for a resident without an account) becomes its first-contact owner; a
    signed-in resident reporting their own problem (channel ``resident``) becomes its reporter only.

    ``lat``/``lng`` are WGS-84 unless ``coord_system`` is ``gcj02`` (a point from an AMap/phone map SDK): then they
    are converted to WGS-84 first, which is what is stored (docs/maps.md)."""
    details: list[ErrorDetail] = []
    if coord_system not in coords.SYSTEMS:
        details.append(ErrorDetail(field="coord_system", message=gettext_lazy("wgs84 or gcj02")))
    elif lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
        lat, lng = coords.to_wgs84(lat, lng, coord_system)
    if channel not in Channel.values:
        details.append(
            ErrorDetail(
                field="channel", message=fmt(gettext_lazy("one of %(values)s"), values=", ".join(Channel.values))
            )
        )
    if not title.strip():
        details.append(ErrorDetail(field="title", message=gettext_lazy("say what the problem is")))
    category = _active_category(category_id)
    if category is None:
        details.append(
            ErrorDetail(
                field="category_id",
                message=fmt(gettext_lazy("no active category %(category_id)s"), category_id=category_id),
            )
        )
    if urgency is not None and urgency not in Urgency.values:
        details.append(ErrorDetail(field="urgency", message=gettext_lazy("A, B or C")))
    for name, value in (
        ("title", title),
        ("address", address),
        ("reporter_name", reporter_name),
        ("reporter_phone", reporter_phone),
        ("hotline_ticket", hotline_ticket),
    ):
        limit = FIELD_LIMITS[name]
        if len(value or "") > limit:
            details.append(
                ErrorDetail(field=name, message=fmt(gettext_lazy("at most %(limit)s characters"), limit=limit))
            )
    if reporter_phone and not reporter_phone.strip().isdigit():
        details.append(ErrorDetail(field="reporter_phone", message=gettext_lazy("digits only")))
    if gps_accuracy is not None and not 0 <= gps_accuracy <= 100_000:
        details.append(ErrorDetail(field="gps_accuracy", message=gettext_lazy("metres, 0 to 100,000")))
    for i, f in enumerate(files or []):
        details.extend(check_attachment(f, f"files[{i}]"))
    if len(files or []) > MAX_ATTACHMENTS:
        details.append(
            ErrorDetail(
                field="files",
                message=fmt(gettext_lazy("at most %(max_attachments)s photos"), max_attachments=MAX_ATTACHMENTS),
            )
        )
    if details:
        raise ValidationFailed(gettext_lazy("The case cannot be taken in."), details)
    assert category is not None
    placement = place(lat=lat, lng=lng, address=address, node_id=node_id, actor=actor)
    now = timezone.now()
    new = NewCase(
        row=0,
        ticket=hotline_ticket or "",
        title=title,
        description=description,
        category_id=category.pk,
        default_urgency=category.default_urgency,
        urgency=urgency,
        address=address,
        lat=lat,
        lng=lng,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        reported_at=reported_at or now,
        node=placement.node,
        unplaced=placement.unplaced,
        placed_by=placement.how,
        channel=channel,
    )
    actor_pk = actor.pk if getattr(actor, "pk", None) else None
    # The number carries the primary key. On PostgreSQL the id is drawn from the table's sequence first, so the
    # row goes in whole; elsewhere it is known only once the row is in, and one UPDATE writes the number (an UPDATE
    # of an indexed column rewrites every index entry of the row: twice the insert's index work).
    pk = bulk.reserve_ids(Case, 1)[0] if connection.vendor == "postgresql" else None
    number = _case_number(timezone.localtime(new.reported_at), pk) if pk else f"TMP{secrets.token_hex(8)}"
    case = Case(**_case_values(new, pk=pk, number=number, tracking_code=tracking.new_code(), actor_pk=actor_pk))
    case.category = category  # the rows in hand, so that reading them back costs no query
    case.node = placement.node
    if isinstance(placement.node, Node):
        case.owner_body = placement.node.lead_body
    if actor_pk:
        case.reporter_user = actor
        if channel != Channel.RESIDENT:
            case.owner_user = actor
    case.gps_accuracy = gps_accuracy
    case.channel_label = channel_label[:80]
    if placement.how == "gps" and actor_pk and channel != Channel.RESIDENT:
        case.outside_reporter_ground = _outside_own_ground(actor, placement.node)
    case.save(force_insert=True)
    if pk is None:
        case.number = _case_number(timezone.localtime(case.reported_at), case.pk)
        Case.objects.filter(pk=case.pk).update(number=case.number)
    event = CaseEvent.objects.create(**_event_values(new, case_id=case.pk, texts=_Texts(actor, actor_pk)))
    for f in files or []:
        _store_attachment(case, event, f, actor)
    entry = _reported_entry(new, pk=case.pk, number=case.number)
    audit.record(
        actor=actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        node_code=entry.node_code,
        after=entry.after,
    )
    if fixed_on_spot_note:  # the desk hears of it as work to verify (the transition's notice), not as a new case
        workflow.perform(actor=actor, case_id=case.pk, action="fix_on_spot", note=fixed_on_spot_note)
        case.refresh_from_db()
    else:  # the desk whose intake queue it is on: planned and written by the task worker after the commit
        notify.send_after_commit(event, actor)
        events.arrived([case.pk])
    return case


def _outside_own_ground(actor: User, node: Any) -> bool:
    """A staff reporter's GPS point placed outside every place they hold a role for (a grid worker over the street in
    the next grid). Someone with no place (a desk, a department) has no ground to be outside of."""
    codes = actor.ground_codes()  # the grants the answer's allowed actions read anyway: cached on the user
    return bool(codes) and not any(node.code.startswith(code) for code in codes)


def check_attachment(f: UploadedFile[bytes], where: str) -> list[ErrorDetail]:
    errors = []
    size = f.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors.append(
            ErrorDetail(
                field=where,
                message=fmt(gettext_lazy("%(file)s: %(kb)s KB is over the 10 MB limit"), file=f.name, kb=size // 1024),
            )
        )
    ctype = (f.content_type or "").lower()
    if ctype == "image/heif":
        ctype = "image/heic"
    signatures = ALLOWED_IMAGE_TYPES.get(ctype)
    if signatures is None:
        errors.append(
            ErrorDetail(
                field=where,
                message=fmt(
                    gettext_lazy("%(f)s: %(value)s is not a photo (jpeg, png, webp or heic)"),
                    f=f.name,
                    value=ctype or "unknown type",
                ),
            )
        )
        return errors
    head = f.read(32)
    f.seek(0)
    if not any(sig in head[:16] for sig in signatures):
        errors.append(
            ErrorDetail(
                field=where,
                message=fmt(gettext_lazy("%(f)s: the content is not a %(ctype)s image"), f=f.name, ctype=ctype),
            )
        )
    return errors


def _store_attachment(case: Case, event: CaseEvent | None, f: UploadedFile[bytes], actor: User) -> Attachment:
    return Attachment.objects.create(
        case=case,
        event=event,
        file=f,
        name=(f.name or "photo")[:200],
        content_type=f.content_type or "",
        size=f.size or 0,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )


# --- the rows of a new case, built once ------------------------------------------------------------------------------

RESIDENT_LABEL = gettext_lazy("resident")  # who reported, on the timeline, when a resident gave no name
PLACED_ON_DESK_NOTE = gettext_lazy("Location matched no grid: held by the subdistrict desk.")


@dataclass(slots=True)
class NewCase:
    """A case to take in, validated and placed: the arguments ``report_case`` gets, plus the placement ``place``
    found (``placed_by``: gps, address, desk or given). ``row``: its row in an imported file (0 for one case)."""

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
    node: Any = None  # a territory ``Node`` or ``PlaceRef``
    unplaced: bool = False
    placed_by: str = ""
    category_unconfirmed: bool = False  # the export's category matched none of ours: the desk sets it
    category_text: str = ""  # that category, as the export gave it
    channel: str = Channel.HOTLINE


def _case_number(local_time: datetime, pk: int) -> str:
    """A case number: the local date of the report and the id, ``YYYYMMDD`` + 7 digits."""
    return f"{local_time.year:04d}{local_time.month:02d}{local_time.day:02d}{pk:07d}"


def _case_row(c: NewCase, *, pk: int | None, number: str, tracking_code: str, actor_pk: int | None) -> tuple[Any, ...]:
    """The case row of a new case, its values in the order of ``sql.CASE_COPY_COLUMNS`` (every other column keeps
    its default): a tuple, as a batch's ``COPY`` writes it."""
    node = c.node
    return (
        pk, number, c.title.strip()[:200], c.description, c.category_id, c.urgency or c.default_urgency, c.channel,
        workflow.create_status(), _initial_tier(node.kind), node.pk, node.code, c.unplaced, c.lat, c.lng, c.address,
        # a resident's own report (signed in): they are its reporter, who follows it, never its first-contact owner
        node.lead_body_id, actor_pk if c.channel != Channel.RESIDENT else None, actor_pk, c.reporter_name,
        c.reporter_phone.strip(), tracking_code,
        c.ticket or None, c.reported_at, c.category_unconfirmed, c.category_text,
    )  # fmt: skip


_initial_tier = functools.cache(tiers.initial_tier)  # a case's first tier follows its place's kind alone


@functools.cache
def _attnames(model: type[Model], columns: tuple[str, ...]) -> tuple[str, ...]:
    """The attribute names of these columns of ``model`` (``category_id``), as the ORM takes them."""
    by_column = {str(f.column): f.attname for f in model._meta.concrete_fields}
    return tuple(by_column[c] for c in columns)


def _case_values(
    c: NewCase, *, pk: int | None, number: str, tracking_code: str, actor_pk: int | None
) -> dict[str, Any]:
    """The case row of a new case (:func:`_case_row`), by attribute name, for the ORM."""
    row = _case_row(c, pk=pk, number=number, tracking_code=tracking_code, actor_pk=actor_pk)
    return dict(zip(_attnames(Case, sql.CASE_COPY_COLUMNS), row, strict=True))


UNCONFIRMED_CATEGORY_NOTE = gettext_lazy(
    "The 12345 category “%(category)s” matched none of ours: the desk sets the category."
)


class _Texts:
    """The texts of first events by one actor, each rendered once (for a batch: once, not once a row): who reported
    it, and the system's notes in the site's language (``system_note``)."""

    def __init__(self, actor: Any, actor_pk: int | None) -> None:
        self.actor_pk = actor_pk
        self.actor_label = str(actor) if actor_pk else ""
        self._resident: str | None = None
        self._desk: str | None = None

    def label(self, c: NewCase) -> str:
        """The event's actor label: the acting user, else the reporter's name, else "resident"."""
        if self.actor_pk:
            return self.actor_label
        if c.reporter_name:
            return c.reporter_name
        if self._resident is None:
            self._resident = system_note(RESIDENT_LABEL)
        return self._resident

    def first_note(self, c: NewCase) -> str:
        """The first timeline event's note: where the case is held, and a category to confirm."""
        if not c.unplaced and not c.category_unconfirmed:
            return ""
        notes = []
        if c.unplaced:
            if self._desk is None:
                self._desk = system_note(PLACED_ON_DESK_NOTE)
            notes.append(self._desk)
        if c.category_unconfirmed:
            notes.append(system_note(UNCONFIRMED_CATEGORY_NOTE, category=c.category_text))
        return " ".join(notes)


def _event_data(channel: str, placed_by: str) -> dict[str, Any]:
    return {"channel": channel, "placed_by": placed_by}


def _event_row(
    c: NewCase, *, case_id: int, texts: _Texts, data: Callable[[str, str], Any] = _event_data
) -> tuple[Any, ...]:
    """The first timeline event of a new case ("report", to its first status), its values in the order of
    ``sql.EVENT_COPY_COLUMNS``; ``data`` makes the last (the dict, or for a ``COPY`` its JSON text)."""
    status = workflow.create_status()
    return (
        case_id, c.reported_at, texts.actor_pk, texts.label(c), "report", "", status, texts.first_note(c), True,
        data(c.channel, c.placed_by),
    )  # fmt: skip


def _event_values(c: NewCase, *, case_id: int, texts: _Texts) -> dict[str, Any]:
    """The first timeline event of a new case (:func:`_event_row`), by attribute name, for the ORM."""
    row = _event_row(c, case_id=case_id, texts=texts)
    return dict(zip(_attnames(CaseEvent, sql.EVENT_COPY_COLUMNS), row, strict=True))


def _reported_entry(c: NewCase, *, pk: int, number: str) -> audit.Entry:
    """The ``cases.reported`` audit record of a new case."""
    return audit.Entry(
        action="cases.reported",
        object_type=Case._meta.label_lower,
        object_id=pk,
        object_repr=f"{number} {c.title.strip()[:200]}"[:200],  # str(case)
        node_code=c.node.code,
        after={"number": number, "node": c.node.pk, "unplaced": c.unplaced, "channel": c.channel},
    )


# --- many cases at once: a 12345 file -------------------------------------------------------------------------------
#
# ``cases.hotline`` parses, places and scope-checks a whole batch of rows, then hands them here. Each case is the
# same three rows ``report_case`` writes (the builders above), only many at a time: PostgreSQL gets one ``COPY`` per
# table, SQLite ``bulk_create``.


@dataclass
class Written:
    created: list[tuple[int, str]] = field(default_factory=list)  # (row, case number), in row order
    ids: list[int] = field(default_factory=list)  # the new cases' ids
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, ticket): imported meanwhile by someone else


def report_many(*, actor: User, cases: Sequence[NewCase]) -> Written:
    """Take a batch of cases in, all in one transaction: each becomes a case, its first timeline event and its
    ``cases.reported`` audit record, exactly as :func:`report_case` writes them. The caller has validated and
    placed the rows and checked the actor may add cases there (``cases.hotline``).

    A batch that hits a unique ticket (another import took it in meanwhile) or, rarely, a tracking code that came
    up twice is written again row by row, each in its own savepoint: a ticket taken meanwhile is reported skipped.
    Safe to call from several threads at once (each with its own connection)."""
    codes: list[str] = []
    try:
        written = _report_many(actor, cases, codes)
        events.arrived(written.ids)
        return written
    finally:
        _release_tracking_codes(codes)  # in the table now (its unique index guards them), or free again


@transaction.atomic
def _report_many(actor: User, cases: Sequence[NewCase], codes: list[str]) -> Written:
    if not cases:
        return Written()
    try:
        with transaction.atomic():
            ids: list[int] = []
            return Written(created=_write_many(actor, cases, codes, ids), ids=ids)
    except IntegrityError:
        pass
    out = Written()
    for item in cases:
        for attempt in range(3):
            try:
                with transaction.atomic():
                    one: list[int] = []
                    out.created.extend(_write_many(actor, [item], codes, one))
                    out.ids.extend(one)
                break
            except IntegrityError:
                if Case.objects.filter(hotline_ticket=item.ticket).exists():
                    out.skipped.append((item.row, item.ticket))
                    break
                if attempt == 2:  # not the ticket and not a fresh tracking code's bad luck: a real problem
                    raise
    return out


def _write_many(
    actor: User, cases: Sequence[NewCase], used_codes: list[str], new_ids: list[int] | None = None
) -> list[tuple[int, str]]:
    actor_pk = actor.pk if getattr(actor, "pk", None) else None
    now = timezone.now()
    local = timezone.get_current_timezone()
    codes = _fresh_tracking_codes(len(cases))
    used_codes.extend(codes)
    texts = _Texts(actor, actor_pk)
    if connection.vendor == "postgresql":
        ids = bulk.reserve_ids(Case, len(cases))
        numbers = [_case_number(c.reported_at.astimezone(local), pk) for c, pk in zip(cases, ids, strict=True)]
        _copy_cases(
            (
                _case_row(c, pk=pk, number=number, tracking_code=code, actor_pk=actor_pk)
                for c, pk, number, code in zip(cases, ids, numbers, codes, strict=True)
            ),
            now,
        )
        _copy_events(cases, ids, texts)
    else:
        objs = [
            Case(**_case_values(c, pk=None, number=f"TMP{secrets.token_hex(8)}", tracking_code=code, actor_pk=actor_pk))
            for c, code in zip(cases, codes, strict=True)
        ]
        Case.objects.bulk_create(objs)
        for obj in objs:
            obj.number = _case_number(obj.reported_at.astimezone(local), obj.pk)
        Case.objects.bulk_update(objs, ["number"], batch_size=500)
        ids, numbers = [obj.pk for obj in objs], [obj.number for obj in objs]
        CaseEvent.objects.bulk_create(
            CaseEvent(**_event_values(c, case_id=pk, texts=texts)) for c, pk in zip(cases, ids, strict=True)
        )
    audit.record_many(
        actor=actor,
        entries=(_reported_entry(c, pk=pk, number=n) for c, pk, n in zip(cases, ids, numbers, strict=True)),
        at=now,
    )
    if new_ids is not None:
        new_ids.extend(ids)
    return [(c.row, number) for c, number in zip(cases, numbers, strict=True)]


def _copy_cases(rows: Iterable[tuple[Any, ...]], now: datetime) -> None:
    """The case rows (:func:`_case_row`) with one ``COPY``: the columns it fills, then every other one at its
    default, the same value for every row (what ``create`` would store; ``created_at``/``updated_at`` now; NULL by
    leaving the column out). A new field without a default would be NULL here and fail loudly, never silently
    differ."""
    filled = set(sql.CASE_COPY_COLUMNS)
    # A nullable column whose default is none is left out: PostgreSQL stores NULL there itself (fewer values a row).
    rest = [
        f
        for f in Case._meta.concrete_fields
        if str(f.column) not in filled and not (f.null and f.get_default() is None)
    ]
    tail = tuple(now if f.attname in ("created_at", "updated_at") else f.get_default() for f in rest)
    columns = [*sql.CASE_COPY_COLUMNS, *(str(f.column) for f in rest)]
    bulk.copy_rows(Case, columns, (row + tail for row in rows))


def _copy_events(cases: Sequence[NewCase], ids: Sequence[int], texts: _Texts) -> None:
    """The first events (:func:`_event_row`) with one ``COPY``; ``data`` as JSON text, written once per distinct
    value (a batch has a handful: the channel and how each case was placed)."""
    dumped: dict[tuple[str, str], str] = {}

    def data(channel: str, placed_by: str) -> str:
        text = dumped.get((channel, placed_by))
        if text is None:
            text = dumped[channel, placed_by] = json.dumps(_event_data(channel, placed_by))
        return text

    bulk.copy_rows(
        CaseEvent,
        sql.EVENT_COPY_COLUMNS,
        (_event_row(c, case_id=pk, texts=texts, data=data) for c, pk in zip(cases, ids, strict=True)),
    )


_codes_lock = threading.Lock()
_codes_in_flight: set[str] = set()  # handed out to batches not committed yet (imports may write batches in parallel)


def _fresh_tracking_codes(n: int) -> list[str]:
    """``n`` tracking codes (as ``report_case`` makes them: ``tracking.new_codes``) that no case has yet and no batch
    being written in this process holds. Release them with :func:`_release_tracking_codes` once the batch is over."""
    codes: list[str] = []
    while len(codes) < n:
        want = n - len(codes)
        fresh = set(tracking.new_codes(want))
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
    """Which of these 12345 tickets are already cases (one indexed query; elsewhere than PostgreSQL one per
    5,000)."""
    return set(_existing_values("hotline_ticket", tickets))


# The look-up of taken values per unique text column of cases, on PostgreSQL.
_TAKEN = {"hotline_ticket": sql.taken_tickets, "tracking_code": sql.taken_tracking_codes}


def _existing_values(column: str, values: Sequence[str]) -> list[str]:
    """The values of a unique text column of cases that are taken. On PostgreSQL one query with one array
    parameter (``= ANY``), not thousands of placeholders; elsewhere one ``IN`` per 5,000."""
    if not values:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_TAKEN[column](connection.ops.quote_name, Case._meta.db_table), [list(values)])
            return [row[0] for row in cursor.fetchall()]
    found: list[str] = []
    for start in range(0, len(values), 5000):
        chunk = list(values[start : start + 5000])
        found.extend(Case.objects.filter(**{f"{column}__in": chunk}).values_list(column, flat=True))
    return found
