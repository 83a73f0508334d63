"""Case event listeners: other apps follow the cases they care about without the cases app knowing them.

An app above cases (meetings: a decision tracked as a case) registers a function once, at start-up
(``AppConfig.ready``): ``events.listen(fn)``. The workflow calls every listener with ``(case, event, actor)`` after
each transition, inside the transition's transaction (after the case's own notices are planned): a listener's writes
commit or roll back with the step. A listener must be quick and must not change the case's status (only
``workflow.py`` does). Registering the same function twice keeps one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.cases.models import Case

Listener = Callable[["Case", Any, "User | None"], None]
_listeners: list[Listener] = []


def listen(fn: Listener) -> Listener:
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


def emit(case: Case, event: Any, actor: User | None) -> None:
    for fn in list(_listeners):
        fn(case, event, actor)
