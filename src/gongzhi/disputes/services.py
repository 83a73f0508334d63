"""Writes of the disputes app: registering a dispute and its parties, mediators, risk, sessions, agreements and
follow-ups, revealing a party's contacts, and the police notices (filed by a body, answered by the grid).

Keyword-only arguments, the acting user explicit, one transaction each, audited (``core.audit``), told through
``messaging.services.notify``. A dispute's and a notice's status move only through ``disputes/workflow.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.disputes import ladder, notify, workflow
from gongzhi.disputes.choices import (
    OPEN_STATUSES,
    NoticeResult,
    PartyRole,
    Performance,
    Risk,
    SessionMode,
    SessionResult,
    Source,
    Status,
    TierKind,
)
from gongzhi.disputes.models import (
    SUBDISTRICT_CODE_LENGTH,
    Agreement,
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeMediator,
    Party,
    PoliceNotice,
    Session,
    SessionNote,
)

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.territory.models import Node

REPEAT_WINDOW = timedelta(days=365)
NOTICE_DEFAULT_DAYS = 3
DEFAULT_COMMITTEE = "人民调解委员会"
_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$|^[0-9]{15}$")


@dataclass(frozen=True)
class PartyIn:
    """A party as given: a registry person (``person_id``) or an outsider (name and contacts)."""

    role: str = PartyRole.APPLICANT
    person_id: int | None = None
    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    is_organisation: bool = False


# --- helpers ---------------------------------------------------------------------------------------------------------


def _next_number(model: Any, prefix: str, when: datetime) -> str:
    """``TJ2026000042``: the prefix, the year and a sequence within it."""
    head = f"{prefix}{when:%Y}"
    last = model.objects.filter(number__startswith=head).order_by("-number").values_list("number", flat=True).first()
    seq = int(last[len(head) :]) + 1 if last and last[len(head) :].isdigit() else 1
    return f"{head}{seq:06d}"


def _place(actor: User | None, *, node_id: int | None, lat: float | None, lng: float | None, address: str) -> Any:
    """Where it is: a given place (in the actor's view), else the one placement rule; unplaceable → the
    subdistrict, flagged. Returns ``(node, unplaced)``."""
    from gongzhi.cases.intake import place
    from gongzhi.territory.models import Node

    placed = place(lat=lat, lng=lng, address=address, node_id=node_id, actor=actor)
    node = Node.objects.select_related("lead_body").get(pk=placed.node.pk)
    return node, bool(placed.unplaced)


def _check_handler(actor: User, dispute: Dispute) -> None:
    """Writes on a dispute's record (parties, sessions, agreement) are for those handling it."""
    if not workflow.MACHINE.may_change(actor, dispute) or not workflow.is_handler(actor, dispute):
        raise Forbidden(fmt(_("Only those handling %(number)s may change its record."), number=dispute.number))


def _dispute_for_work(actor: User, dispute_id: int) -> Dispute:
    dispute = get_in_scope(Dispute, actor, dispute_id, queryset=Dispute.objects.select_related("node"))
    _check_handler(actor, dispute)
    return dispute


def _event(dispute: Dispute, actor: User | None, action: str, note: str = "", **data: Any) -> DisputeEvent:
    return DisputeEvent.objects.create(
        dispute=dispute,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor)[:60] if actor else workflow.SYSTEM,
        action=action,
        from_status=dispute.status,
        to_status=dispute.status,
        note=note,
        data=data,
    )


def _party_keys(p: Party | PartyIn) -> set[str]:
    keys = set()
    if p.person_id:
        keys.add(f"p:{p.person_id}")
    if p.phone.strip():
        keys.add(f"t:{p.phone.strip()}")
    if p.id_number.strip():
        keys.add(f"i:{p.id_number.strip().upper()}")
    return keys


