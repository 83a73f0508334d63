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

The package: ``reader`` (file → rows), ``writer`` (rows → ``cases.intake``, in batches) and ``jobs`` (big files as
background jobs, with their status).

Each batch commits on its own: a long import never holds a long transaction, and the ticket number makes an
interrupted import safe to run again. Files of more than :data:`SYNC_MAX_ROWS` rows are not imported inside the web
request: :func:`import_upload` stores them and queues a ``HotlineImport`` job, run by the background task
``tasks.import_hotline``; the hotline page and ``GET /api/v1/cases/hotline/imports/{id}`` show its progress.
"""

from __future__ import annotations

from gongzhi.cases.hotline import jobs, reader, writer
from gongzhi.cases.hotline.jobs import (
    JOB_DEAD_AFTER,
    JOB_STALE_AFTER,
    SYNC_MAX_ROWS,
    UNEXPECTED_STOP,
    import_upload,
    job_for,
    run_job,
)
from gongzhi.cases.hotline.reader import (
    DEFAULT_HEADERS,
    FIELD_LABELS,
    FIELDS,
    MAX_FILE_BYTES,
    REQUIRED,
    parse_mapping,
    parse_time,
    resolve_columns,
)
from gongzhi.cases.hotline.writer import (
    BATCH_ROWS,
    ERRORS_KEPT,
    LIST_LIMIT,
    WRITERS,
    ImportResult,
    check_actor,
    import_file,
)

__all__ = [
    "BATCH_ROWS", "DEFAULT_HEADERS", "ERRORS_KEPT", "FIELDS", "FIELD_LABELS", "JOB_DEAD_AFTER", "JOB_STALE_AFTER",
    "LIST_LIMIT",
    "MAX_FILE_BYTES", "REQUIRED", "SYNC_MAX_ROWS", "UNEXPECTED_STOP", "WRITERS", "ImportResult", "check_actor",
    "import_file", "import_upload", "job_for", "jobs", "parse_mapping", "parse_time", "reader", "resolve_columns",
    "run_job", "writer",
]  # fmt: skip
