"""The dispute workflow and the police-notice loop: the ONLY code that writes ``Dispute.status`` and
``PoliceNotice.status`` (the lint test in ``cases/tests/test_workflow.py`` scans the source tree to keep it so).

Two transition tables on the shared mechanism (``core.statemachine.Machine``, as ``cases/workflow.py`` is):

* a dispute: registered → mediating → agreement signed → closed (the follow-up found it performed); at any open state
  an explicit escalation up the ladder (a reason required; an :class:`~gongzhi.disputes.models.Escalation` row),
  back to "registered" at the new tier; no agreement and no tier left → unresolved; withdrawn. A follow-up finding the
  agreement not performed reopens the mediation.
* a police notice: sent → received (the grid signs for it) → answered (the visit's result), or cancelled by its
  sender.

Each step is audited, written on the dispute's timeline and told through ``messaging.services.notify``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.core.errors import ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import scope_of
from gongzhi.core.statemachine import SYSTEM as SYSTEM
from gongzhi.core.statemachine import Machine, Texts, Transition
from gongzhi.disputes import ladder, notify
from gongzhi.disputes.choices import (
    NOTICE_OPEN_STATUSES,
    OPEN_STATUSES,
    NoticeResult,
    NoticeStatus,
    Performance,
    ReferralKind,
    Status,
    TierKind,
)
from gongzhi.disputes.models import (
    Agreement,
    Dispute,
    DisputeEvent,
    DisputeMediator,
    Escalation,
    FollowUp,
    Party,
    PoliceNotice,
)

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

S = Status
GROUND = frozenset({Role.GRID_LEADER, Role.GRID_WORKER, Role.COMMUNITY_STAFF})
STATION = frozenset({Role.SUBDISTRICT_OPERATOR, Role.MEDIATOR})
REFERRAL = frozenset({Role.DEPARTMENT_HANDLER})
MEDIATING_ROLES = GROUND | STATION | REFERRAL
SENDERS = frozenset({Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT})
VISITORS = GROUND | {Role.SUBDISTRICT_OPERATOR}


def _typed(value: str, field: str) -> datetime:
    """A date (and time) the payload gives as text, aware; refused by ``field`` when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            _("Bad date."), [ErrorDetail(field=field, message=fmt(_("%(value)s: expected YYYY-MM-DD"), value=value))]
        ) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


# --- dispute effects ------------------------------------------------------------------------------------------------