def detect_repeat(dispute: Dispute) -> Dispute | None:
    """The latest earlier dispute of the same parties within a year before this one, or None. "The same parties": the
    earlier dispute has parties matching (by registry person, phone or ID number) at least two of this one's parties
    — or its only identifiable one. A configuration check, not a read for a user: not scoped."""
    parties = list(Party.objects.filter(dispute=dispute))
    identified = [p for p in parties if _party_keys(p)]
    if not identified:
        return None
    need = min(2, len(identified))
    q = Q(pk__in=[])
    for p in identified:
        if p.person_id:
            q |= Q(person_id=p.person_id)
        if p.phone.strip():
            q |= Q(phone=p.phone.strip())
        if p.id_number.strip():
            q |= Q(id_number__iexact=p.id_number.strip())
    since = dispute.received_at - REPEAT_WINDOW
    candidates = (
        Party.objects.filter(q)
        .exclude(dispute=dispute)
        .filter(dispute__received_at__gte=since, dispute__received_at__lte=dispute.received_at)
        .select_related("dispute")
    )
    matched: dict[int, set[int]] = {}
    earlier: dict[int, Dispute] = {}
    for other in candidates:
        keys = _party_keys(other)
        for mine in identified:
            if keys & _party_keys(mine):
                matched.setdefault(other.dispute_id, set()).add(mine.pk)
                earlier[other.dispute_id] = other.dispute
    hits = [earlier[i] for i, mine in matched.items() if len(mine) >= need]
    if not hits:
        return None
    return max(hits, key=lambda d: (d.received_at, d.pk))


def _refresh_repeat(dispute: Dispute) -> None:
    previous = detect_repeat(dispute)
    is_repeat, repeat_of = previous is not None, previous.pk if previous else None
    if (dispute.is_repeat, dispute.repeat_of_id) != (is_repeat, repeat_of):
        dispute.is_repeat, dispute.repeat_of_id = is_repeat, repeat_of
        dispute.save(update_fields=["is_repeat", "repeat_of", "updated_at"])


def _validate_party(p: PartyIn, row: int | None = None) -> list[ErrorDetail]:
    errors = []
    if p.role not in PartyRole.values:
        errors.append(ErrorDetail(field="role", row=row, message=fmt(_("one of %(values)s"),
                                                                     values=", ".join(PartyRole.values))))
    if not p.person_id and not p.name.strip():
        errors.append(ErrorDetail(field="name", row=row, message=_("a name, or a person of the registry")))
    if p.id_number.strip() and not _ID_NUMBER.match(p.id_number.strip()):
        errors.append(ErrorDetail(field="id_number", row=row, message=_("18 characters (or the old 15 digits)")))
    if len(p.name) > 60 or len(p.phone) > 20 or len(p.address) > 200:
        errors.append(ErrorDetail(field="name", row=row, message=_("too long")))
    return errors


def _make_party(actor: User, dispute: Dispute, p: PartyIn) -> Party:
    name, phone, id_number, address = p.name.strip(), p.phone.strip(), p.id_number.strip().upper(), p.address.strip()
    if p.person_id:
        from gongzhi.registry.models import Person

        person = get_in_scope(Person, actor, p.person_id)
        name = name or person.name
        phone = phone or person.phone
        id_number = id_number or (person.id_number or "")
    return Party.objects.create(
        dispute=dispute, role=p.role, person_id=p.person_id, name=name, phone=phone, id_number=id_number,
        address=address, is_organisation=p.is_organisation,
    )  # fmt: skip


def _mediator_users(user_ids: Iterable[int]) -> list[int]:
    """Users who can mediate: active, holding a role of the dispute ladder."""
    from gongzhi.accounts.models import RoleAssignment

    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return []
    ok = set(
        RoleAssignment.objects.filter(
            user_id__in=ids, is_active=True, user__is_active=True, role__in=sorted(workflow.MEDIATING_ROLES)
        ).values_list("user_id", flat=True)
    )
    missing = [i for i in ids if i not in ok]
    if missing:
        raise ValidationFailed(
            _("Not a mediator."),
            [ErrorDetail(field="mediator_ids", message=fmt(_("no mediating role: %(ids)s"),
                                                           ids=", ".join(map(str, missing))))],
        )
    return ids


def _assign(dispute: Dispute, user_ids: Sequence[int], lead_id: int | None = None) -> set[int]:
    """Add mediators (returns who is new)."""
    have = set(DisputeMediator.objects.filter(dispute=dispute).values_list("user_id", flat=True))
    new = [u for u in user_ids if u not in have]
    DisputeMediator.objects.bulk_create(
        [DisputeMediator(dispute=dispute, user_id=u, lead=(u == lead_id)) for u in new], ignore_conflicts=True
    )
    if lead_id is not None:
        DisputeMediator.objects.filter(dispute=dispute).exclude(user_id=lead_id).update(lead=False)
        DisputeMediator.objects.filter(dispute=dispute, user_id=lead_id).update(lead=True)
    return set(new)


