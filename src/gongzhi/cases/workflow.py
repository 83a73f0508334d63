"""The case workflow: the ONLY code that writes ``Case.status`` (a test scans the source tree to keep it so).

One transition table. Each transition names the states it leaves from, the state it enters (``None``: the status
stays, e.g. an escalation), which roles may take it, whether the actor must be the case's handler, and whether a
note is required. :func:`perform` checks role and scope, locks the row (``SELECT … FOR UPDATE``), re-checks the
state under the lock (so of many concurrent attempts on one edge exactly one succeeds), applies the effects, writes
the timeline event and the audit record, and sends notifications after commit. The mechanism is the one every
status machine of Gongzhi shares (``core.statemachine.Machine``); this module is its table and its hooks for cases.

It represents both sequences: national 受理→立案→派遣→处置→核查→结案→评价 (reported → accepted → dispatched →
in progress/disposed → verifying → closed → followed up) and 12345 受理→派单→接单/退单→办理→答复→回访→考评
(reported → dispatched → acknowledged/returned → in progress → disposed → followed up).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.accounts.policy import allowed_actions as allowed_actions_of
from gongzhi.cases import deadlines, notify
from gongzhi.cases import events as listeners
from gongzhi.cases.choices import OPEN_STATUSES, ClosedKind, Rating, Status, Step, Tier
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt, system_note
from gongzhi.core.scope import scope_of
from gongzhi.core.statemachine import SYSTEM as SYSTEM
from gongzhi.core.statemachine import Machine, Texts
from gongzhi.core.statemachine import Transition as Transition

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

S = Status
DESK = frozenset({Role.SUBDISTRICT_OPERATOR, Role.COMMUNITY_STAFF, Role.GRID_LEADER})
GRID = frozenset({Role.GRID_LEADER, Role.GRID_WORKER})
HANDLERS = frozenset(
    {
        Role.DEPARTMENT_HANDLER,
        Role.COMMUNITY_STAFF,
        Role.GRID_LEADER,
        Role.GRID_WORKER,
        Role.SUBDISTRICT_OPERATOR,
        Role.CO_BUILDING_UNIT,
        Role.MEDIATOR,
    }
)
VERIFIERS = frozenset({Role.GRID_LEADER, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.SUBDISTRICT_OPERATOR})
# SYSTEM (core.statemachine): the background deadline task


# --- effects: what a transition changes besides the status --------------------------------------------------------


def _on_accept(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.accepted_at = now
    deadlines.start_clock(case, Step.DISPATCH, now)


def _on_dispatch(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    from gongzhi.territory import selectors as territory

    body_id, node_id = p.get("handler_body_id"), p.get("handler_node_id")
    if actor is None:  # the learned triage (dispatch_by_model): a body it chose, never a place
        from gongzhi.territory.models import Body

        if not body_id:
            raise ValidationFailed(_("Dispatch to whom?"), [ErrorDetail(field="handler_body_id", message=_("a body"))])
        body = Body.objects.get(pk=body_id)
        if not bodies_with_actors([body.pk]):  # nobody to acknowledge it: left to the desk
            raise Conflict(fmt(_("Nobody can act for %(body)s in Gongzhi."), body=body.name))
        case.handler_body, case.handler_node = body, None
        if body.kind in ("department", "court"):
            case.tier = max(case.tier, Tier.DEPARTMENT)
        case.dispatcher = None
        case.accepted_at = case.accepted_at or now
        case.dispatched_at = now
        deadlines.start_clock(case, Step.ACKNOWLEDGE, now)
        return
    if not body_id and not node_id:
        raise ValidationFailed(
            _("Dispatch to whom?"),
            [ErrorDetail(field="handler_body_id", message=_("give handler_body_id or handler_node_id"))],
        )
    case.handler_body = territory.body_get(user=actor, body_id=body_id) if body_id else None
    case.handler_node = territory.node_get(user=actor, node_id=node_id) if node_id else None
    handoff = str(p.get("phone_handoff_note") or "").strip()
    if case.handler_body is not None and not handoff and not bodies_with_actors([case.handler_body.pk]):
        # Nobody could acknowledge it: the case would be stuck. Refused unless the dispatcher phoned them.
        raise ValidationFailed(
            gettext(
                "Nobody can act for %(body)s in Gongzhi (no active user with a role for it): dispatched there, "
                "the case would wait for nobody. Phone them and say whom you phoned, or dispatch elsewhere."
            )
            % {"body": case.handler_body.name},
            [
                ErrorDetail(
                    field="phone_handoff_note",
                    message=gettext("whom at %(body)s you phoned, and when") % {"body": case.handler_body.name},
                )
            ],
        )
    if case.handler_body is not None and case.handler_body.kind in ("department", "court"):
        case.tier = max(case.tier, Tier.DEPARTMENT)
    case.dispatcher = actor
    case.accepted_at = case.accepted_at or now
    case.dispatched_at = now
    if case.status == S.RETURNED and case.due_at is not None:
        # Dispatched again after a return: still the clock the first dispatch started; a return buys no time.
        deadlines.keep_clock(case)
    else:
        deadlines.start_clock(case, Step.ACKNOWLEDGE, now)


def acting_roles() -> frozenset[str]:
    """The roles whose holders can take a dispatched case on: handlers that may change cases."""
    return frozenset(role for role in HANDLERS if "change" in allowed_actions_of(role, "cases.case"))


def bodies_with_actors(body_ids: Iterable[int]) -> set[int]:
    """Which of these bodies have someone who can act on a case dispatched to them: an active user with an active
    role assignment for the body in one of :func:`acting_roles`. (A check of the organisation, not a read for the
    dispatcher: it is not scoped.)"""
    from gongzhi.accounts.models import RoleAssignment

    ids = [i for i in body_ids if i]
    if not ids:
        return set()
    rows = RoleAssignment.objects.filter(
        body_id__in=ids, is_active=True, user__is_active=True, role__in=sorted(acting_roles())
    )
    return set(rows.values_list("body_id", flat=True).distinct())


def _on_acknowledge(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.acknowledged_at = now
    deadlines.start_clock(case, Step.DISPOSE, now)


def _on_return(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.return_count += 1
    case.handler_body = None
    case.handler_node = None
    # "Not ours" does not move the clock the case is on, nor clear "overdue": the case is still not taken on.
    deadlines.keep_clock(case)


def _on_postpone(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    until = p.get("until")
    case.postponed_until = until
    case.postpone_count += 1
    deadlines.pause_clock(case)


def _on_resume(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.postponed_until = None
    deadlines.start_clock(case, Step.DISPOSE, now, step_done=False)


def _on_dispose(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.disposed_at = now
    case.disposed_by = actor
    deadlines.start_clock(case, Step.VERIFY, now)


def _on_fix_on_spot(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.fixed_on_spot = True
    case.tier = min(case.tier, Tier.GRID)
    case.accepted_at = case.accepted_at or now
    case.handler_node = case.node if case.node.kind in ("grid", "building", "household") else None
    _on_dispose(case, actor, p, now)


def _on_rework(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.rework_count += 1
    deadlines.start_clock(case, Step.DISPOSE, now)


def _on_close(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    case.closed_at = now
    if p.get("special"):
        case.closed_kind = ClosedKind.SPECIAL
    else:
        case.closed_kind = ClosedKind.OVERDUE if case.overdue_count or case.is_overdue else ClosedKind.NORMAL
    deadlines.stop_clock(case)


def _on_follow_up(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    rating = p.get("rating")
    if rating not in Rating.values:
        raise ValidationFailed(
            _("A rating is required."),
            [ErrorDetail(field="rating", message=fmt(_("one of %(values)s"), values=", ".join(Rating.values)))],
        )
    case.rating = rating
    case.resolved = bool(p.get("resolved", rating != Rating.DISSATISFIED))
    case.responded = bool(p.get("responded", True))
    case.rated_at = now


def _on_merge(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    target_id = p.get("into_case_id")
    if not target_id or int(target_id) == case.pk:
        raise ValidationFailed(
            _("Merge into which case?"), [ErrorDetail(field="into_case_id", message=_("another open case's id"))]
        )
    target = get_in_scope(Case, actor, target_id)
    while target.merged_into_id:  # follow chains: always merge into the surviving work item
        target = Case.objects.get(pk=target.merged_into_id)
    if target.status not in OPEN_STATUSES or target.pk == case.pk:
        raise ValidationFailed(
            _("Merge into an open case."),
            [
                ErrorDetail(
                    field="into_case_id",
                    message=fmt(
                        _("%(number)s is %(status)s"), number=target.number, status=target.get_status_display()
                    ),
                )
            ],
        )
    case.merged_into = target
    deadlines.stop_clock(case)


def _on_cancel(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    deadlines.stop_clock(case)


def _on_reject(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    deadlines.stop_clock(case)


def _on_escalate(case: Case, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    from gongzhi.cases import tiers

    tiers.escalate(case)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("accept", _("Accept"), frozenset({S.REPORTED}), S.ACCEPTED, DESK | GRID, effect=_on_accept),
        Transition(
            "reject", _("Reject"), frozenset({S.REPORTED}), S.REJECTED, DESK, note_required=True, effect=_on_reject
        ),
        Transition(
            "fix_on_spot",
            _("Fixed on the spot"),
            frozenset({S.REPORTED, S.ACCEPTED}),
            S.DISPOSED,
            GRID,
            note_required=True,
            effect=_on_fix_on_spot,
        ),
        Transition(
            "dispatch",
            _("Dispatch"),
            frozenset({S.REPORTED, S.ACCEPTED, S.RETURNED}),
            S.DISPATCHED,
            DESK,
            effect=_on_dispatch,
        ),
        Transition(
            "acknowledge",
            _("Acknowledge"),
            frozenset({S.DISPATCHED}),
            S.ACKNOWLEDGED,
            HANDLERS,
            handler_only=True,
            effect=_on_acknowledge,
        ),
        Transition(
            "return",
            _("Return (not ours)"),
            frozenset({S.DISPATCHED}),
            S.RETURNED,
            HANDLERS,
            handler_only=True,
            note_required=True,
            effect=_on_return,
        ),
        Transition(
            "start",
            _("Start work"),
            frozenset({S.ACKNOWLEDGED, S.REWORK}),
            S.IN_PROGRESS,
            HANDLERS,
            handler_only=True,
            effect=lambda c, a, p, n: deadlines.keep_clock(c),
        ),
        Transition(
            "postpone",
            _("Postpone (approved)"),
            frozenset({S.IN_PROGRESS, S.ACKNOWLEDGED}),
            S.POSTPONED,
            DESK,
            note_required=True,
            effect=_on_postpone,
        ),
        Transition("resume", _("Resume"), frozenset({S.POSTPONED}), S.IN_PROGRESS, DESK | HANDLERS, effect=_on_resume),
        Transition(
            "dispose",
            _("Report done"),
            frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.REWORK}),
            S.DISPOSED,
            HANDLERS,
            handler_only=True,
            note_required=True,
            effect=_on_dispose,
        ),
        Transition(
            "verify",
            _("Start verification"),
            frozenset({S.DISPOSED}),
            S.VERIFYING,
            VERIFIERS,
            effect=lambda c, a, p, n: deadlines.keep_clock(c),
        ),
        Transition("close", _("Close"), frozenset({S.VERIFYING}), S.CLOSED, VERIFIERS, effect=_on_close),
        Transition(
            "rework",
            _("Send back for rework"),
            frozenset({S.VERIFYING}),
            S.REWORK,
            VERIFIERS,
            note_required=True,
            effect=_on_rework,
        ),
        Transition(
            "follow_up",
            _("Record call-back / rating"),
            frozenset({S.CLOSED}),
            S.FOLLOWED_UP,
            DESK | GRID,
            effect=_on_follow_up,
        ),
        Transition("merge", _("Merge as duplicate"), frozenset(OPEN_STATUSES), S.MERGED, DESK | GRID, effect=_on_merge),
        Transition(
            "cancel",
            _("Cancel"),
            frozenset({S.REPORTED, S.ACCEPTED}),
            S.CANCELLED,
            DESK,
            note_required=True,
            effect=_on_cancel,
        ),
        Transition(
            "escalate",
            _("Escalate"),
            frozenset(OPEN_STATUSES) - {S.DISPOSED, S.VERIFYING},
            None,
            DESK | HANDLERS,
            note_required=True,
            effect=_on_escalate,
        ),
    ]
}

# Combined actions: several transitions of the table taken in one go, in one transaction, each recorded as itself
# (its own timeline event and audit record). Offered where the first step is, to whoever may take every step.
# 签收并开始处置: the handler acknowledges a dispatched case and starts work on it with one tap.
COMBINED: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "acknowledge_start",
            _("Acknowledge and start work"),
            TRANSITIONS["acknowledge"].sources,
            TRANSITIONS["start"].target,
            TRANSITIONS["acknowledge"].roles & TRANSITIONS["start"].roles,
            handler_only=True,
            steps=("acknowledge", "start"),
        ),
    ]
}

# The next step of the work from each state, in the order offered: the first of these the actor may take is the case
# page's primary button (so the role decides: the desk dispatches, the grid worker fixes it on the spot). Every other
# allowed action (postpone, return, reject, cancel, merge, escalate) is secondary, whether or not the case is overdue.
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    S.REPORTED: ("accept", "dispatch", "fix_on_spot"),
    S.ACCEPTED: ("dispatch", "fix_on_spot"),
    S.RETURNED: ("dispatch",),
    S.DISPATCHED: ("acknowledge", "acknowledge_start"),
    S.ACKNOWLEDGED: ("start", "dispose"),
    S.REWORK: ("start", "dispose"),
    S.IN_PROGRESS: ("dispose",),
    S.POSTPONED: ("resume",),
    S.DISPOSED: ("verify",),
    S.VERIFYING: ("close", "rework"),
    S.CLOSED: ("follow_up",),
}


def transition_of(action: str) -> Transition | None:
    """A transition of the table or a combined action, by name."""
    return MACHINE.transition_of(action)


def is_next_step(case: Case, transition: Transition) -> bool:
    """Is ``transition`` a step of the work from the case's state (not a postponement, return, escalation…)?"""
    return transition.action in NEXT_STEPS.get(case.status, ())


