"""Who is told what about disputes and police notices: every transition notifies through
``messaging.services.notify`` (inside the workflow's transaction). The inbox's kinds are registered here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.core.scope import ancestor_codes
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.messaging.services import Recipient

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.disputes.models import Dispute, PoliceNotice

KINDS = {
    "dispute.registered": _("Dispute registered"),
    "dispute.assigned": _("Dispute assigned to me"),
    "dispute.changed": _("Dispute progress"),
    "dispute.escalated": _("Dispute escalated"),
    "dispute.red_risk": _("Red-risk dispute"),
    "dispute.follow_up": _("Performance follow-up due"),
    "police_notice.landed": _("Police notice to visit"),
    "police_notice.received": _("Police notice received by the grid"),
    "police_notice.answered": _("Police notice answered"),
}
for _code, _label in KINDS.items():
    kinds.register(_code, _label)


# --- who is told ------------------------------------------------------------------------------------------------------

GROUND_ROLES = (Role.GRID_LEADER, Role.GRID_WORKER, Role.COMMUNITY_STAFF)
BODY_ROLES = (Role.MEDIATOR, Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT, Role.COMMUNITY_STAFF)


def _assignments() -> Any:
    from gongzhi.accounts.models import RoleAssignment

    return RoleAssignment.objects.filter(is_active=True, user__is_active=True)


def users_on(code: str, roles: tuple[str, ...]) -> set[int]:
    """Active users holding one of ``roles`` on the place with this code or on a place above it (the grid's staff
    and the community's, for a place in the grid)."""
    if not code:
        return set()
    codes = [*ancestor_codes(code), code]
    rows = _assignments().filter(node__code__in=codes, role__in=roles)
    return set(rows.values_list("user_id", flat=True))


def users_of_body(body_id: int | None, roles: tuple[str, ...] = BODY_ROLES) -> set[int]:
    if not body_id:
        return set()
    return set(_assignments().filter(body_id=body_id, role__in=roles).values_list("user_id", flat=True))


def subdistrict_desk(subdistrict_code: str) -> set[int]:
    rows = _assignments().filter(Q(node__code=subdistrict_code), role=Role.SUBDISTRICT_OPERATOR)
    return set(rows.values_list("user_id", flat=True))


def handlers(dispute: Dispute) -> set[int]:
    """The assigned mediators, the handling body's people, the handling grid's (or, at the station, the desk's)."""
    from gongzhi.disputes.models import DisputeMediator

    ids = set(DisputeMediator.objects.filter(dispute=dispute).values_list("user_id", flat=True))
    ids |= users_of_body(dispute.handler_body_id)
    if dispute.handler_code:
        if dispute.handler_code == dispute.subdistrict_code:
            ids |= subdistrict_desk(dispute.subdistrict_code)
        else:
            ids |= set(
                _assignments()
                .filter(node__code=dispute.handler_code, role__in=GROUND_ROLES)
                .values_list("user_id", flat=True)
            )
    return ids


def _link(name: str, pk: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the pages are not wired (an API-only build)
        return ""


MOVED = {
    "start": _("Mediation of dispute %(number)s (%(summary)s) has started."),
    "escalate": _("Dispute %(number)s (%(summary)s) was escalated to tier %(tier)s: %(note)s"),
    "agree": _("Dispute %(number)s (%(summary)s): agreement signed."),
    "fail": _("Dispute %(number)s (%(summary)s) closed without agreement: %(note)s"),
    "withdraw": _("Dispute %(number)s (%(summary)s) was withdrawn: %(note)s"),
    "close": _("Dispute %(number)s (%(summary)s): the agreement was performed; closed."),
    "reopen": _("Dispute %(number)s (%(summary)s): the agreement was not performed; mediation again: %(note)s"),
}


def _params(dispute: Dispute, **more: Any) -> dict[str, Any]:
    return {"number": dispute.number, "summary": dispute.summary[:40], **more}


def dispute_moved(dispute: Dispute, event: Any, actor: User | None) -> None:
    """Every transition of a dispute tells its handlers (after an escalation: the new ones too, and the subdistrict
    desk when it reaches the station or beyond)."""
    text = MOVED.get(event.action)
    if text is None:
        return
    ids = handlers(dispute)
    kind = "dispute.changed"
    if event.action == "escalate":
        kind = "dispute.escalated"
        ids |= subdistrict_desk(dispute.subdistrict_code) if dispute.tier_kind != "on_site" else set()
    messaging.notify(
        actor=actor,
        recipients=[Recipient(u) for u in sorted(ids)],
        kind=kind,
        text=text,
        params=_params(dispute, tier=dispute.tier, note=(event.note or "")[:80]),
        link=_link("disputes:detail", dispute.pk),
        obj=dispute,
        urgency="A" if dispute.risk == "red" else "",
        dedupe=f"dispute:{dispute.pk}:{event.action}:{event.pk}",
    )


def dispute_registered(dispute: Dispute, actor: User | None) -> None:
    """A new dispute: its handlers are told; a red one also the subdistrict (urgently)."""
    ids = handlers(dispute)
    messaging.notify(
        actor=actor,
        recipients=[Recipient(u) for u in sorted(ids)],
        kind="dispute.registered",
        text=_("New dispute %(number)s to mediate: %(summary)s"),
        params=_params(dispute),
        link=_link("disputes:detail", dispute.pk),
        obj=dispute,
        dedupe=f"dispute:{dispute.pk}:registered",
    )
    if dispute.risk == "red":
        red_risk(dispute, actor)


def red_risk(dispute: Dispute, actor: User | None) -> None:
    messaging.notify(
        actor=actor,
        recipients=[Recipient(u) for u in sorted(subdistrict_desk(dispute.subdistrict_code) | handlers(dispute))],
        kind="dispute.red_risk",
        text=_("Red risk: dispute %(number)s (%(summary)s) may turn violent or collective."),
        params=_params(dispute),
        link=_link("disputes:detail", dispute.pk),
        obj=dispute,
        urgency="A",
        dedupe=f"dispute:{dispute.pk}:red",
    )


def mediators_assigned(dispute: Dispute, user_ids: set[int], actor: User | None) -> None:
    messaging.notify(
        actor=actor,
        recipients=[Recipient(u) for u in sorted(user_ids)],
        kind="dispute.assigned",
        text=_("You mediate dispute %(number)s: %(summary)s"),
        params=_params(dispute),
        link=_link("disputes:detail", dispute.pk),
        obj=dispute,
        dedupe=f"dispute:{dispute.pk}:assigned",
    )


def notice_landed(notice: PoliceNotice, actor: User | None) -> None:
    """A new police notice: the grid and community of its place (the subdistrict desk for an unplaced one)."""
    ids = users_on(notice.place_code, GROUND_ROLES)
    if notice.unplaced or not ids:
        ids |= subdistrict_desk(notice.place_code[:9])
    messaging.notify(
        actor=actor,
        recipients=[Recipient(u) for u in sorted(ids)],
        kind="police_notice.landed",
        text=_("Police notice %(number)s: %(title)s. Visit and answer by %(due)s."),
        params={"number": notice.number, "title": notice.title[:60], "due": f"{notice.due_at:%Y-%m-%d %H:%M}"},
        link=_link("disputes:notice", notice.pk),
        obj=notice,
        dedupe=f"police_notice:{notice.pk}:landed",
    )


def notice_moved(notice: PoliceNotice, action: str, actor: User | None) -> None:
    """The sender is told when the grid signs for it and when the feedback arrives; the grid when the sender
    cancels."""
    if action == "answer":
        ids = users_of_body(notice.from_body_id) | ({notice.filed_by_id} if notice.filed_by_id else set())
        messaging.notify(
            actor=actor,
            recipients=[Recipient(u) for u in sorted(ids)],
            kind="police_notice.answered",
            text=_("Police notice %(number)s answered: %(result)s."),
            params={"number": notice.number, "result": notice.get_result_display()},
            link=_link("disputes:notice", notice.pk),
            obj=notice,
            dedupe=f"police_notice:{notice.pk}:answered",
        )
    elif action == "receive":
        ids = users_of_body(notice.from_body_id) | ({notice.filed_by_id} if notice.filed_by_id else set())
        messaging.notify(
            actor=actor,
            recipients=[Recipient(u) for u in sorted(ids)],
            kind="police_notice.received",
            text=_("Police notice %(number)s was received by the grid; the visit is due by %(due)s."),
            params={"number": notice.number, "due": f"{notice.due_at:%Y-%m-%d %H:%M}"},
            link=_link("disputes:notice", notice.pk),
            obj=notice,
            dedupe=f"police_notice:{notice.pk}:received",
        )
    elif action == "cancel":
        messaging.notify(
            actor=actor,
            recipients=[Recipient(u) for u in sorted(users_on(notice.place_code, GROUND_ROLES))],
            kind="police_notice.landed",
            text=_("Police notice %(number)s was cancelled by its sender."),
            params={"number": notice.number},
            link=_link("disputes:notice", notice.pk),
            obj=notice,
            dedupe=f"police_notice:{notice.pk}:cancelled",
        )


def follow_up_due(follow_up: Any) -> None:
    """A performance follow-up is due: the dispute's handlers are told, once."""
    dispute = follow_up.dispute
    messaging.notify(
        actor=None,
        recipients=[Recipient(u) for u in sorted(handlers(dispute))],
        kind="dispute.follow_up",
        text=_("Dispute %(number)s (%(summary)s): the performance follow-up is due on %(due)s."),
        params=_params(dispute, due=follow_up.due_on.isoformat()),
        link=_link("disputes:detail", dispute.pk),
        obj=dispute,
        dedupe=f"dispute:{dispute.pk}:follow_up:{follow_up.pk}",
    )