# --- disputes --------------------------------------------------------------------------------------------------------


@transaction.atomic
def register_dispute(
    *,
    actor: User,
    kind_id: int,
    summary: str,
    facts: str = "",
    node_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    source: str = Source.WALK_IN,
    source_case_id: int | None = None,
    source_notice_id: int | None = None,
    risk: str = Risk.GREEN,
    parties: Sequence[PartyIn] = (),
    mediator_ids: Sequence[int] = (),
    linked_case_ids: Sequence[int] = (),
    received_at: datetime | None = None,
    start_at: str | None = None,
) -> Dispute:
    """Register a dispute at its place (unplaceable: the subdistrict, flagged), on the ladder's first tier (or the
    station: ``start_at="station"``, a walk-in at the station) — a red risk at least at the station, the subdistrict
    told. Its parties, mediators (a mediator who registers it, when none is named) and linked cases; the repeat
    flag."""
    details: list[ErrorDetail] = []
    kind = DisputeKind.objects.filter(pk=kind_id, is_active=True).first()
    if kind is None:
        details.append(ErrorDetail(field="kind_id", message=_("an active kind of dispute")))
    if not summary.strip():
        details.append(ErrorDetail(field="summary", message=_("what the dispute is about")))
    elif len(summary) > 200:
        details.append(ErrorDetail(field="summary", message=_("at most 200 characters")))
    if risk not in Risk.values:
        details.append(ErrorDetail(field="risk", message=fmt(_("one of %(values)s"), values=", ".join(Risk.values))))
    if source not in Source.values:
        details.append(
            ErrorDetail(field="source", message=fmt(_("one of %(values)s"), values=", ".join(Source.values)))
        )
    if start_at not in (None, "", TierKind.ON_SITE, TierKind.STATION):
        details.append(ErrorDetail(field="start_at", message=fmt(_("one of %(values)s"), values="on_site, station")))
    for i, p in enumerate(parties):
        details += _validate_party(p, row=i + 1)
    if details:
        raise ValidationFailed(_("The dispute cannot be registered."), details)
    assert kind is not None
    node, unplaced = _place(actor, node_id=node_id, lat=lat, lng=lng, address=address)
    if not reaches(actor, "disputes.dispute", "add", node):
        raise Forbidden(_("You may not register a dispute at this place."))
    source_case = None
    if source_case_id:
        from gongzhi.cases.models import Case

        source_case = get_in_scope(Case, actor, source_case_id)
    notice = get_in_scope(PoliceNotice, actor, source_notice_id) if source_notice_id else None
    now = timezone.now()
    received = received_at or now
    sub_code = node.code[:SUBDISTRICT_CODE_LENGTH]
    dispute = Dispute(
        kind=kind, summary=summary.strip(), facts=facts.strip(), status=workflow.create_status(), risk=risk,
        source=source, source_case=source_case, source_notice=notice, node=node, place_code=node.code,
        subdistrict_code=sub_code, unplaced=unplaced, address=address.strip()[:200], registered_by=actor,
        received_at=received,
    )  # fmt: skip
    station = risk == Risk.RED or start_at == TierKind.STATION
    tier = ladder.first_tier(sub_code, at_least=TierKind.STATION if station else None)
    ladder.put_on_tier(dispute, tier)
    for attempt in range(3):
        dispute.number = _next_number(Dispute, "TJ", received)
        try:
            with transaction.atomic():
                dispute.save()
            break
        except IntegrityError:
            if attempt == 2:
                raise
    for p in parties:
        _make_party(actor, dispute, p)
    if not mediator_ids and actor.has_role(Role.MEDIATOR, Role.DEPARTMENT_HANDLER):
        mediator_ids = [actor.pk]  # a mediator (or a referral body's handler) taking one in mediates it
    _assign(dispute, _mediator_users(mediator_ids), lead_id=mediator_ids[0] if mediator_ids else None)
    if linked_case_ids or source_case is not None:
        from gongzhi.cases.models import Case

        linked = [get_in_scope(Case, actor, i) for i in linked_case_ids]
        dispute.linked_cases.add(*linked, *([source_case] if source_case else []))
    _refresh_repeat(dispute)
    DisputeEvent.objects.create(
        dispute=dispute, at=now, actor=actor, actor_label=str(actor)[:60], action="register",
        to_status=dispute.status, data={"tier": dispute.tier, "risk": risk, "source": source},
    )  # fmt: skip
    audit.record(
        actor=actor, action="disputes.register", obj=dispute, node_code=dispute.place_code,
        after={"number": dispute.number, "node": node.pk, "unplaced": unplaced, "tier": dispute.tier, "risk": risk,
               "parties": len(parties), "repeat": dispute.is_repeat},
    )  # fmt: skip
    notify.dispute_registered(dispute, actor)
    return dispute


