"""The triage app's background work: new cases considered after their commit (suggested, and dispatched where the
subdistrict lets the model), and trainings (the weekly one and the desk's on demand)."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def arrived(case_ids: list[int]) -> dict[str, int]:
    """New cases (``cases.events.on_arrival``): each considered on its own (``services.consider``); a failure on one
    is logged and leaves it on the desk, the others go on."""
    from gongzhi.triage import services

    out = {"suggested": 0, "dispatched": 0, "failed": 0}
    for case_id in case_ids:
        try:
            suggestion = services.consider(case_id=case_id)
        except Exception:
            log.exception("triage could not consider case %s: left on the desk", case_id)
            out["failed"] += 1
            continue
        if suggestion is not None:
            out["suggested"] += 1
            out["dispatched"] += int(suggestion.dispatched)
    return out


@task()
def train(user_id: int | None = None) -> dict[str, Any]:
    """Train a version from the closed cases and the desk's lessons, and put it in use."""
    from django.contrib.auth import get_user_model

    from gongzhi.core.errors import DomainError
    from gongzhi.triage import services

    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    try:
        version = services.train(user=user)
    except DomainError as exc:  # too little history yet
        log.info("triage training skipped: %s", exc.message)
        return {"version": None}
    return {"version": version.pk, "n": version.n, "threshold": version.threshold}


def queue_arrivals(case_ids: list[int]) -> None:
    """The arrival listener (installed by ``apps.ready``): one task for the batch, run by the worker."""
    for start in range(0, len(case_ids), 500):
        arrived.enqueue(case_ids[start : start + 500])
