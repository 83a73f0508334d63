"""Writes for cases other than status changes (those are ``workflow.perform``) and their birth (``cases.intake``):
attachments, handover, notes, the category, the 12345 hotline import's record and its background jobs."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from gongzhi.cases.choices import FINAL_STATUSES
from gongzhi.cases.intake import MAX_ATTACHMENTS, check_attachment
from gongzhi.cases.intake import _active_category as _active_category
from gongzhi.cases.intake import _store_attachment as _store_attachment
from gongzhi.cases.intake import place as place
from gongzhi.cases.intake import report_case as report_case  # a case is born in cases.intake: the one way
from gongzhi.cases.models import Attachment, Case, CaseEvent, HotlineImport, HotlineImportState, HotlineMapping
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

# ``report_case`` and ``place`` live in ``cases.intake`` (with the bulk intake of a 12345 file); they are named here
# too, as the cases app's services, for the pages, the API and the other apps.


@transaction.atomic
def add_attachments(*, actor: User, case_id: int, files: list[UploadedFile[bytes]], note: str = "") -> list[Attachment]:
    case = get_in_scope(Case, actor, case_id, "change")
    if case.status in FINAL_STATUSES:
        # Most often photos taken offline while someone else closed the case: say so (the phone keeps them).
        raise Conflict(
            fmt(
                gettext_lazy("Case %(number)s is already “%(status)s”: the photos were not added."),
                number=case.number,
                status=case.get_status_display(),
            ),
            [ErrorDetail(field="status", message=str(case.status))],
        )
    details = [e for i, f in enumerate(files) for e in check_attachment(f, f"files[{i}]")]
    if not files:
        details.append(ErrorDetail(field="files", message=gettext_lazy("no file")))
    if case.attachments.count() + len(files) > MAX_ATTACHMENTS * 3:
        details.append(ErrorDetail(field="files", message=gettext_lazy("too many attachments on this case")))
    if details:
        raise ValidationFailed(gettext_lazy("The attachments were not accepted."), details)
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
def hand_over(*, actor: User, case_id: int, to_user_id: int, note: str) -> Case:
    """首问负责: the responsible person changes only by a recorded handover."""
    from gongzhi.accounts.models import User

    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed(
            gettext_lazy("Say why the case is handed over."),
            [ErrorDetail(field="note", message=gettext_lazy("required"))],
        )
    target = User.objects.filter(pk=to_user_id, is_active=True).first()
    if target is None or not Case.objects.restrict(target, "change").filter(pk=case.pk).exists():
        raise Forbidden(gettext_lazy("The new owner must be able to act on this case."))
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
def add_note(*, actor: User, case_id: int, note: str, reply: bool = False, public: bool | None = None) -> CaseEvent:
    """A staff note on the timeline: internal unless ``reply`` (a reply to the reporter, shown on the tracking page).
    ``public`` is the older name of ``reply``."""
    reply = bool(reply or public)
    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed(
            gettext_lazy("The note is empty."), [ErrorDetail(field="note", message=gettext_lazy("required"))]
        )
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="note",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=reply,
        reply=reply,
    )
    audit.record(actor=actor, action="cases.noted", obj=case, node_code=case.node.code, note=note)
    return event


@transaction.atomic
def confirm_category(*, actor: User, case_id: int, category_id: int, note: str = "") -> Case:
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


def reveal_reporter_phone(*, actor: User, case_id: int) -> str:
    """The reporter's phone unmasked: only in scope with the reveal right, always audited."""
    case = get_in_scope(Case, actor, case_id, "reveal")
    with transaction.atomic():
        audit.record(
            actor=actor, action="privacy.reveal", obj=case, node_code=case.node.code, note="field=reporter_phone"
        )
    return case.reporter_phone


