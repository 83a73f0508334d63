"""The 12345 hotline import: a CSV or XLSX export of hotline tickets becomes cases.

The first row of the file is the header. A column mapping says which column holds which of our fields; the default
knows the usual headers of 12345 exports. The import is idempotent on the hotline ticket number: a ticket already
imported is skipped, never duplicated, and a ticket repeated in the file is reported on its second row. A bad row is
reported (with its row number in the file, the header being row 1, and the field) and nothing of it is stored; the
good rows go in. A row whose case would land outside the importer's area is such a bad row. A row whose place cannot
be found goes to the subdistrict desk, flagged ``unplaced``, as any intake does. A ticket is never lost for its
category: a category text that matches none of ours takes the fallback category (其他), is flagged
``category_unconfirmed`` (keeping the text in ``category_text``) and waits first in the desk's queue until someone
sets its category (``services.confirm_category``).

The import is set-based, so that a city's year (a million rows) goes in within minutes:

1. the file is read as a stream (CSV decoded as it is read, XLSX through openpyxl's read-only mode), in batches of
   :data:`BATCH_ROWS` rows; nothing holds the whole file;
2. per batch, the tickets already in the database are looked up in one query; each row is parsed (the usual time
   formats on a fast path, each distinct category text matched once);
3. the batch is placed at once by ``territory.selectors.place_many`` (the rule that places one case too): the
   points through the grid index (``GridIndex.locate_many``) and the grid's buildings, points outside every grid to
   the subdistrict that covers them, otherwise the address against the buildings, otherwise the importer's desk;
4. the scope check runs once per distinct place (``core.access.reaches``);
5. ``cases.intake.report_many`` writes the batch in one transaction — each row is a case, its first timeline
   event and its ``cases.reported`` audit record, built as ``report_case`` builds them (a test compares the two) —
   with one ``COPY`` per table on PostgreSQL.

Each batch commits on its own: a long import never holds a long transaction, and the ticket number makes an
interrupted import safe to run again. Files of more than :data:`SYNC_MAX_ROWS` rows are not imported inside the web
request: :func:`import_upload` stores them and queues a ``HotlineImport`` job, run by the background task
``tasks.import_hotline``; the hotline page and ``GET /api/v1/cases/hotline/imports/{id}`` show its progress.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import IO, Any

from django.db import connection, connections, transaction
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.cases import intake, services
from gongzhi.cases.choices import Urgency
from gongzhi.cases.models import Category, HotlineImport
from gongzhi.core import tabular
from gongzhi.core.access import reaches
from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.territory import selectors as territory

MAX_FILE_BYTES = 300 * 1024 * 1024  # a million rows of a 12345 export are about 200 MB of CSV
SYNC_MAX_ROWS = 5000  # more rows than this: a background job, not the web request
BATCH_ROWS = 10_000  # rows read, placed and written together (one transaction)
LIST_LIMIT = 10_000  # case numbers and skipped tickets listed in a result (the counts are always exact)
ERRORS_KEPT = 2000  # problems kept in a result (the count of rows with problems is always exact)
WRITERS = 2  # batches written at once on PostgreSQL (background threads, each with its own connection)
JOB_STALE_AFTER = timedelta(minutes=10)  # a queued or running job without news for this long: the page says so
JOB_DEAD_AFTER = services.HOTLINE_JOB_DEAD_AFTER  # a running job without a heartbeat for this long lost its worker

UNEXPECTED_STOP = (
    "The import stopped on an unexpected error; the rows before it are in, and importing the file again is safe."
)

log = logging.getLogger(__name__)

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
MAX_TITLE = 200  # report_case's limit

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

BUILDING_REACH_M = territory.BUILDING_REACH_M  # the nearest building of the grid within this distance is the place


@dataclass
class ImportResult:
    """What an import did. ``created`` (case numbers) and ``skipped`` (tickets) list the first :data:`LIST_LIMIT`,
    ``errors`` the first :data:`ERRORS_KEPT` problems, in row order; the counts are exact."""

    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[ErrorDetail] = field(default_factory=list)
    rows: int = 0
    created_count: int = 0
    skipped_count: int = 0
    error_rows: int = 0

    def error_dicts(self) -> list[dict[str, Any]]:
        return [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors]


HotlineResult = ImportResult


# --- entry points ----------------------------------------------------------------------------------------------------


def check_actor(actor: Any) -> None:
    """Only the subdistrict desk (operators) and administrators import the hotline."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden("Log in to import the hotline.")
    if not actor.has_role(Role.ADMIN, Role.SUBDISTRICT_OPERATOR):
        raise Forbidden("Only the subdistrict desk may import 12345 hotline tickets.")