# The resident's own rating through the tracking link (no account): only this one transition.
RESIDENT_RATING = Transition("rate", _("Rate"), frozenset({S.CLOSED}), S.FOLLOWED_UP, frozenset(), effect=_on_follow_up)


def is_handler(actor: User, case: Case) -> bool:
    """Is ``actor`` on the handling side: the handling body's people, or staff over the handling grid?"""
    scope = actor.scope_for("cases.case", "change")
    if scope.everything:
        return True
    if case.handler_body_id and case.handler_body_id in scope.bodies:
        return True
    target = case.handler_node or (None if case.handler_body_id else case.node)
    return target is not None and scope.covers(target.code)


TEXTS = Texts(
    unknown=_("Unknown action."),
    expected=_("%(action)s; expected one of %(transitions)s"),
    conflict=_("Case %(number)s is %(status)s; “%(action)s” is not possible now."),
    conflict_detail=_("current state: %(status)s; allowed: %(value)s"),
    note_required=_("A note is required for this action."),
    note_detail=_("say why (%(action)s)"),
    system_only=_("Only escalation happens automatically."),
)


class CaseMachine(Machine[Case]):
    """The case's hooks on the shared mechanism: who may act, the timeline event, the audit's fields, who is told."""

    model = Case
    audit_prefix = "cases"
    texts = TEXTS
    system_actions = frozenset({"escalate"})

    def is_handler(self, actor: User, obj: Case) -> bool:
        return is_handler(actor, obj)

    def may_change(self, actor: User, obj: Case) -> bool:
        # The scope rule decided on the case in hand (no query): the same answer as ``restrict(actor, "change")``.
        return Case.scope_rule.admits(scope_of(actor, Case, "change"), obj)

    def allowed_actions(self, actor: User | None, obj: Case) -> list[Transition]:
        # The work's next steps first (in :data:`NEXT_STEPS` order), then the rest in the table's order.
        return self.allowed(actor, obj, next_steps=NEXT_STEPS.get(obj.status, ()))

    def check_actor(self, actor: User, obj: Case, t: Transition) -> None:
        _check_actor(actor, obj, t)

    def lock(self, pk: Any) -> Case:
        return Case.objects.select_for_update(of=("self",)).select_related("node", "handler_node").get(pk=pk)

    def snapshot(self, obj: Case) -> dict[str, Any]:
        return {
            "status": obj.status,
            "tier": obj.tier,
            "owner_body": obj.owner_body_id,
            "handler_body": obj.handler_body_id,
            "handler_node": obj.handler_node_id,
        }

    def before_effect(self, obj: Case, t: Transition, now: datetime) -> None:
        deadlines.settle(obj, now)

    def after_effect(
        self, obj: Case, t: Transition, actor: User | None, payload: dict[str, Any], now: datetime
    ) -> None:
        obj.place_code = obj.node.code  # the copies list scopes match on (core.scope node_code)
        obj.handler_code = obj.handler_node.code if obj.handler_node is not None else ""

    def node_code(self, obj: Case) -> str:
        return obj.node.code

    def step_extra(self, extra: dict[str, Any], last: bool) -> dict[str, Any]:
        return {**extra, "reply": bool(extra.get("reply")) and last}

    def record_event(
        self,
        obj: Case,
        t: Transition,
        actor: User | None,
        from_status: str,
        note: str,
        payload: dict[str, Any],
        now: datetime,
        **extra: Any,
    ) -> tuple[CaseEvent, dict[str, Any]]:
        public: bool | None = extra.get("public")
        reply = bool(extra.get("reply", False))
        actor_label = str(extra.get("actor_label", ""))
        case = obj
        shown = t.public if public is None else public
        event = CaseEvent.objects.create(
            case=case,
            at=now,
            actor=actor,
            actor_label=actor_label or (str(actor) if actor else SYSTEM),
            action=t.action,
            from_status=from_status,
            to_status=case.status,
            note=note,
            public=shown,
            reply=shown and bool(note.strip()) and (reply or public is True),
            data={
                k: v
                for k, v in payload.items()
                if isinstance(v, str | int | float | bool | type(None)) and k != "phone_handoff_note"
            },
        )
        handoff = str(payload.get("phone_handoff_note") or "").strip() if t.action == "dispatch" else ""
        if handoff:
            # The dispatcher phoned the body (nobody acts for it in Gongzhi): who was phoned goes on the timeline.
            CaseEvent.objects.create(
                case=case,
                at=now,
                actor=actor,
                actor_label=actor_label or (str(actor) if actor else SYSTEM),
                action="phone_handoff",
                from_status=case.status,
                to_status=case.status,
                note=handoff,
                public=False,
                data={"handler_body": case.handler_body_id},
            )
        return event, ({"phone_handoff_note": handoff} if handoff else {})

    def notify(self, obj: Case, event: Any, actor: User | None, t: Transition) -> None:
        notify.send(obj, event, actor)  # who is told what: inbox now, SMS/e-mail after the commit (messaging)
        listeners.emit(obj, event, actor)  # apps that follow cases (events.py: meetings, triage)