@transaction.atomic
def add_party(
    *,
    actor: User,
    dispute_id: int,
    role: str,
    person_id: int | None = None,
    name: str = "",
    phone: str = "",
    id_number: str = "",
    address: str = "",
    is_organisation: bool = False,
) -> Party:
    dispute = _dispute_for_work(actor, dispute_id)
    p = PartyIn(role, person_id, name, phone, id_number, address, is_organisation)
    details = _validate_party(p)
    if details:
        raise ValidationFailed(_("The party cannot be added."), details)
    party = _make_party(actor, dispute, p)
    _refresh_repeat(dispute)
    _event(dispute, actor, "party", role=role)
    audit.record(actor=actor, action="disputes.add_party", obj=party, node_code=dispute.place_code,
                 after={"dispute": dispute.pk, "role": role, "person": person_id})  # fmt: skip
    return party


@transaction.atomic
def reveal_party(*, actor: User, party_id: int) -> dict[str, str]:
    """A party's phone and ID number in full: for those who may reveal them (or its assigned mediators); audited."""
    party = get_in_scope(Party, actor, party_id, queryset=Party.objects.select_related("dispute"))
    allowed = Party.objects.restrict(actor, "reveal").filter(pk=party.pk).exists() or workflow.is_mediator(
        actor, party.dispute
    )
    if not allowed:
        raise Forbidden(_("You may not see this party's contacts in full."))
    audit.record(actor=actor, action="disputes.reveal_party", obj=party, node_code=party.dispute.place_code,
                 after={"fields": ["phone", "id_number"]})  # fmt: skip
    return {"phone": party.phone, "id_number": party.id_number}


@transaction.atomic
def assign_mediators(
    *, actor: User, dispute_id: int, user_ids: Sequence[int], lead_id: int | None = None
) -> list[int]:
    """Assign mediators (they then see its parties and notes, and are told). Returns the assigned ids."""
    dispute = _dispute_for_work(actor, dispute_id)
    ids = _mediator_users(user_ids)
    if lead_id is not None and lead_id not in ids:
        ids = _mediator_users([*ids, lead_id])
    new = _assign(dispute, ids, lead_id)
    if new:
        _event(dispute, actor, "assign", users=",".join(map(str, sorted(new))))
        audit.record(actor=actor, action="disputes.assign", obj=dispute, node_code=dispute.place_code,
                     after={"mediators": sorted(new), "lead": lead_id})  # fmt: skip
        notify.mediators_assigned(dispute, new, actor)
    return sorted(DisputeMediator.objects.filter(dispute=dispute).values_list("user_id", flat=True))


@transaction.atomic
def set_risk(*, actor: User, dispute_id: int, risk: str, note: str = "") -> Dispute:
    """Change the risk. Red on an open dispute below the station takes it to the station (an automatic,
    recorded escalation) and tells the subdistrict."""
    dispute = get_in_scope(Dispute, actor, dispute_id, queryset=Dispute.objects.select_related("node"))
    if not workflow.MACHINE.may_change(actor, dispute):
        raise Forbidden(_("You may see this dispute but not act on it."))
    if risk not in Risk.values:
        raise ValidationFailed(
            _("Unknown risk."), [ErrorDetail(field="risk", message=fmt(_("one of %(values)s"),
                                                                        values=", ".join(Risk.values)))]
        )
    before = dispute.risk
    if before == risk:
        return dispute
    Dispute.objects.filter(pk=dispute.pk).update(risk=risk, updated_at=timezone.now())
    dispute.risk = risk
    _event(dispute, actor, "risk", note, risk=risk, was=before)
    audit.record(actor=actor, action="disputes.risk", obj=dispute, node_code=dispute.place_code,
                 before={"risk": before}, after={"risk": risk}, note=note)  # fmt: skip
    if risk == Risk.RED:
        station = ladder.station_tier(dispute.subdistrict_code)
        if dispute.status in OPEN_STATUSES and station is not None and dispute.tier < station.level:
            reason = note or str(_("Red risk: taken to the station."))
            dispute = workflow.MACHINE.perform(
                actor=None, pk=dispute.pk, action="escalate", note=reason,
                payload={"to_kind": TierKind.STATION, "automatic": True, "_note": reason},
                actor_label=str(actor)[:60],
            )  # fmt: skip
        notify.red_risk(dispute, actor)
    return dispute