parse_mapping = tabular.parse_mapping  # the ``mapping`` form field: a JSON object of our fields to the headers


def import_upload(*, actor: Any, upload: Any, mapping_json: str | None = None) -> ImportResult | HotlineImport:
    """The way in for pages and the API: an uploaded file and the mapping as a JSON string.

    The header is checked at once (a file that cannot be read, or whose columns do not fit, raises
    ``ValidationFailed`` and nothing is stored). A file of up to :data:`SYNC_MAX_ROWS` rows is imported right away
    and its :class:`ImportResult` returned; a bigger one is stored and queued, and its ``HotlineImport`` job
    returned (the background task ``tasks.import_hotline`` runs it)."""
    check_actor(actor)
    mapping = parse_mapping(mapping_json)
    tabular.check_size(upload.size or 0, MAX_FILE_BYTES)
    file_name = upload.name or ""
    stream = upload.file if hasattr(upload, "file") else upload
    with tabular.open_table(file_name, stream) as table:
        columns = resolve_columns(table.header, mapping)
        head = list(islice(table.data_rows(), SYNC_MAX_ROWS + 1))
        if len(head) <= SYNC_MAX_ROWS:
            return _import(actor=actor, file_name=file_name, columns=columns, rows=head)
    del head
    job = services.create_hotline_import(
        actor=actor, upload=upload, file_name=file_name, mapping=mapping, node_code=_audit_code(actor, set())
    )
    from gongzhi.cases.tasks import import_hotline

    transaction.on_commit(lambda: import_hotline.enqueue(job_id=job.pk))
    return job


def import_file(
    *,
    actor: Any,
    file_name: str,
    data: bytes | IO[bytes],
    mapping: dict[str, str] | None = None,
    on_batch: Callable[[ImportResult, float | None], None] | None = None,
) -> ImportResult:
    """Import a 12345 export (its bytes, or a binary file object) of any size, here and now. Row problems are
    reported in the result; a file that cannot be read at all, or whose columns do not fit (an unknown mapping key,
    a missing required column), raises ``ValidationFailed`` and imports nothing. ``on_batch`` is called after each
    batch with the result so far and the share of the file read."""
    check_actor(actor)
    if isinstance(data, bytes | bytearray):
        tabular.check_size(len(data), MAX_FILE_BYTES)
    with tabular.open_table(file_name, data) as table:
        columns = resolve_columns(table.header, mapping)
        return _import(
            actor=actor,
            file_name=file_name,
            columns=columns,
            rows=table.data_rows(),
            on_batch=(lambda result: on_batch(result, table.fraction_read())) if on_batch else None,
        )


def run_job(*, job_id: int) -> dict[str, Any]:
    """Run a queued ``HotlineImport`` (the background task's body): import the stored file, keep the job's progress
    up to date after every batch, and record how it ended. A job runs once; running it again does nothing."""
    job = services.start_hotline_import(job_id=job_id)
    if job is None:
        return {"job": job_id, "ran": False}
    last: dict[str, Any] = {}

    def progress(result: ImportResult, fraction: float | None) -> None:
        last["result"] = result
        services.record_hotline_progress(
            job_id=job_id,
            rows=result.rows,
            created=result.created_count,
            skipped=result.skipped_count,
            error_rows=result.error_rows,
            progress=fraction,
        )

    try:
        with job.file.open("rb") as stored:
            result = import_file(
                actor=job.actor, file_name=job.file_name, data=stored, mapping=job.mapping, on_batch=progress
            )
    except Exception as exc:
        partial: ImportResult = last.get("result") or ImportResult()
        details = exc.details if isinstance(exc, ValidationFailed) else []
        if isinstance(exc, DomainError):
            message = exc.message
        else:
            log.exception("12345 import job %s failed", job_id)
            message = UNEXPECTED_STOP
        services.finish_hotline_import(
            job_id=job_id,
            failed=True,
            rows=partial.rows,
            created=partial.created_count,
            skipped=partial.skipped_count,
            error_rows=partial.error_rows,
            errors=[{"row": d.row, "field": d.field, "message": d.message} for d in details] + partial.error_dicts(),
            message=message,
        )
        if isinstance(exc, DomainError):
            return {"job": job_id, "ran": True, "state": "failed"}
        raise
    services.finish_hotline_import(
        job_id=job_id,
        failed=False,
        rows=result.rows,
        created=result.created_count,
        skipped=result.skipped_count,
        error_rows=result.error_rows,
        errors=result.error_dicts(),
    )
    return {"job": job_id, "ran": True, "state": "done", "rows": result.rows, "created": result.created_count}


