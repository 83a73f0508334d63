"""The 12345 import's writer: rows → ``cases.intake``. Batch after batch: the tickets already in, the rows parsed
(``reader``), placed (``territory.selectors.place_many``) and scope-checked, then written by ``intake.report_many``
here or in a small thread pool (``concurrent.futures``) while the next batch is prepared."""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gongzhi.accounts.choices import Role
from gongzhi.cases import intake, services
from gongzhi.cases.hotline.reader import MAX_FILE_BYTES, _batches, _Categories, _cell_text, _Parser, resolve_columns
from gongzhi.core import tabular
from gongzhi.core.access import reaches
from gongzhi.core.errors import ErrorDetail, Forbidden
from gongzhi.core.messages import fmt, portable
from gongzhi.territory import selectors as territory

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

BATCH_ROWS = 10_000  # rows read, placed and written together (one transaction)
LIST_LIMIT = 10_000  # case numbers and skipped tickets listed in a result (the counts are always exact)
ERRORS_KEPT = 2000  # problems kept in a result (the count of rows with problems is always exact)
WRITERS = 2  # batches written at once on PostgreSQL (background threads, each with its own connection)

log = logging.getLogger(__name__)


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
        return [{"row": e.row, "field": e.field, "message": portable(e.message)} for e in self.errors]


def check_actor(actor: User) -> None:
    """Only the subdistrict desk (operators) and administrators import the hotline."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden(gettext_lazy("Log in to import the hotline."))
    if not actor.has_role(Role.ADMIN, Role.SUBDISTRICT_OPERATOR):
        raise Forbidden(gettext_lazy("Only the subdistrict desk may import 12345 hotline tickets."))


def import_file(
    *,
    actor: User,
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


def _import(
    *,
    actor: User,
    file_name: str,
    columns: dict[str, int],
    rows: Iterable[tuple[int, list[Any]]],
    on_batch: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    importer = _Importer(actor, columns)
    try:
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
    except Exception:
        try:  # the batches that committed are cases on desks: their staff hear of them all the same
            importer.tell_desks()
        except Exception:
            log.exception("the desks could not be told of a 12345 import that stopped")
        raise
    importer.tell_desks()
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

    def __init__(self, actor: User, columns: dict[str, int]) -> None:
        self.actor = actor
        self.result = ImportResult()
        self.parser = _Parser(columns, _Categories(), timezone.now())
        self.placer = _Placer(actor)
        self.seen: dict[str, int] = {}  # ticket → the row it was first seen on
        self.subdistricts: set[str] = set()
        # The new cases per (owning body, place), for the desks' one message about the whole import.
        self.places: dict[tuple[int | None, str], int] = {}
        self.batch = secrets.token_hex(8)

    def tell_desks(self) -> None:
        """Each desk's staff: one message for the import (``services.tell_hotline_desks``), once it is written."""
        if self.places:
            services.tell_hotline_desks(actor=self.actor, places=self.places, batch=self.batch)
            self.places = {}

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
                    message = fmt(gettext_lazy("ticket %(ticket)s repeats row %(row)s"), ticket=ticket, row=first)
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
        created = {row for row, _number in written.created}
        for case in prepared.cases:
            assert case.node is not None
            self.subdistricts.add(case.node.code[:9])
            if case.row in created:
                key = (case.node.lead_body_id, case.node.code)
                self.places[key] = self.places.get(key, 0) + 1
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
    """Writes prepared batches through ``intake.report_many``: here and now (``threads`` 0), or in a pool of
    ``threads`` background threads (each batch on the thread's own database connection and transaction) while the
    next batch is read and placed — PostgreSQL then works on one batch while Python prepares the next, and with two
    threads on two batches at once. Results come back in file order; at most ``threads`` batches are in flight."""

    def __init__(self, actor: User, threads: int) -> None:
        self.actor = actor
        self.threads = threads
        self.pool: ThreadPoolExecutor | None = None
        self.pending: deque[tuple[_Prepared, Future[intake.Written]]] = deque()

    def __enter__(self) -> _Writers:
        if self.threads:
            self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="hotline-writer")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)  # after an error: the batches not begun are dropped

    def _write(self, prepared: _Prepared) -> intake.Written:
        try:
            return intake.report_many(actor=self.actor, cases=prepared.cases)
        finally:
            connections.close_all()  # this thread's own connection (a pool thread has no request to end it)

    def write(self, prepared: _Prepared) -> list[tuple[_Prepared, intake.Written]]:
        """Write a batch; returns the batches finished by now, in order."""
        if self.pool is None:
            return [(prepared, intake.report_many(actor=self.actor, cases=prepared.cases))]
        self.pending.append((prepared, self.pool.submit(self._write, prepared)))
        out = []
        while len(self.pending) >= self.threads:  # the pipeline is full: wait for the oldest batch
            out.append(self._oldest())
        return out

    def drain(self) -> list[tuple[_Prepared, intake.Written]]:
        out = []
        while self.pending:
            out.append(self._oldest())
        return out

    def _oldest(self) -> tuple[_Prepared, intake.Written]:
        prepared, future = self.pending.popleft()
        return prepared, future.result()  # a batch's error is raised here, in file order


# --- placing a batch -------------------------------------------------------------------------------------------------


class _Placer:
    """Where each case of a batch lands, decided for the whole batch by ``territory.selectors.Placer`` (the one
    placement rule, ``place_many``; what it reads is kept from batch to batch), then the scope check once per
    place."""

    def __init__(self, actor: User) -> None:
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
                problems[i] = [ErrorDetail(field="address", message=gettext_lazy("no territory"))]
                continue
            case.node, case.unplaced, case.placed_by = node, spot.unplaced, spot.how
            allowed = self.allowed.get(node.pk)
            if allowed is None:
                allowed = self.allowed[node.pk] = reaches(self.actor, "cases.case", "add", node)
            if not allowed:
                outside = fmt(gettext_lazy("the case would land on %(place)s, outside your area"), place=node.name)
                problems[i] = [ErrorDetail(field="address", message=outside)]
        return problems


# --- bookkeeping -----------------------------------------------------------------------------------------------------


def _audit_code(actor: User, subdistricts: set[str]) -> str:
    if len(subdistricts) == 1:
        return next(iter(subdistricts))
    scope = actor.scope_for("cases.case", "add")
    if not scope.everything and len(scope.prefixes) == 1:
        return str(next(iter(scope.prefixes)))
    return ""