@transaction.atomic
def link_case(*, actor: User, dispute_id: int, case_id: int) -> Dispute:
    from gongzhi.cases.models import Case

    dispute = _dispute_for_work(actor, dispute_id)
    case = get_in_scope(Case, actor, case_id)
    dispute.linked_cases.add(case)
    _event(dispute, actor, "link_case", case=case.number)
    audit.record(actor=actor, action="disputes.link_case", obj=dispute, node_code=dispute.place_code,
                 after={"case": case.pk})  # fmt: skip
    return dispute


@transaction.atomic
def record_session(
    *,
    actor: User,
    dispute_id: int,
    held_at: datetime,
    mode: str = SessionMode.FACE_TO_FACE,
    where: str = "",
    mediator_ids: Sequence[int] = (),
    attendee_ids: Sequence[int] = (),
    summary: str = "",
    result: str = "",
    private_notes: str = "",
) -> Session:
    """Record a mediation session (a registered dispute's mediation starts with its first session). Its mediators
    are assigned to the dispute; its private notes are kept apart (only the mediators and the station read them)."""
    dispute = _dispute_for_work(actor, dispute_id)
    details = []
    if mode not in SessionMode.values:
        details.append(ErrorDetail(field="mode", message=fmt(_("one of %(values)s"),
                                                             values=", ".join(SessionMode.values))))
    if result and result not in SessionResult.values:
        details.append(ErrorDetail(field="result", message=fmt(_("one of %(values)s"),
                                                               values=", ".join(SessionResult.values))))
    attendees = list(Party.objects.filter(dispute=dispute, pk__in=list(attendee_ids)))
    if len(attendees) != len(set(attendee_ids)):
        details.append(ErrorDetail(field="attendee_ids", message=_("parties of this dispute")))
    if details:
        raise ValidationFailed(_("The session cannot be recorded."), details)
    if dispute.status not in OPEN_STATUSES:
        raise Conflict(fmt(_("Dispute %(number)s is %(status)s: no more sessions."), number=dispute.number,
                           status=dispute.get_status_display()))  # fmt: skip
    if dispute.status == Status.REGISTERED:
        dispute = workflow.perform(actor=actor, dispute_id=dispute.pk, action="start")
    mediators = _mediator_users(mediator_ids) if mediator_ids else [actor.pk]
    session = Session.objects.create(
        dispute=dispute, tier=dispute.tier, held_at=held_at, where=where.strip()[:200], mode=mode,
        summary=summary.strip(), result=result, recorded_by=actor,
    )  # fmt: skip
    session.mediators.set(mediators)
    session.attendees.set(attendees)
    if private_notes.strip():
        SessionNote.objects.create(session=session, text=private_notes.strip(), author=actor)
    _assign(dispute, mediators)
    _event(dispute, actor, "session", mode=mode, result=result, session=session.pk)
    audit.record(actor=actor, action="disputes.session", obj=session, node_code=dispute.place_code,
                 after={"dispute": dispute.pk, "mode": mode, "result": result, "mediators": mediators,
                        "attendees": [a.pk for a in attendees], "notes": bool(private_notes.strip())})  # fmt: skip
    return session


