"""The mechanism behind every status of Gongzhi that moves by a transition table (a case's, a dispute's, a police
notice's): the table's lookup, the states a transition leaves from, the actor check, the lock, the note, the status
write, the timeline event, the audit record and the notification, in one transaction.

An app's ``workflow.py`` describes its machine by subclassing :class:`Machine` (the model, the table, and the hooks
that are its own: who may act, what a timeline event looks like, who is told) and is then the only code that moves
its status: it calls :meth:`Machine.perform` (and :meth:`Machine.apply` for a row it locked itself). This module
writes the status for it and for nobody else (the lint test in ``cases/tests/test_workflow.py`` checks both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models, transaction
from django.utils import timezone

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, Text, ValidationFailed
from gongzhi.core.messages import fmt

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL

M = TypeVar("M", bound=models.Model)
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    """One row of a transition table: the states it leaves from, the state it enters (``None``: the status stays,
    e.g. an escalation), which roles may take it, whether the actor must be the handler, whether a note is required,
    and what else it changes (``effect(obj, actor, payload, now)``). ``steps``: a combined action, these
    transitions in order."""

    action: str
    label: Text
    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    handler_only: bool = False
    note_required: bool = False
    public: bool = True
    effect: Callable[[Any, Any, dict[str, Any], datetime], None] | None = field(default=None, compare=False)
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Texts:
    """The refusals a machine raises, in its app's words (and catalogue). Parameters: ``action``, ``transitions``,
    ``number``, ``status``, ``value``."""

    unknown: Text
    expected: Text
    conflict: Text
    conflict_detail: Text
    note_required: Text
    note_detail: Text
    system_only: Text


class Machine(Generic[M]):
    """A status machine over ``model``'s ``field``. Subclasses set the class attributes and override the hooks."""

    model: type[M]
    field: str = "status"
    audit_prefix: str = ""
    texts: Texts
    system_actions: frozenset[str] = frozenset()  # what the system (actor None) may do

    def __init__(
        self,
        transitions: dict[str, Transition] | Iterable[Transition],
        combined: dict[str, Transition] | Iterable[Transition] = (),
    ) -> None:
        # A dict is used as it is (the workflow module's table stays the one the machine reads).
        self.transitions = transitions if isinstance(transitions, dict) else {t.action: t for t in transitions}
        self.combined = combined if isinstance(combined, dict) else {t.action: t for t in combined}

    # --- hooks ------------------------------------------------------------------------------------------------
    def roles_of(self, actor: User) -> set[str]:
        roles: set[str] = set(actor.roles())  # accounts' User (django-stubs reads _User as it)
        return roles | ({"admin"} if actor.is_superuser else set())

    def is_handler(self, actor: User, obj: M) -> bool:
        return False

    def may_change(self, actor: User, obj: M) -> bool:
        """May ``actor`` act on ``obj`` at all (the scope of ``change``)? The query; a machine may decide in memory."""
        manager: Any = self.model._default_manager
        return bool(manager.restrict(actor, "change").filter(pk=obj.pk).exists())

    def check_actor(self, actor: User, obj: M, t: Transition) -> None:
        """Refuse (``Forbidden``) an actor who may not take ``t`` on ``obj``."""
        raise NotImplementedError

    def lock(self, pk: Any) -> M:
        manager: Any = self.model._default_manager
        obj: M = manager.select_for_update(of=("self",)).get(pk=pk)
        return obj

    def number(self, obj: M) -> str:
        return str(getattr(obj, "number", obj.pk))

    def status_label(self, obj: M) -> Text:
        display: Callable[[], Text] = getattr(obj, f"get_{self.field}_display")
        return display()

    def snapshot(self, obj: M) -> dict[str, Any]:
        return {self.field: getattr(obj, self.field)}

    def before_effect(self, obj: M, t: Transition, now: datetime) -> None:
        """Before the transition's effect (e.g. settle the clock)."""

    def after_effect(self, obj: M, t: Transition, actor: User | None, payload: dict[str, Any], now: datetime) -> None:
        """After the effect and the status, before the save (e.g. the copies of codes the scope matches on)."""

    def record_event(
        self,
        obj: M,
        t: Transition,
        actor: User | None,
        from_status: str,
        note: str,
        payload: dict[str, Any],
        now: datetime,
        **extra: Any,
    ) -> tuple[Any, dict[str, Any]]:
        """Write the timeline row(s); returns the event and what to add to the audit record's ``after``."""
        raise NotImplementedError

    def node_code(self, obj: M) -> str:
        return str(getattr(obj, "place_code", "") or "")

    def notify(self, obj: M, event: Any, actor: User | None, t: Transition) -> None:
        """Tell whoever the step concerns (messaging.services.notify, in this transaction)."""

    # --- the mechanism ----------------------------------------------------------------------------------------
    def transition_of(self, action: str) -> Transition | None:
        return self.transitions.get(action) or self.combined.get(action)

    def allowed(self, actor: User | None, obj: M, *, next_steps: tuple[str, ...] = ()) -> list[Transition]:
        """The transitions ``actor`` may take on ``obj`` now; those in ``next_steps`` first, in that order."""
        if actor is None or not getattr(actor, "is_authenticated", False):
            return []
        if not self.may_change(actor, obj):
            return []
        roles = self.roles_of(actor)
        status = getattr(obj, self.field)
        out = []
        for t in [*self.transitions.values(), *self.combined.values()]:
            if status not in t.sources:
                continue
            if "admin" not in roles and not (roles & t.roles):
                continue
            if t.handler_only and "admin" not in roles and not self.is_handler(actor, obj):
                continue
            out.append(t)
        return sorted(out, key=lambda t: next_steps.index(t.action) if t.action in next_steps else len(next_steps))

    def allowed_actions(self, actor: User | None, obj: M) -> list[Transition]:
        return self.allowed(actor, obj)

    def perform(
        self,
        *,
        actor: User | None,
        pk: Any,
        action: str,
        note: str = "",
        payload: dict[str, Any] | None = None,
        now: datetime | None = None,
        **extra: Any,
    ) -> M:
        """Take ``action`` on the row ``pk``: out of scope 404 first, then (under the row's lock) the actor, the
        state and the note, then :meth:`apply`. A combined action takes its steps in one transaction, each recorded
        as itself; the note goes on the last one."""
        transition = self.transition_of(action)
        if transition is not None and transition.steps:
            if actor is None:
                raise Forbidden(self.texts.system_only)
            get_in_scope(self.model, actor, pk)
            with transaction.atomic():
                done: M | None = None
                for i, step in enumerate(transition.steps):
                    last = i == len(transition.steps) - 1
                    step_extra = self.step_extra(extra, last)
                    done = self.perform(
                        actor=actor, pk=pk, action=step, note=note if last else "", payload=payload, now=now,
                        **step_extra,
                    )  # fmt: skip
                assert done is not None
                return done
        if transition is None:
            raise ValidationFailed(
                self.texts.unknown,
                [
                    ErrorDetail(
                        field="action",
                        message=fmt(
                            self.texts.expected,
                            action=repr(action),
                            transitions=", ".join([*self.transitions, *self.combined]),
                        ),
                    )
                ],
            )
        payload = payload or {}
        now = now or timezone.now()
        if actor is not None:
            get_in_scope(self.model, actor, pk)  # 404 when out of scope, before anything else
        with transaction.atomic():
            obj = self.lock(pk)
            if actor is None:
                if action not in self.system_actions:
                    raise Forbidden(self.texts.system_only)
            else:
                self.check_actor(actor, obj, transition)
            status = getattr(obj, self.field)
            if status not in transition.sources:
                allowed = [t.action for t in self.allowed_actions(actor, obj)] if actor is not None else []
                raise Conflict(
                    fmt(
                        self.texts.conflict,
                        number=self.number(obj),
                        status=self.status_label(obj),
                        action=transition.label,
                    ),
                    [
                        ErrorDetail(
                            field="action",
                            message=fmt(self.texts.conflict_detail, status=status, value=", ".join(allowed) or "none"),
                        )
                    ],
                )
            if transition.note_required and not note.strip():
                raise ValidationFailed(
                    self.texts.note_required,
                    [ErrorDetail(field="note", message=fmt(self.texts.note_detail, action=transition.label))],
                )
            return self.apply(obj, transition, actor, note, payload, now, **extra)

    def step_extra(self, extra: dict[str, Any], last: bool) -> dict[str, Any]:
        """The extra arguments of one step of a combined action."""
        return extra

    def apply(
        self,
        obj: M,
        t: Transition,
        actor: User | None,
        note: str,
        payload: dict[str, Any],
        now: datetime,
        **extra: Any,
    ) -> M:
        """Apply ``t`` to ``obj`` (locked by the caller, checks done): effect, status, save, event, audit, notice."""
        before = self.snapshot(obj)
        from_status = getattr(obj, self.field)
        self.before_effect(obj, t, now)
        if t.effect is not None:
            t.effect(obj, actor, payload, now)
        if t.target is not None:
            setattr(obj, self.field, t.target)
        self.after_effect(obj, t, actor, payload, now)
        obj.save()
        event, after_extra = self.record_event(obj, t, actor, from_status, note, payload, now, **extra)
        audit.record(
            actor=actor,
            action=f"{self.audit_prefix}.{t.action}",
            obj=obj,
            node_code=self.node_code(obj),
            before=before,
            after={**self.snapshot(obj), **after_extra},
            note=note,
        )
        self.notify(obj, event, actor, t)
        return obj

    def replay(self, obj: M, steps: Iterable[str]) -> list[tuple[Transition, str, str]]:
        """Walk the table in memory (historical rows, the demo): each step must be legal from the state the previous
        one left, else ``Conflict``; only the status changes. Returns ``(transition, from, to)`` per step."""
        out = []
        for action in steps:
            t = self.transitions.get(action)
            status = getattr(obj, self.field)
            if t is None or status not in t.sources:
                raise Conflict(
                    fmt(self.texts.conflict, number=self.number(obj), status=status, action=action),
                )
            if t.target is not None:
                setattr(obj, self.field, t.target)
            out.append((t, status, getattr(obj, self.field)))
        return out
