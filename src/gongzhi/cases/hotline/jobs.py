"""The 12345 import's background jobs: an upload imported at once or stored and queued as a ``HotlineImport``, the
job run by the background task ``tasks.import_hotline`` with its progress and heartbeat, and how it ended."""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_noop

from gongzhi.cases import services
from gongzhi.cases.hotline.reader import DEFAULT_HEADERS, MAX_FILE_BYTES, parse_mapping, resolve_columns
from gongzhi.cases.hotline.writer import ImportResult, _audit_code, _import, check_actor, import_file
from gongzhi.cases.models import HotlineImport
from gongzhi.core import tabular
from gongzhi.core.errors import DomainError, ValidationFailed
from gongzhi.core.messages import portable, portable_text

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

SYNC_MAX_ROWS = 5000  # more rows than this: a background job, not the web request
JOB_STALE_AFTER = timedelta(minutes=10)  # a queued or running job without news for this long: the page says so
JOB_DEAD_AFTER = services.HOTLINE_JOB_DEAD_AFTER  # a running job without a heartbeat for this long lost its worker


UNEXPECTED_STOP = gettext_noop(
    "The import stopped on an unexpected error; the rows before it are in, and importing the file again is safe."
)

log = logging.getLogger(__name__)


def import_upload(
    *, actor: User, upload: Any, mapping_json: str | None = None, mapping: dict[str, Any] | None = None
) -> ImportResult | HotlineImport:
    """The way in for pages and the API: an uploaded file and the mapping (a dict, or as a JSON string).

    The header is checked at once (a file that cannot be read, or whose columns do not fit, raises
    ``ValidationFailed`` and nothing is stored). Without a mapping, the desk's last one (``HotlineMapping``) is used
    when the file has its columns, else the usual headers; a mapping given is kept as the desk's last one. A file of
    up to :data:`SYNC_MAX_ROWS` rows is imported right away and its :class:`ImportResult` returned; a bigger one is
    stored and queued, and its ``HotlineImport`` job returned (the background task ``tasks.import_hotline`` runs it)."""
    from gongzhi.cases import selectors

    check_actor(actor)
    if mapping is None:
        mapping = parse_mapping(mapping_json)
    tabular.check_size(upload.size or 0, MAX_FILE_BYTES)
    file_name = upload.name or ""
    stream = upload.file if hasattr(upload, "file") else upload
    node_code = _audit_code(actor, set())
    with tabular.open_table(file_name, stream) as table:
        if mapping is None:
            remembered = selectors.hotline_mapping(user=actor, node_code=node_code)
            try:
                columns = resolve_columns(table.header, remembered or None)
                mapping = remembered or None
            except ValidationFailed:
                columns = resolve_columns(table.header, None)
        else:
            columns = resolve_columns(table.header, mapping)
            services.remember_hotline_mapping(actor=actor, node_code=node_code, mapping=mapping)
        head = list(islice(table.data_rows(), SYNC_MAX_ROWS + 1))
        if len(head) <= SYNC_MAX_ROWS:
            return _import(actor=actor, file_name=file_name, columns=columns, rows=head)
    del head
    job = services.create_hotline_import(
        actor=actor, upload=upload, file_name=file_name, mapping=mapping, node_code=node_code
    )
    from gongzhi.cases.tasks import import_hotline

    transaction.on_commit(lambda: import_hotline.enqueue(job_id=job.pk))
    return job


def header_of(*, upload: Any) -> list[str]:
    """The header row of an uploaded 12345 file (its columns, to map), read without importing anything."""
    tabular.check_size(upload.size or 0, MAX_FILE_BYTES)
    stream = upload.file if hasattr(upload, "file") else upload
    with tabular.open_table(upload.name or "", stream) as table:
        header = [str(h).strip() for h in table.header]
    if hasattr(stream, "seek"):
        stream.seek(0)
    return header


def guessed_mapping(*, actor: Any, header: list[str]) -> dict[str, str]:
    """Our field → the header pre-selected for it: the desk's last mapping where the file has that column, else the
    usual 12345 header (or our field's name) found in the file."""
    from gongzhi.cases import selectors

    remembered = selectors.hotline_mapping(user=actor, node_code=_audit_code(actor, set()))
    present = {tabular.norm_header(h): h for h in header if h}
    guessed: dict[str, str] = {}
    for name, usual in DEFAULT_HEADERS.items():
        for candidate in (remembered.get(name, ""), *usual, name):
            found = present.get(tabular.norm_header(candidate)) if candidate else None
            if found:
                guessed[name] = found
                break
    return guessed


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
            message = portable_text(exc.message)
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
            errors=[{"row": d.row, "field": d.field, "message": portable(d.message)} for d in details]
            + partial.error_dicts(),
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


def job_for(*, user: User, job_id: int) -> HotlineImport:
    """A job as its page and the API show it (``NotFound`` outside the user's scope): a running job whose worker
    died is marked failed first (``services.fail_dead_hotline_imports``), so it never shows "running" forever."""
    from gongzhi.cases import selectors

    job = selectors.hotline_job(user=user, job_id=job_id)
    if job.is_active and services.fail_dead_hotline_imports(job_id=job.pk):
        job.refresh_from_db()
    return job