def _clean_terms(terms: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    out, details = [], []
    for i, term in enumerate(terms, start=1):
        text = str(term.get("text") or "").strip()
        how = str(term.get("how") or "").strip()
        by = str(term.get("by") or "").strip()
        if not text:
            details.append(ErrorDetail(field="terms", row=i, message=_("what is agreed")))
        if by:
            try:
                date.fromisoformat(by)
            except ValueError:
                details.append(ErrorDetail(field="terms", row=i, message=_("by: a date (YYYY-MM-DD)")))
        out.append({"text": text, "how": how, "by": by})
    if not out:
        details.append(ErrorDetail(field="terms", message=_("at least one agreed term")))
    if details:
        raise ValidationFailed(_("The agreement's terms are incomplete."), details)
    return out


@transaction.atomic
def draft_agreement(
    *,
    actor: User,
    dispute_id: int,
    terms: Sequence[dict[str, Any]],
    facts: str = "",
    performance: str = "",
    committee: str = "",
    follow_up_days: int | None = None,
) -> Agreement:
    """Write (or rewrite, while unsigned) the dispute's 人民调解协议书: facts, terms (``text``, ``how``, ``by``), the
    manner of performance, the committee. Signing is the workflow's ``agree``."""
    dispute = _dispute_for_work(actor, dispute_id)
    if dispute.status not in OPEN_STATUSES:
        raise Conflict(fmt(_("Dispute %(number)s is %(status)s: no agreement to draft."), number=dispute.number,
                           status=dispute.get_status_display()))  # fmt: skip
    cleaned = _clean_terms(terms)
    days = follow_up_days if follow_up_days is not None else dispute.kind.follow_up_days
    if days < 1 or days > 365:
        raise ValidationFailed(_("Follow up between 1 and 365 days."),
                               [ErrorDetail(field="follow_up_days", message=_("1 to 365"))])  # fmt: skip
    agreement = Agreement.objects.filter(dispute=dispute, signed_on__isnull=True).order_by("-pk").first()
    created = agreement is None
    if agreement is None:
        agreement = Agreement(dispute=dispute, number=f"{dispute.number}-{dispute.agreements.count() + 1}")
    agreement.facts = facts.strip() or dispute.facts or dispute.summary
    agreement.terms = cleaned
    agreement.performance = performance.strip()
    agreement.committee = committee.strip() or _committee_of(dispute)
    agreement.follow_up_days = days
    agreement.mediator = actor if workflow.is_mediator(actor, dispute) else agreement.mediator
    if agreement.mediator is None:
        lead = DisputeMediator.objects.filter(dispute=dispute).order_by("-lead", "pk").first()
        agreement.mediator_id = lead.user_id if lead else actor.pk
    agreement.save()
    _event(dispute, actor, "agreement_drafted", agreement=agreement.pk)
    audit.record(actor=actor, action="disputes.draft_agreement", obj=agreement, node_code=dispute.place_code,
                 after={"terms": len(cleaned), "created": created})  # fmt: skip
    return agreement


def _committee_of(dispute: Dispute) -> str:
    """The mediation committee named on the agreement: the community's (or village's) 人民调解委员会 on site, the
    subdistrict's at the station and beyond."""
    from gongzhi.territory.models import Node

    code = dispute.place_code[:12] if dispute.tier_kind == TierKind.ON_SITE and len(dispute.place_code) >= 12 else (
        dispute.subdistrict_code
    )
    node = Node.objects.filter(code=code).first()
    return f"{node.name}{DEFAULT_COMMITTEE}" if node else DEFAULT_COMMITTEE


def sign_agreement(
    *,
    actor: User,
    dispute_id: int,
    agreement_id: int | None = None,
    signed_on: date | None = None,
    signed_party_ids: Sequence[int] = (),
    note: str = "",
) -> Dispute:
    """The parties signed: the workflow's ``agree`` (the follow-up is then due)."""
    payload: dict[str, Any] = {"agreement_id": agreement_id, "signed_party_ids": list(signed_party_ids)}
    if signed_on is not None:
        payload["signed_on"] = signed_on.isoformat()
    return workflow.perform(actor=actor, dispute_id=dispute_id, action="agree", note=note, payload=payload)


def record_follow_up(*, actor: User, dispute_id: int, performance: str, note: str = "") -> Dispute:
    """The performance follow-up (履行回访): performed (or partly) closes the dispute; not performed reopens the
    mediation (a note required)."""
    if performance not in Performance.values:
        raise ValidationFailed(
            _("Was it performed?"),
            [ErrorDetail(field="performance", message=fmt(_("one of %(values)s"),
                                                          values=", ".join(Performance.values)))],
        )
    action = "reopen" if performance == Performance.NOT_PERFORMED else "close"
    return workflow.perform(
        actor=actor, dispute_id=dispute_id, action=action, note=note, payload={"performance": performance}
    )


# --- police notices --------------------------------------------------------------------------------------------------


def _sender_bodies(actor: User) -> set[int]:
    from gongzhi.accounts.models import RoleAssignment

    return set(
        RoleAssignment.objects.filter(
            user=actor, is_active=True, role__in=sorted(workflow.SENDERS), body__isnull=False
        ).values_list("body_id", flat=True)
    )


@transaction.atomic
def file_police_notice(
    *,
    actor: User,
    title: str,
    ask: str,
    happened_at: datetime | None = None,
    description: str = "",
    node_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    people: str = "",
    people_phone: str = "",
    due_at: datetime | None = None,
    from_body_id: int | None = None,
) -> PoliceNotice:
    """A body (the police station; any body that sends notices down) files a notice: it lands with the grid and
    community of its place (unplaceable: the subdistrict desk), due by ``due_at`` (three days by default)."""
    from gongzhi.territory.models import Body, Node

    bodies = _sender_bodies(actor)
    if actor.is_superuser and from_body_id:
        bodies.add(from_body_id)
    if not bodies:
        raise Forbidden(_("Only a body that sends notices down (the police station) files police notices."))
    if from_body_id is None and len(bodies) == 1:
        from_body_id = next(iter(bodies))
    if from_body_id not in bodies:
        raise ValidationFailed(
            _("From which body?"),
            [ErrorDetail(field="from_body_id", message=fmt(_("one of %(ids)s"), ids=", ".join(map(str, bodies))))],
        )
    details = []
    if not title.strip():
        details.append(ErrorDetail(field="title", message=_("what happened")))
    if not ask.strip():
        details.append(ErrorDetail(field="ask", message=_("what the grid should do")))
    now = timezone.now()
    happened = happened_at or now
    due = due_at or now + timedelta(days=NOTICE_DEFAULT_DAYS)
    if due <= now:
        details.append(ErrorDetail(field="due_at", message=_("a time in the future")))
    if len(title) > 200 or len(address) > 200 or len(people_phone) > 20:
        details.append(ErrorDetail(field="title", message=_("too long")))
    if details:
        raise ValidationFailed(_("The police notice cannot be filed."), details)
    body = Body.objects.select_related("node").get(pk=from_body_id)
    home = body.node.code[:SUBDISTRICT_CODE_LENGTH] if body.node is not None else ""
    node: Node
    if node_id is not None:
        found = Node.objects.select_related("lead_body").filter(pk=node_id).first()
        if found is None or (home and not found.code.startswith(home)):
            raise ValidationFailed(
                _("The place is not on your ground."), [ErrorDetail(field="node_id", message=_("a place you serve"))]
            )
        node, unplaced = found, False
    else:
        node, unplaced = _place(None, node_id=None, lat=lat, lng=lng, address=address)
    notice = PoliceNotice(
        from_body=body, filed_by=actor, title=title.strip(), description=description.strip(), happened_at=happened,
        node=node, place_code=node.code, unplaced=unplaced, address=address.strip(), people=people.strip(),
        people_phone=people_phone.strip(), ask=ask.strip(), due_at=due, status=workflow.notice_create_status(),
    )  # fmt: skip
    for attempt in range(3):
        notice.number = _next_number(PoliceNotice, "JQ", happened)
        try:
            with transaction.atomic():
                notice.save()
            break
        except IntegrityError:
            if attempt == 2:
                raise
    audit.record(
        actor=actor, action="disputes.police_notice.file", obj=notice, node_code=notice.place_code,
        after={"number": notice.number, "node": node.pk, "unplaced": unplaced, "from_body": body.pk,
               "due_at": due.isoformat()},
    )  # fmt: skip
    notify.notice_landed(notice, actor)
    return notice


def receive_police_notice(*, actor: User, notice_id: int) -> PoliceNotice:
    """The grid signs for a notice (it will visit)."""
    return workflow.perform_notice(actor=actor, notice_id=notice_id, action="receive")


@transaction.atomic
def answer_police_notice(
    *,
    actor: User,
    notice_id: int,
    result: str,
    feedback: str,
    visited_at: datetime | None = None,
    dispute_kind_id: int | None = None,
    dispute_summary: str = "",
    dispute_risk: str = Risk.GREEN,
    parties: Sequence[PartyIn] = (),
    case_id: int | None = None,
    case_category_id: int | None = None,
) -> PoliceNotice:
    """The grid's feedback after the visit: resolved, nothing to do, became a dispute (registered here, from the
    notice, at its place) or became a case (an existing one, or reported here). The sender is told."""
    notice = get_in_scope(PoliceNotice, actor, notice_id)
    payload: dict[str, Any] = {"result": result}
    if visited_at is not None:
        payload["visited_at"] = visited_at.isoformat()
    if result == NoticeResult.DISPUTE:
        if not dispute_kind_id:
            raise ValidationFailed(
                _("Which kind of dispute?"), [ErrorDetail(field="dispute_kind_id", message=_("required"))]
            )
        dispute = register_dispute(
            actor=actor, kind_id=dispute_kind_id, summary=dispute_summary or notice.title, facts=notice.description,
            node_id=notice.node_id, source=Source.POLICE, source_notice_id=notice.pk, risk=dispute_risk,
            parties=parties,
        )  # fmt: skip
        payload["dispute_id"] = dispute.pk
    elif result == NoticeResult.CASE:
        from gongzhi.cases import intake
        from gongzhi.cases.choices import Channel
        from gongzhi.cases.models import Case

        if case_id:
            case = get_in_scope(Case, actor, case_id)
        elif case_category_id:
            case = intake.report_case(
                actor=actor, channel=Channel.POLICE, title=notice.title[:200], category_id=case_category_id,
                description=f"{notice.number}：{notice.description}\n{feedback}".strip(), node_id=notice.node_id,
            )  # fmt: skip
        else:
            raise ValidationFailed(
                _("Which case?"),
                [ErrorDetail(field="case_id", message=_("a case's id, or case_category_id to report one"))],
            )
        payload["case_id"] = case.pk
    return workflow.perform_notice(actor=actor, notice_id=notice.pk, action="answer", note=feedback, payload=payload)


def cancel_police_notice(*, actor: User, notice_id: int, note: str) -> PoliceNotice:
    return workflow.perform_notice(actor=actor, notice_id=notice_id, action="cancel", note=note)


def agreement_document(*, actor: User, agreement_id: int, reveal: bool = False) -> tuple[str, bytes]:
    """The agreement as a .docx: ``(file name, bytes)``. Contacts masked unless ``reveal`` (and the right to reveal
    the dispute's parties); every download is audited."""
    from gongzhi.disputes import document, selectors

    doc = selectors.agreement_doc(user=actor, agreement_id=agreement_id)
    agreement = Agreement.objects.select_related("dispute").get(pk=agreement_id)
    if reveal and not (
        Party.objects.restrict(actor, "reveal").filter(dispute_id=agreement.dispute_id).exists()
        or workflow.is_mediator(actor, agreement.dispute)
    ):
        raise Forbidden(_("You may not see this party's contacts in full."))
    data = document.render(doc, reveal=reveal)
    audit.record(actor=actor, action="disputes.agreement_document", obj=agreement,
                 node_code=agreement.dispute.place_code, after={"reveal": reveal})  # fmt: skip
    return f"{agreement.number}.docx", data


def remind_follow_ups(*, today: date | None = None) -> int:
    """Tell the handlers of each agreement whose performance follow-up is due (once per follow-up): the scheduler's
    ``dispute_follow_ups`` job. Returns how many follow-ups were due."""
    from gongzhi.disputes.models import FollowUp

    today = today or timezone.localdate()
    due = FollowUp.objects.filter(done_at__isnull=True, due_on__lte=today, dispute__status=Status.AGREED)
    count = 0
    for follow_up in due.select_related("dispute"):
        with transaction.atomic():
            notify.follow_up_due(follow_up)
        count += 1
    return count


@transaction.atomic
def reveal_notice_phone(*, actor: User, notice_id: int) -> str:
    """The contact phone of a police notice in full (the grid that visits, the sender): audited."""
    notice = get_in_scope(PoliceNotice, actor, notice_id, "reveal")
    audit.record(actor=actor, action="disputes.police_notice.reveal", obj=notice, node_code=notice.place_code,
                 after={"fields": ["people_phone"]})  # fmt: skip
    return notice.people_phone