def _on_start(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    d.started_at = d.started_at or now


def _on_escalate(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    """Up the ladder: the next tier (or ``to_tier``/``to_kind``); at a referral, the body (``body_id``, required when
    the tier names none) and what it is (``referral_kind``). Records the :class:`Escalation`."""
    tiers = ladder.tiers_of(d.subdistrict_code)
    to = None
    if p.get("to_kind"):
        to = next((t for t in tiers if t.kind == p["to_kind"] and t.level > d.tier), None)
    elif p.get("to_tier"):
        to = next((t for t in tiers if t.level == int(p["to_tier"]) and t.level > d.tier), None)
    else:
        to = next((t for t in tiers if t.level > d.tier), None)
    if to is None:
        raise ValidationFailed(
            _("There is no higher tier to escalate to."),
            [ErrorDetail(field="to_tier", message=fmt(_("the dispute is at tier %(tier)s, the top"), tier=d.tier))],
        )
    body_id = to.body_id
    referral = str(p.get("referral_kind") or "")
    if to.kind == TierKind.REFERRAL:
        body_id = int(p["body_id"]) if p.get("body_id") else body_id
        if body_id is None:
            raise ValidationFailed(
                _("Refer to whom?"),
                [ErrorDetail(field="body_id", message=_("the police station, justice office, court or arbitration"))],
            )
        if referral and referral not in ReferralKind.values:
            raise ValidationFailed(
                _("Unknown referral."),
                [ErrorDetail(field="referral_kind", message=fmt(_("one of %(values)s"),
                                                                  values=", ".join(ReferralKind.values)))],
            )
        referral = referral or ReferralKind.OTHER
    elif p.get("body_id"):
        body_id = int(p["body_id"])
    from_tier, from_body = d.tier, d.handler_body_id
    ladder.put_on_tier(d, to, body_id=body_id)
    d.referral_kind = referral if to.kind == TierKind.REFERRAL else ""
    Escalation.objects.create(
        dispute=d,
        at=now,
        by=actor,
        from_tier=from_tier,
        to_tier=to.level,
        to_kind=to.kind,
        from_body_id=from_body,
        to_body_id=d.handler_body_id,
        referral_kind=d.referral_kind,
        reason=str(p.get("reason") or p.get("_note") or ""),
        automatic=bool(p.get("automatic")),
    )


def _on_agree(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    """The agreement (drafted by ``services.draft_agreement``) is signed: its date, who signed, the follow-up due."""
    agreement_id = p.get("agreement_id")
    agreement = Agreement.objects.filter(dispute=d, pk=agreement_id).first() if agreement_id else None
    if agreement is None:
        agreement = Agreement.objects.filter(dispute=d, signed_on__isnull=True).order_by("-pk").first()
    if agreement is None:
        raise ValidationFailed(
            _("Draft the agreement before it is signed."),
            [ErrorDetail(field="agreement_id", message=_("no unsigned agreement of this dispute"))],
        )
    if not agreement.terms:
        raise ValidationFailed(
            _("An agreement needs at least one agreed term."),
            [ErrorDetail(field="terms", message=_("what the parties agreed"))],
        )
    signed_on = p.get("signed_on") or now.date()
    if isinstance(signed_on, str):
        signed_on = _typed(signed_on, "signed_on").date()
    agreement.signed_on = signed_on
    agreement.save(update_fields=["signed_on", "updated_at"])
    party_ids = p.get("signed_party_ids")
    parties = Party.objects.filter(dispute=d)
    agreement.signed_by.set(parties.filter(pk__in=party_ids) if party_ids else parties)
    d.agreed_at = now
    d.resolved_tier = d.tier
    FollowUp.objects.create(dispute=d, agreement=agreement, due_on=signed_on + timedelta(days=agreement.follow_up_days))


def _follow_up(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime, performance: str) -> None:
    follow_up = FollowUp.objects.filter(dispute=d, done_at__isnull=True).order_by("due_on", "pk").first()
    if follow_up is None:  # a follow-up before any is due: recorded all the same
        agreement = Agreement.objects.filter(dispute=d, signed_on__isnull=False).order_by("-pk").first()
        if agreement is None:
            return
        follow_up = FollowUp(dispute=d, agreement=agreement, due_on=now.date())
    follow_up.done_at = now
    follow_up.done_by = actor
    follow_up.performance = performance
    follow_up.note = str(p.get("_note") or "")
    follow_up.save()


def _on_close(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    performance = str(p.get("performance") or Performance.PERFORMED)
    if performance not in (Performance.PERFORMED, Performance.PARTLY):
        raise ValidationFailed(
            _("Closed only when the agreement was performed."),
            [ErrorDetail(field="performance", message=_("not performed: reopen the mediation instead"))],
        )
    _follow_up(d, actor, p, now, performance)
    d.closed_at = now


def _on_reopen(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    _follow_up(d, actor, p, now, str(p.get("performance") or Performance.NOT_PERFORMED))
    d.agreed_at = None
    d.resolved_tier = None


def _on_end(d: Dispute, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    d.closed_at = now


TRANSITIONS = [
    Transition("start", _("Start mediation"), frozenset({S.REGISTERED}), S.MEDIATING, MEDIATING_ROLES,
               handler_only=True, effect=_on_start),
    Transition("escalate", _("Escalate to the next tier"), frozenset(OPEN_STATUSES), S.REGISTERED, MEDIATING_ROLES,
               handler_only=True, note_required=True, effect=_on_escalate),
    Transition("agree", _("Agreement signed"), frozenset({S.MEDIATING}), S.AGREED, MEDIATING_ROLES,
               handler_only=True, effect=_on_agree),
    Transition("fail", _("No agreement (close)"), frozenset({S.MEDIATING}), S.UNRESOLVED, MEDIATING_ROLES,
               handler_only=True, note_required=True, effect=_on_end),
    Transition("withdraw", _("Withdrawn by the parties"), frozenset(OPEN_STATUSES), S.WITHDRAWN, MEDIATING_ROLES,
               handler_only=True, note_required=True, effect=_on_end),
    Transition("close", _("Performed: close"), frozenset({S.AGREED}), S.CLOSED, MEDIATING_ROLES,
               handler_only=True, effect=_on_close),
    Transition("reopen", _("Not performed: mediate again"), frozenset({S.AGREED}), S.MEDIATING, MEDIATING_ROLES,
               handler_only=True, note_required=True, effect=_on_reopen),
]  # fmt: skip

NEXT_STEPS: dict[str, tuple[str, ...]] = {
    S.REGISTERED: ("start",),
    S.MEDIATING: ("agree", "escalate"),
    S.AGREED: ("close",),
}

TEXTS = Texts(
    unknown=_("Unknown action."),
    expected=_("%(action)s; expected one of %(transitions)s"),
    conflict=_("Dispute %(number)s is %(status)s; “%(action)s” is not possible now."),
    conflict_detail=_("current state: %(status)s; allowed: %(value)s"),
    note_required=_("A note is required for this action."),
    note_detail=_("say why (%(action)s)"),
    system_only=_("Only the system's red-risk escalation happens automatically."),
)


def is_mediator(actor: User, dispute: Dispute) -> bool:
    return DisputeMediator.objects.filter(dispute=dispute, user=actor).exists()


def is_handler(actor: User, dispute: Dispute) -> bool:
    """Is ``actor`` on the handling side: an assigned mediator, the handling body's people, staff over the handling
    grid, or the subdistrict (which always may)?"""
    if actor.is_superuser:
        return True
    if is_mediator(actor, dispute):
        return True
    scope = actor.scope_for("disputes.dispute", "change")
    if scope.everything:
        return True
    if dispute.handler_body_id and dispute.handler_body_id in scope.bodies:
        return True
    if dispute.handler_code and scope.covers(dispute.handler_code):
        return True
    sub = dispute.subdistrict_code
    return any(sub.startswith(p) for p in scope.prefixes)  # a scope reaching the whole subdistrict


class DisputeMachine(Machine[Dispute]):
    model = Dispute
    audit_prefix = "disputes"
    texts = TEXTS
    system_actions = frozenset({"escalate"})

    def is_handler(self, actor: User, obj: Dispute) -> bool:
        return is_handler(actor, obj)

    def may_change(self, actor: User, obj: Dispute) -> bool:
        if is_mediator(actor, obj):
            return True
        return Dispute.scope_rule.admits(scope_of(actor, Dispute, "change"), obj)

    def allowed_actions(self, actor: User | None, obj: Dispute) -> list[Transition]:
        return self.allowed(actor, obj, next_steps=NEXT_STEPS.get(obj.status, ()))

    def check_actor(self, actor: User, obj: Dispute, t: Transition) -> None:
        if not self.may_change(actor, obj):
            raise Forbidden(_("You may see this dispute but not act on it."))
        roles = self.roles_of(actor)
        if Role.ADMIN in roles:
            return
        if not roles & t.roles:
            raise Forbidden(fmt(_("Your role may not “%(action)s”."), action=t.label))
        if t.handler_only and not is_handler(actor, obj):
            raise Forbidden(
                fmt(_("Only those handling %(number)s may “%(action)s”."), number=obj.number, action=t.label)
            )

    def lock(self, pk: Any) -> Dispute:
        return Dispute.objects.select_for_update(of=("self",)).select_related("node").get(pk=pk)

    def snapshot(self, obj: Dispute) -> dict[str, Any]:
        return {
            "status": obj.status,
            "tier": obj.tier,
            "risk": obj.risk,
            "handler_body": obj.handler_body_id,
            "handler_node": obj.handler_node_id,
        }

    def record_event(
        self,
        obj: Dispute,
        t: Transition,
        actor: User | None,
        from_status: str,
        note: str,
        payload: dict[str, Any],
        now: datetime,
        **extra: Any,
    ) -> tuple[DisputeEvent, dict[str, Any]]:
        event = DisputeEvent.objects.create(
            dispute=obj,
            at=now,
            actor=actor,
            actor_label=str(extra.get("actor_label") or (str(actor) if actor else SYSTEM))[:60],
            action=t.action,
            from_status=from_status,
            to_status=obj.status,
            note=note,
            data={k: v for k, v in payload.items() if not k.startswith("_") and isinstance(v, str | int | bool)},
        )
        return event, {}

    def notify(self, obj: Dispute, event: Any, actor: User | None, t: Transition) -> None:
        notify.dispute_moved(obj, event, actor)


MACHINE = DisputeMachine(TRANSITIONS)


def perform(
    *,
    actor: User | None,
    dispute_id: int,
    action: str,
    note: str = "",
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Take ``action`` on a dispute (see the table). ``actor=None`` is the system: only the red-risk escalation."""
    payload = {**(payload or {}), "_note": note}
    return MACHINE.perform(actor=actor, pk=dispute_id, action=action, note=note, payload=payload, now=now)


def allowed_actions(actor: User, dispute: Dispute) -> list[Transition]:
    """The transitions ``actor`` may take on ``dispute`` now (the buttons on the dispute page)."""
    return MACHINE.allowed_actions(actor, dispute)


def create_status() -> str:
    """The status a new dispute is born with (services write it through here, not by themselves)."""
    return Status.REGISTERED


# --- the police notice -----------------------------------------------------------------------------------------------

N = NoticeStatus


def _on_receive(n: PoliceNotice, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    n.received_at = now
    n.received_by = actor


def _on_answer(n: PoliceNotice, actor: User | None, p: dict[str, Any], now: datetime) -> None:
    result = p.get("result")
    if result not in NoticeResult.values:
        raise ValidationFailed(
            _("What came of the visit?"),
            [ErrorDetail(field="result", message=fmt(_("one of %(values)s"), values=", ".join(NoticeResult.values)))],
        )
    n.result = result
    n.feedback = str(p.get("_note") or "")
    visited = p.get("visited_at") or now
    n.visited_at = _typed(visited, "visited_at") if isinstance(visited, str) else visited
    n.answered_at = now
    n.answered_by = actor
    n.received_at = n.received_at or now
    n.received_by = n.received_by or actor
    if p.get("case_id"):
        n.case_id = int(p["case_id"])


NOTICE_TRANSITIONS = [
    Transition("receive", _("Received (will visit)"), frozenset({N.SENT}), N.RECEIVED, VISITORS, effect=_on_receive),
    Transition("answer", _("Answer (visit result)"), frozenset(NOTICE_OPEN_STATUSES), N.ANSWERED, VISITORS,
               note_required=True, effect=_on_answer),
    Transition("cancel", _("Cancel the notice"), frozenset(NOTICE_OPEN_STATUSES), N.CANCELLED, SENDERS,
               handler_only=True, note_required=True),
]  # fmt: skip

NOTICE_TEXTS = Texts(
    unknown=_("Unknown action."),
    expected=_("%(action)s; expected one of %(transitions)s"),
    conflict=_("Police notice %(number)s is %(status)s; “%(action)s” is not possible now."),
    conflict_detail=_("current state: %(status)s; allowed: %(value)s"),
    note_required=_("A note is required for this action."),
    note_detail=_("say why (%(action)s)"),
    system_only=_("Police notices move only by people."),
)


class NoticeMachine(Machine[PoliceNotice]):
    model = PoliceNotice
    audit_prefix = "disputes.police_notice"
    texts = NOTICE_TEXTS

    def is_handler(self, actor: User, obj: PoliceNotice) -> bool:
        """The sender's side: someone acting for the body that sent it."""
        return obj.from_body_id in actor.scope_for("disputes.policenotice", "change").bodies

    def may_change(self, actor: User, obj: PoliceNotice) -> bool:
        return PoliceNotice.scope_rule.admits(scope_of(actor, PoliceNotice, "change"), obj)

    def check_actor(self, actor: User, obj: PoliceNotice, t: Transition) -> None:
        if not self.may_change(actor, obj):
            raise Forbidden(_("You may see this police notice but not act on it."))
        roles = self.roles_of(actor)
        if Role.ADMIN in roles:
            return
        if not roles & t.roles:
            raise Forbidden(fmt(_("Your role may not “%(action)s”."), action=t.label))
        if t.handler_only and not self.is_handler(actor, obj):
            raise Forbidden(fmt(_("Only its sender may “%(action)s”."), action=t.label))

    def lock(self, pk: Any) -> PoliceNotice:
        return PoliceNotice.objects.select_for_update(of=("self",)).get(pk=pk)

    def snapshot(self, obj: PoliceNotice) -> dict[str, Any]:
        return {"status": obj.status, "result": obj.result, "case": obj.case_id}

    def record_event(
        self,
        obj: PoliceNotice,
        t: Transition,
        actor: User | None,
        from_status: str,
        note: str,
        payload: dict[str, Any],
        now: datetime,
        **extra: Any,
    ) -> tuple[None, dict[str, Any]]:
        return None, {}  # the notice's own fields are its record (received, answered, by whom), and the audit log

    def notify(self, obj: PoliceNotice, event: Any, actor: User | None, t: Transition) -> None:
        notify.notice_moved(obj, t.action, actor)


NOTICE_MACHINE = NoticeMachine(NOTICE_TRANSITIONS)


def perform_notice(
    *,
    actor: User,
    notice_id: int,
    action: str,
    note: str = "",
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> PoliceNotice:
    """Take ``action`` on a police notice (receive, answer, cancel)."""
    payload = {**(payload or {}), "_note": note}
    return NOTICE_MACHINE.perform(actor=actor, pk=notice_id, action=action, note=note, payload=payload, now=now)


def notice_allowed_actions(actor: User, notice: PoliceNotice) -> list[Transition]:
    return NOTICE_MACHINE.allowed_actions(actor, notice)


def notice_create_status() -> str:
    """The status a new police notice is born with."""
    return NoticeStatus.SENT


# --- history (the demo year, a migration from another system) ---------------------------------------------------------


def replay_history(dispute: Dispute, steps: list[tuple[str, datetime, str, str]]) -> list[DisputeEvent]:
    """Walk the dispute table in memory for a historical dispute, new (born :func:`create_status`, unsaved or just
    saved): ``steps`` are ``(action, at, actor_label, note)`` after the registration, each legal from the state the
    previous one left (else ``Conflict``). Role, scope and effects are the caller's (tier, dates, agreements); sets
    the status and returns the unsaved timeline events, the registration first, for bulk insertion once the dispute
    has its primary key."""
    if dispute.status != create_status():
        raise ValueError("replay_history starts from a new dispute")
    events = [DisputeEvent(dispute=dispute, at=dispute.received_at, actor_label=SYSTEM, action="register",
                           to_status=dispute.status)]  # fmt: skip
    walked = MACHINE.replay(dispute, [action for action, _at, _label, _note in steps])
    for (action, at, label, note), (_t, before, after) in zip(steps, walked, strict=True):
        events.append(DisputeEvent(dispute=dispute, at=at, actor_label=label[:60], action=action,
                                   from_status=before, to_status=after, note=note))  # fmt: skip
    return events


def replay_notice(notice: PoliceNotice, actions: list[str]) -> None:
    """The same for a historical police notice (new, born :func:`notice_create_status`): its status after
    ``actions`` (``receive``, ``answer``, ``cancel``); its dates and result are the caller's."""
    if notice.status != notice_create_status():
        raise ValueError("replay_notice starts from a new notice")
    NOTICE_MACHINE.replay(notice, actions)
