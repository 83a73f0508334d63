"""Background work (the Tasks API of the django-tasks backport; database backend outside tests).

``check_deadlines`` marks cases whose clock ran out as overdue and escalates each once. ``gongzhi scheduler``
enqueues it every five minutes (``gongzhi check_deadlines`` once, by hand), and ``gongzhi task_worker`` runs the queue.

``import_hotline`` imports a 12345 file too big for a web request (queued by ``hotline.import_upload``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks import task

from gongzhi.cases import deadlines, hotline, workflow
from gongzhi.core.errors import DomainError
from gongzhi.core.messages import system_note

log = logging.getLogger(__name__)


AUTO_ESCALATION_NOTE = gettext_lazy("Deadline missed: escalated automatically.")


def run_deadline_check(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    ids = deadlines.mark_overdue(now=now)
    escalated = 0
    for case_id in ids:
        try:
            workflow.perform(
                actor=None,
                case_id=case_id,
                action="escalate",
                note=system_note(AUTO_ESCALATION_NOTE),
                now=now,
            )
            escalated += 1
        except DomainError as exc:  # already at the top tier, waiting for verification, or moved on meanwhile
            log.info("case %s not escalated: %s", case_id, exc.message)
            # Missed all the same: on the timeline, and the owner and the next tier are told (once per deadline).
            workflow.record_overdue(case_id=case_id, now=now)
    return {"overdue": len(ids), "escalated": escalated}


@task()
def check_deadlines() -> dict[str, int]:
    from gongzhi.cases import services

    services.fail_dead_hotline_imports()  # 12345 jobs whose worker died: failed, their uploads deleted
    return run_deadline_check()


@task()
def tell(event_id: int, actor_id: int | None) -> int:
    """The notifications of one case event, queued by its request after the commit (``notify.send_after_commit``):
    planned from the case as it is now and written in one transaction. How many notices it sent."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from gongzhi.cases import notify
    from gongzhi.cases.models import CaseEvent

    event = CaseEvent.objects.select_related("case", "case__node").filter(pk=event_id).first()
    if event is None:
        return 0
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id is not None else None
    with transaction.atomic():
        return notify.send(event.case, event, actor)


@task()
def import_hotline(job_id: int) -> dict[str, Any]:
    """A big 12345 file, stored by ``hotline.import_upload``: import it and keep its ``HotlineImport`` up to date."""
    return hotline.run_job(job_id=job_id)