MACHINE = CaseMachine(TRANSITIONS, COMBINED)


def allowed_actions(actor: User, case: Case) -> list[Transition]:
    """The transitions ``actor`` may take on ``case`` now (the buttons on the case page)."""
    return MACHINE.allowed_actions(actor, case)


def perform(
    *,
    actor: User | None,
    case_id: int,
    action: str,
    note: str = "",
    public: bool | None = None,
    reply: bool = False,
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Take ``action`` on a case. ``actor=None`` is the system (deadline task); it may only escalate.

    The step shows on the reporter's tracking page when the transition is public (``public=False`` hides it); its
    note shows there only when it is a reply to the reporter (``reply=True``, or the older ``public=True``): a staff
    note is internal by default. A combined action (:data:`COMBINED`) takes its steps in one transaction, each with
    its own timeline event and audit record; the note goes on the last one."""
    return MACHINE.perform(
        actor=actor, pk=case_id, action=action, note=note, payload=payload, now=now, public=public, reply=reply
    )


OVERDUE_NOTE = _("Deadline missed.")


def record_overdue(*, case_id: int, now: datetime) -> CaseEvent | None:
    """The deadline task found the case's clock run out and could not escalate it (top tier, or waiting for
    verification): the miss goes on the timeline as the system's event, and the owner and the next tier are told
    (``notify``, once per missed deadline). Nothing when the case is no longer overdue, or when this miss is on the
    timeline already (the task escalated it, or reported it before)."""
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("node").filter(pk=case_id).first()
        if case is None or not case.is_overdue:
            return None
        reported = CaseEvent.objects.filter(case=case, actor__isnull=True, action__in=["escalate", "overdue"])
        if case.due_at is not None and reported.filter(at__gte=case.due_at).exists():
            return None
        event = CaseEvent.objects.create(
            case=case,
            at=now,
            actor=None,
            actor_label=SYSTEM,
            action="overdue",
            from_status=case.status,
            to_status=case.status,
            note=system_note(OVERDUE_NOTE),
            public=False,
            data={"step": case.due_step, "due_at": case.due_at.isoformat() if case.due_at else None},
        )
        audit.record(
            actor=None,
            action="cases.overdue",
            obj=case,
            node_code=case.node.code,
            after={"status": case.status, "due_step": case.due_step, "overdue_count": case.overdue_count},
        )
        notify.send(case, event, None)
        return event


BY_MODEL = "triage"  # the actor label of a dispatch the learned triage made (cases/_timeline.html names it)


def dispatch_by_model(*, case_id: int, handler_body_id: int, version: int, confidence: float, note: str = "") -> Case:
    """The learned triage dispatches a new case on its own (the system: no user). Only a case still on the desk
    (reported or accepted, never one returned) to a body someone acts for; the timeline says the model did it, with
    its version and confidence; returnable like any dispatch. Refused (``Conflict``) otherwise: the case stays."""
    t = TRANSITIONS["dispatch"]
    with transaction.atomic():
        case = MACHINE.lock(case_id)
        if case.status not in (S.REPORTED, S.ACCEPTED):
            raise Conflict(
                fmt(TEXTS.conflict, number=case.number, status=case.get_status_display(), action=t.label)
            )
        payload = {"handler_body_id": handler_body_id, "model_version": version, "confidence": round(confidence, 4)}
        return MACHINE.apply(case, t, None, note, payload, timezone.now(), actor_label=BY_MODEL)


def perform_resident_rating(*, case: Case, rating: str, resolved: bool | None, note: str = "") -> Case:
    """The reporter rates a closed case through the tracking link (identity checked by the caller)."""
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("node").get(pk=case.pk)
        if locked.status not in RESIDENT_RATING.sources:
            raise Conflict(
                fmt(
                    _("Case %(number)s can be rated once it is closed; it is %(status)s."),
                    number=locked.number,
                    status=locked.get_status_display(),
                )
            )
        payload = {"rating": rating, "resolved": resolved if resolved is not None else rating != Rating.DISSATISFIED}
        now = timezone.now()
        return MACHINE.apply(
            locked, RESIDENT_RATING, None, note, payload, now, public=True, actor_label="reporter", reply=True
        )


def _check_actor(actor: User, case: Case, transition: Transition) -> None:
    if not Case.objects.restrict(actor, "change").filter(pk=case.pk).exists():
        raise Forbidden(_("You may see this case but not act on it."))
    roles = actor.roles() | ({Role.ADMIN} if actor.is_superuser else set())
    if Role.ADMIN in roles:
        return
    if not roles & transition.roles:
        raise Forbidden(fmt(_("Your role may not “%(action)s”."), action=transition.label))
    if transition.handler_only and not is_handler(actor, case):
        raise Forbidden(
            fmt(
                _("Only the handler of %(number)s may “%(action)s”."),
                number=case.number,
                action=transition.label,
            )
        )


def create_status() -> str:
    """The status a new case is born with (intake writes it through here, not by itself)."""
    return Status.REPORTED


def replay_history(case: Case, steps: list[tuple[str, datetime, str, str]]) -> list[CaseEvent]:
    """Historical cases (the demo year, or a migration from a vendor system): walk the transition table in memory.

    ``steps`` are ``(action, at, actor_label, note)`` after the report. Each must be legal from the state the
    previous one left (else ``Conflict``); role and scope are not checked and effects other than the status are the
    caller's (timestamps, handler, tier, rating). Sets ``case.status`` and returns the unsaved timeline events, the
    report first, for bulk insertion once the case has its primary key.
    """
    case.status = create_status()
    events = [CaseEvent(case=case, at=case.reported_at, actor_label=case.reporter_name or SYSTEM, action="report",
                        to_status=case.status, data={"channel": case.channel})]
    for action, at, label, note in steps:
        t = TRANSITIONS.get(action)
        if t is None or case.status not in t.sources:
            raise Conflict(
                fmt(
                    _("History of %(number)s: “%(action)s” is not possible from %(status)s."),
                    number=case.number,
                    action=action,
                    status=case.status,
                )
            )
        before = case.status
        if t.target is not None:
            case.status = t.target
        events.append(
            CaseEvent(
                case=case,
                at=at,
                actor_label=label,
                action=action,
                from_status=before,
                to_status=case.status,
                note=note,
                public=t.public,
            )
        )
    return events