def job_for(*, user: Any, job_id: int) -> HotlineImport:
    """A job as its page and the API show it (``NotFound`` outside the user's scope): a running job whose worker
    died is marked failed first (``services.fail_dead_hotline_imports``), so it never shows "running" forever."""
    from gongzhi.cases import selectors

    job = selectors.hotline_job(user=user, job_id=job_id)
    if job.is_active and services.fail_dead_hotline_imports(job_id=job.pk):
        job.refresh_from_db()
    return job


# --- columns ---------------------------------------------------------------------------------------------------------


def resolve_columns(header: list[str], mapping: dict[str, Any] | None = None) -> dict[str, int]:
    """Our field → the column index in the file. Raises ``ValidationFailed`` (naming every problem) when a mapping
    key is unknown, a mapped header is not in the file, or a required column is missing."""
    return tabular.resolve_columns(header, mapping, DEFAULT_HEADERS, REQUIRED)


# --- the import ------------------------------------------------------------------------------------------------------

_text = tabular.text


def _batches(rows: Iterable[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _import(
    *,
    actor: Any,
    file_name: str,
    columns: dict[str, int],
    rows: Iterable[tuple[int, list[Any]]],
    on_batch: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    importer = _Importer(actor, columns)
    with _Writers(actor, WRITERS if _may_write_in_background() else 0) as writers:
        for batch in _batches(rows, BATCH_ROWS):
            prepared = importer.prepare(batch)
            for done, written in writers.write(prepared):
                importer.record(done, written)
                if on_batch is not None:
                    on_batch(importer.result)
        for done, written in writers.drain():
            importer.record(done, written)
            if on_batch is not None:
                on_batch(importer.result)
    result = importer.result
    services.record_hotline_import(
        actor=actor,
        file_name=file_name,
        node_code=_audit_code(actor, importer.subdistricts),
        rows=result.rows,
        created=result.created_count,
        skipped=result.skipped_count,
        error_rows=result.error_rows,
        numbers=result.created,
    )
    return result


@dataclass
class _Prepared:
    """A batch read, parsed, placed and checked: the cases to write and what became of the other rows."""

    rows: int
    cases: list[intake.NewCase]
    problems: list[tuple[int, list[ErrorDetail]]]
    skipped: list[tuple[int, str]]


class _Importer:
    """One file's import: the state kept from batch to batch (tickets seen, categories and places matched)."""

    def __init__(self, actor: Any, columns: dict[str, int]) -> None:
        self.actor = actor
        self.result = ImportResult()
        self.parser = _Parser(columns, _Categories(), timezone.now())
        self.placer = _Placer(actor)
        self.seen: dict[str, int] = {}  # ticket → the row it was first seen on
        self.subdistricts: set[str] = set()

    def prepare(self, batch: list[tuple[int, list[Any]]]) -> _Prepared:
        """Everything but the write: repeated and known tickets, parsing, placement, the scope check."""
        ticket_at = self.parser.index.get("ticket")
        problems: list[tuple[int, list[ErrorDetail]]] = []
        skipped: list[tuple[int, str]] = []

        pending: list[tuple[int, list[Any], str]] = []
        for number, cells in batch:
            ticket = _cell_text(cells, ticket_at)
            if ticket:
                first = self.seen.get(ticket)
                if first is not None:
                    message = f"ticket {ticket} repeats row {first}"
                    problems.append((number, [ErrorDetail(field="ticket", message=message)]))
                    continue
                self.seen[ticket] = number
            pending.append((number, cells, ticket))
        existing = intake.existing_hotline_tickets([t for _, _, t in pending if t])

        parsed: list[intake.NewCase] = []
        for number, cells, ticket in pending:
            if ticket and ticket in existing:
                skipped.append((number, ticket))
                continue
            case, details = self.parser.parse(number, cells, ticket)
            if details:
                problems.append((number, details))
            else:
                assert case is not None
                parsed.append(case)

        placed: list[intake.NewCase] = []
        for case, details in zip(parsed, self.placer.place(parsed), strict=True):
            if details:
                problems.append((case.row, details))
            else:
                placed.append(case)
        return _Prepared(len(batch), placed, problems, skipped)

    def record(self, prepared: _Prepared, written: intake.Written) -> None:
        """Fold a written batch into the result (batches are recorded in file order)."""
        result = self.result
        result.rows += prepared.rows
        for case in prepared.cases:
            assert case.node is not None
            self.subdistricts.add(case.node.code[:9])
        for row, details in sorted(prepared.problems, key=lambda p: p[0]):
            result.error_rows += 1
            room = ERRORS_KEPT - len(result.errors)
            if room > 0:
                result.errors.extend(ErrorDetail(row=row, field=d.field, message=d.message) for d in details[:room])
        result.created_count += len(written.created)
        room = LIST_LIMIT - len(result.created)
        if room > 0:
            result.created.extend(number for _, number in written.created[:room])
        skipped = sorted([*prepared.skipped, *written.skipped])
        result.skipped_count += len(skipped)
        room = LIST_LIMIT - len(result.skipped)
        if room > 0:
            result.skipped.extend(ticket for _, ticket in skipped[:room])


def _may_write_in_background() -> bool:
    """Batches are written by threads of their own (each with its own connection, so each commits on its own) only
    on PostgreSQL and outside a transaction: inside one (a test, a caller's ``atomic``) the rows must stay in it."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class _Writers:
    """Writes prepared batches through ``intake.report_many``: here and now (``threads`` 0), or in
    background threads (each its own database connection and transaction) while the next batch is read and
    placed — PostgreSQL then works on one batch while Python prepares the next, and with two threads on two
    batches at once. Results come back in file order; at most ``threads`` batches are in flight."""

    def __init__(self, actor: Any, threads: int) -> None:
        self.actor = actor
        self.threads = threads
        self.inbox: queue.Queue[tuple[int, _Prepared] | None] = queue.Queue()
        self.outbox: queue.Queue[tuple[int, intake.Written | BaseException]] = queue.Queue()
        self.workers: list[threading.Thread] = []
        self.sent = 0
        self.waiting: dict[int, _Prepared] = {}
        self.finished: dict[int, intake.Written | BaseException] = {}
        self.next = 0

    def __enter__(self) -> _Writers:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._work, name="hotline-writer", daemon=True)
            worker.start()
            self.workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self.workers:
            self.inbox.put(None)
        for worker in self.workers:
            worker.join()

    def _work(self) -> None:
        try:
            while (item := self.inbox.get()) is not None:
                number, prepared = item
                try:
                    written: intake.Written | BaseException = intake.report_many(
                        actor=self.actor, cases=prepared.cases
                    )
                except BaseException as exc:  # handed to the reading thread, which raises it
                    written = exc
                self.outbox.put((number, written))
        finally:
            connections.close_all()  # this thread's own connection

    def write(self, prepared: _Prepared) -> list[tuple[_Prepared, intake.Written]]:
        """Write a batch; returns the batches finished by now, in order."""
        if not self.threads:
            return [(prepared, intake.report_many(actor=self.actor, cases=prepared.cases))]
        self.waiting[self.sent] = prepared
        self.inbox.put((self.sent, prepared))
        self.sent += 1
        out = []
        while self.sent - self.next >= self.threads:  # the pipeline is full: wait for the oldest batch
            out.extend(self._collect(block=True))
        return out

    def drain(self) -> list[tuple[_Prepared, intake.Written]]:
        out = []
        while self.next < self.sent:
            out.extend(self._collect(block=True))
        return out

    def _collect(self, *, block: bool) -> list[tuple[_Prepared, intake.Written]]:
        number, written = self.outbox.get(block=block)
        self.finished[number] = written
        out = []
        while self.next in self.finished:
            done = self.finished.pop(self.next)
            if isinstance(done, BaseException):
                raise done
            out.append((self.waiting.pop(self.next), done))
            self.next += 1
        return out


# --- one row ---------------------------------------------------------------------------------------------------------


def _cell_text(cells: list[Any], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    if value.__class__ is str:
        return value.strip()  # type: ignore[no-any-return]
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

    def parse(
        self, number: int, cells: list[Any], ticket: str
    ) -> tuple[intake.NewCase | None, list[ErrorDetail]]:
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
            details.append(ErrorDetail(field="ticket", message="the hotline ticket number is missing"))
        if not title:
            details.append(ErrorDetail(field="title", message="the title is missing"))
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
                    ErrorDetail(field="urgency", message=f"“{urgency_text}” is not 紧急/A, 一般/B or 不急/C")
                )

        phone = phone_text if phone_text.isdigit() or not phone_text else PHONE_SEPARATORS.sub("", phone_text)
        if phone.startswith("+"):
            phone = phone[1:]
        if phone and not phone.isdigit():
            details.append(ErrorDetail(field="reporter_phone", message=f"“{phone_text}” is not digits only"))

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
                details.append(ErrorDetail(field="lat" if lat is None else "lng", message="give both 经度 and 纬度"))

        sized = (("ticket", ticket), ("address", address), ("reporter_name", reporter_name), ("reporter_phone", phone))
        for name, value in sized:
            if len(value) > MAX_LENGTHS[name]:
                details.append(ErrorDetail(field=name, message=f"longer than {MAX_LENGTHS[name]} characters"))

        if details:
            return None, details
        assert category is not None and reported_at is not None
        # What report_case itself refuses, beyond the checks above.
        if len(title) > MAX_TITLE:
            return None, [ErrorDetail(field="title", message=f"at most {MAX_TITLE} characters")]
        if "\x00" in f"{ticket}{title}{description}{address}{reporter_name}":
            return None, [ErrorDetail(message="the row cannot be stored: it contains a NUL character")]
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

    def _time(self, value: Any) -> tuple[datetime | None, str]:
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
    return _plausible(parsed, value, now + timedelta(hours=1))


def _plausible(parsed: datetime, value: Any, latest: datetime) -> tuple[datetime | None, str]:
    if parsed > latest:
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
    """Matching a category cell to the taxonomy by code or name: 小类 (minor class) first, then 大类. Each distinct
    (小类 text, 大类 text) is matched once per import."""

    def __init__(self) -> None:
        active = list(Category.objects.filter(is_active=True).select_related("parent").order_by("code"))
        self.minor = [c for c in active if c.parent_id]
        self.major = [c for c in active if not c.parent_id]
        self.matched: dict[tuple[str, str], tuple[Category | None, str, bool]] = {}

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

    def match(self, minor_text: str, major_text: str) -> tuple[Category | None, str, bool]:
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

    def _match(self, minor_text: str, major_text: str) -> tuple[Category | None, str, bool]:
        if not minor_text and not major_text:
            fallback = self._find(self.minor, [FALLBACK_CATEGORY], [])
            if fallback is None:
                return None, "the category is missing", False
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
            return None, f"no category “{shown}” (by name or code)", False
        return fallback, "", True


# --- placing a batch -------------------------------------------------------------------------------------------------


class _Placer:
    """Where each case of a batch lands, decided for the whole batch by ``territory.selectors.Placer`` (the one
    placement rule, ``place_many``; what it reads is kept from batch to batch), then the scope check once per
    place."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.placer = territory.Placer(actor)
        self.allowed: dict[int, bool] = {}

    def place(self, cases: list[intake.NewCase]) -> list[list[ErrorDetail]]:
        """Sets each case's ``node``, ``unplaced`` and ``placed_by``; returns each case's problems (none, or: no
        territory at all; the place is outside the actor's area)."""
        spots = self.placer.place_many([territory.PlacePoint(c.lat, c.lng, c.address) for c in cases])
        problems: list[list[ErrorDetail]] = [[] for _ in cases]
        for i, (case, spot) in enumerate(zip(cases, spots, strict=True)):
            node = spot.node
            if node is None:
                problems[i] = [ErrorDetail(field="node_id", message="no territory")]
                continue
            case.node, case.unplaced, case.placed_by = node, spot.unplaced, spot.how
            allowed = self.allowed.get(node.pk)
            if allowed is None:
                allowed = self.allowed[node.pk] = reaches(self.actor, "cases.case", "add", node)
            if not allowed:
                outside = f"the case would land on {node.name}, outside your area"
                problems[i] = [ErrorDetail(field="address", message=outside)]
        return problems


# --- bookkeeping -----------------------------------------------------------------------------------------------------


def _audit_code(actor: Any, subdistricts: set[str]) -> str:
    if len(subdistricts) == 1:
        return next(iter(subdistricts))
    scope = actor.scope_for("cases.case", "add")
    if not scope.everything and len(scope.prefixes) == 1:
        return str(next(iter(scope.prefixes)))
    return ""
