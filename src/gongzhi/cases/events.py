"""Case event listeners: other apps follow the cases they care about without the cases app knowing them.

Two kinds, each installed once from an app's ``AppConfig.ready``: ``listen`` (every step of a case, below) and
``on_arrival`` (new cases once committed: the learned triage suggests and, where switched on, dispatches).

An app above cases (meetings: a decision tracked as a case) registers a function once, at start-up
(``AppConfig.ready``): ``events.listen(fn)``. The workflow calls every listener with ``(case, event, actor)`` after
each transition, inside the transition's transaction (after the case's own notices are planned): a listener's writes
commit or roll back with the step. A listener must be quick and must not change the case's status (only
``workflow.py`` does). Registering the same function twice keeps one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from gongzhi.messaging import tasks as messaging_tasks

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.cases.models import Case

log = logging.getLogger(__name__)

Listener = Callable[["Case", Any, "User | None"], None]
_listeners: list[Listener] = []


def listen(fn: Listener) -> Listener:
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


def emit(case: Case, event: Any, actor: User | None) -> None:
    for fn in list(_listeners):
        fn(case, event, actor)


# New cases, once committed (``on_arrival``).
# A listener only queues its work; one that fails is logged and the case stays on the desk as it is.
_arrival_listeners: list[Callable[[list[int]], None]] = []


def on_arrival(listener: Callable[[list[int]], None]) -> None:
    if listener not in _arrival_listeners:
        _arrival_listeners.append(listener)


def arrived(case_ids: list[int]) -> None:
    """Tell the arrival listeners of these new cases, never before their commit: as ``notify.send_after_commit``
    queues its task (``messaging.tasks.with_commit``: inside the transaction when the task queue is in this
    database, so the task commits with the cases and a rollback drops it; after the commit otherwise). Each listener
    runs in a savepoint and a failure is logged: the cases stay in, on the desk."""
    if not case_ids or not _arrival_listeners:
        return
    ids = list(case_ids)

    def tell() -> None:
        for listener in _arrival_listeners:
            try:
                with transaction.atomic():
                    listener(ids)
            except Exception:  # the cases are in; what a listener does with them must not fail the intake
                log.exception("arrival listener %r failed for %s cases", listener, len(ids))

    messaging_tasks.with_commit(tell)