def record_hotline_import(
    *,
    actor: User,
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


def tell_hotline_desks(*, actor: User, places: dict[tuple[int | None, str], int], batch: str) -> int:
    """After a 12345 import's batches committed: each desk's staff get one message for the whole import (how many
    new cases wait on their desk), not one per case (``notify.send_import_digest``). How many people were told."""
    from gongzhi.cases import notify

    with transaction.atomic():
        return notify.send_import_digest(actor=actor, places=places, batch=batch)


# --- 12345 import jobs ------------------------------------------------------------------------------------------------


@transaction.atomic
def create_hotline_import(
    *, actor: User, upload: Any, file_name: str, mapping: dict[str, Any] | None, node_code: str
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
def remember_hotline_mapping(*, actor: Any, node_code: str, mapping: dict[str, str]) -> HotlineMapping:
    """Keep the column mapping a desk last imported with (our field → the file's header; fields left out of the file
    are dropped), to offer it again on the desk's next import."""
    kept = {str(k): str(v) for k, v in (mapping or {}).items() if isinstance(v, str) and v.strip()}
    row = HotlineMapping.objects.select_for_update().filter(node_code=node_code).first()
    before = dict(row.mapping) if row else None
    if row is not None and row.mapping == kept:
        return row
    if row is None:
        row = HotlineMapping(node_code=node_code)
    row.mapping, row.updated_by = kept, actor
    row.save()
    audit.record(
        actor=actor, action="cases.hotline_mapping_kept", obj=row, node_code=node_code, before=before, after=kept
    )
    return row


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


MAX_BATCH_DISPATCH = 100


def dispatch_many(
    *,
    actor: User,
    case_ids: list[int],
    handler_body_id: int | None = None,
    handler_node_id: int | None = None,
    note: str = "",
    reply: bool = False,
    phone_handoff_note: str = "",
) -> list[Case]:
    """The desk's batch dispatch: several cases to one body (or grid) in one go, all or nothing.

    Each case is dispatched by ``workflow.perform`` (the only writer of a case's status): its own checks of scope,
    role and state, its own timeline event, audit record and notifications (sent after commit). If any case cannot
    be dispatched, none is: ``ValidationFailed`` with one detail per refused case (``field`` ``case_ids``, ``row`` its
    position in ``case_ids``) saying which case and why. A case out of the actor's scope is named by the id given
    (nothing more is told of it)."""
    from gongzhi.cases import workflow
    from gongzhi.core.errors import Conflict, DomainError, NotFound
    from gongzhi.core.messages import fmt

    ids = list(dict.fromkeys(int(i) for i in case_ids))
    if not ids:
        raise ValidationFailed(
            gettext_lazy("Choose the cases to dispatch."),
            [ErrorDetail(field="case_ids", message=gettext_lazy("at least one case"))],
        )
    if len(ids) > MAX_BATCH_DISPATCH:
        raise ValidationFailed(
            fmt(gettext_lazy("At most %(count)s cases at a time."), count=MAX_BATCH_DISPATCH),
            [ErrorDetail(field="case_ids", message=fmt(gettext_lazy("%(count)s given"), count=len(ids)))],
        )
    if not handler_body_id and not handler_node_id:
        raise ValidationFailed(
            gettext_lazy("Dispatch to whom?"),
            [ErrorDetail(field="handler_body_id", message=gettext_lazy("give handler_body_id or handler_node_id"))],
        )
    payload: dict[str, Any] = {"handler_body_id": handler_body_id, "handler_node_id": handler_node_id}
    if phone_handoff_note.strip():
        payload["phone_handoff_note"] = phone_handoff_note.strip()
    errors: list[ErrorDetail] = []
    done: list[Case] = []
    with transaction.atomic():
        for row, case_id in enumerate(ids):
            try:
                with transaction.atomic():  # a savepoint: the next case is tried on a clean slate
                    done.append(
                        workflow.perform(
                            actor=actor, case_id=case_id, action="dispatch", note=note, reply=reply, payload=payload
                        )
                    )
            except NotFound:
                errors.append(
                    ErrorDetail(
                        field="case_ids", row=row, message=fmt(gettext_lazy("case #%(id)s: not found"), id=case_id)
                    )
                )
            except (ValidationFailed, Conflict, Forbidden) as exc:
                errors.append(ErrorDetail(field="case_ids", row=row, message=_why(case_id, exc)))
            except DomainError as exc:  # pragma: no cover - every refusal perform raises is one of the above
                errors.append(ErrorDetail(field="case_ids", row=row, message=_why(case_id, exc)))
        if errors:
            # Raised inside the transaction: every dispatch above is rolled back, no notification is sent.
            raise ValidationFailed(
                fmt(
                    gettext_lazy("Nothing was dispatched: %(count)s of the %(total)s cases cannot be."),
                    count=len(errors),
                    total=len(ids),
                ),
                errors,
            )
    return done


def _why(case_id: int, exc: Any) -> Any:
    """“<number>: <the refusal> (<its details>)” for one case of a batch."""
    from gongzhi.core.messages import fmt, join

    number = Case.objects.filter(pk=case_id).values_list("number", flat=True).first() or f"#{case_id}"
    reasons = [d.message for d in exc.details if d.field not in ("handler_body_id", "handler_node_id", "action")]
    if number in str(exc.message):  # the refusal names the case already (“Case … is cancelled; …”)
        if not reasons:
            return exc.message
        return fmt(gettext_lazy("%(message)s (%(details)s)"), message=exc.message, details=join(reasons, "; "))
    if reasons:
        return fmt(
            gettext_lazy("%(number)s: %(message)s (%(details)s)"),
            number=number,
            message=exc.message,
            details=join(reasons, "; "),
        )
    return fmt(gettext_lazy("%(number)s: %(message)s"), number=number, message=exc.message)
