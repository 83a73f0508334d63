"""Reads of the disputes app, each starting from ``restrict`` (out of scope: 404 on one object), and the figures the
KPI dashboard shows: each :class:`Figure` carries its value and the queryset behind it, so a figure opens exactly the
disputes (or notices) it counts — the same filter, never a second one written apart.

Privacy: parties (and agreements) are rows of the handling circle, session notes of the mediators and the station
(``models.DisputeRule``); :func:`parties_of` and :func:`sessions_of` say how many there are to those outside it,
and mask contacts for everyone until revealed (``services.reveal_party``, audited).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from gongzhi.core.access import get_in_scope
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.core.scope import scope_of
from gongzhi.disputes.choices import (
    NOTICE_OPEN_STATUSES,
    OPEN_STATUSES,
    SUCCESS_STATUSES,
    NoticeStatus,
    Risk,
    Status,
)
from gongzhi.disputes.models import (
    NOTES,
    PARTIES,
    Agreement,
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeMediator,
    DisputeRule,
    Escalation,
    FollowUp,
    Party,
    PoliceNotice,
    Session,
    SessionNote,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

COMMUNITY_CODE_LENGTH = 12
ENDED = (Status.AGREED, Status.CLOSED, Status.UNRESOLVED)  # mediation came to an end (withdrawn ones do not count)


# --- disputes --------------------------------------------------------------------------------------------------------


def kinds() -> QuerySet[DisputeKind]:
    return DisputeKind.objects.filter(is_active=True)


def dispute_list(
    *,
    user: User,
    status: str | Sequence[str] | None = None,
    kind_id: int | None = None,
    risk: str | None = None,
    tier: int | None = None,
    node_code: str | None = None,
    repeat: bool | None = None,
    mine: bool = False,
    q: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Dispute]:
    """The disputes ``user`` sees, filtered. ``mine``: those the user mediates."""
    qs = Dispute.objects.restrict(user, "view").select_related("kind", "node", "handler_body")
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    if kind_id:
        qs = qs.filter(kind_id=kind_id)
    if risk:
        qs = qs.filter(risk=risk)
    if tier:
        qs = qs.filter(tier=tier)
    if node_code:
        from gongzhi.core.scope import code_prefix_q

        qs = qs.filter(code_prefix_q("place_code", node_code))
    if repeat is not None:
        qs = qs.filter(is_repeat=repeat)
    if mine:
        qs = qs.filter(pk__in=DisputeMediator.objects.filter(user_id=user.pk).values("dispute_id"))
    if q.strip():
        qs = qs.filter(Q(number__icontains=q.strip()) | Q(summary__icontains=q.strip()))
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    if until is not None:
        qs = qs.filter(received_at__lt=until)
    return qs


def dispute_get(*, user: User, dispute_id: int) -> Dispute:
    return get_in_scope(
        Dispute,
        user,
        dispute_id,
        queryset=Dispute.objects.select_related("kind", "node", "handler_body", "handler_node", "source_notice"),
    )


def mediators_of(*, user: User, dispute: Dispute) -> list[Any]:
    """The assigned mediators (users), the lead first."""
    rows = DisputeMediator.objects.restrict(user, "view").filter(dispute=dispute).select_related("user")
    return [r.user for r in rows.order_by("-lead", "pk")]


def is_assigned(*, user: User, dispute: Dispute) -> bool:
    return DisputeMediator.objects.filter(dispute=dispute, user_id=user.pk).exists()


@dataclass(frozen=True)
class PartyView:
    """A party as shown: contacts masked (revealed only through ``services.reveal_party``)."""

    id: int
    role: str
    role_label: str
    name: str
    phone: str
    id_number: str
    address: str
    person_id: int | None
    is_organisation: bool


@dataclass(frozen=True)
class Parties:
    visible: bool  # in the handling circle
    count: int
    parties: list[PartyView] = field(default_factory=list)


def parties_of(*, user: User, dispute: Dispute) -> Parties:
    """The dispute's parties for ``user``: in the handling circle, each with masked contacts; outside it, only how
    many there are."""
    count = Party.objects.filter(dispute=dispute).count()
    rows = Party.objects.restrict(user, "view").filter(dispute=dispute)
    if not rows.exists():
        return Parties(False, count)
    return Parties(
        True,
        count,
        [
            PartyView(
                p.pk, p.role, str(p.get_role_display()), p.name, mask_phone(p.phone), mask_id_number(p.id_number),
                p.address, p.person_id, p.is_organisation,
            )
            for p in rows.order_by("role", "pk")
        ],
    )


def party_get(*, user: User, party_id: int) -> Party:
    return get_in_scope(Party, user, party_id, queryset=Party.objects.select_related("dispute"))


@dataclass(frozen=True)
class SessionView:
    session: Session
    mediators: list[Any]
    attendee_ids: list[int]
    notes: str | None  # None: not for this reader (or none written)
    notes_visible: bool


def sessions_of(*, user: User, dispute: Dispute) -> list[SessionView]:
    """The dispute's sessions; the private notes only for the assigned mediators and the station."""
    sessions = list(
        Session.objects.restrict(user, "view").filter(dispute=dispute).prefetch_related("mediators", "attendees")
    )
    notes = {
        n.session_id: n.text
        for n in SessionNote.objects.restrict(user, "view").filter(session__dispute=dispute)
    }
    may_notes = in_circle(user=user, dispute=dispute, circle=NOTES)
    return [
        SessionView(s, list(s.mediators.all()), [a.pk for a in s.attendees.all()], notes.get(s.pk), may_notes)
        for s in sessions
    ]


def in_circle(*, user: User, dispute: Dispute, circle: str) -> bool:
    """Is ``user`` in the dispute's circle (``models.PARTIES``: sees its parties; ``models.NOTES``: its notes)?"""
    scope = scope_of(user, Party if circle == PARTIES else SessionNote, "view")
    if scope.is_empty:
        return False
    return Dispute.objects.filter(pk=dispute.pk).filter(DisputeRule(circle=circle).q(scope)).exists()


def sessions_between(*, user: User, start: datetime, end: datetime, mine: bool = True) -> QuerySet[Session]:
    """Sessions in a time window (the mediator's week): of the disputes the user mediates, or all they see."""
    qs = Session.objects.restrict(user, "view").filter(held_at__gte=start, held_at__lt=end)
    if mine:
        qs = qs.filter(dispute__in=DisputeMediator.objects.filter(user_id=user.pk).values("dispute_id"))
    return qs.select_related("dispute").order_by("held_at")


def agreements_of(*, user: User, dispute: Dispute) -> QuerySet[Agreement]:
    return Agreement.objects.restrict(user, "view").filter(dispute=dispute).prefetch_related("signed_by")


def agreement_get(*, user: User, agreement_id: int) -> Agreement:
    return get_in_scope(
        Agreement, user, agreement_id, queryset=Agreement.objects.select_related("dispute", "dispute__kind", "mediator")
    )


def timeline_of(*, user: User, dispute: Dispute) -> QuerySet[DisputeEvent]:
    return DisputeEvent.objects.restrict(user, "view").filter(dispute=dispute).order_by("at", "pk")


def escalations_of(*, user: User, dispute: Dispute) -> QuerySet[Escalation]:
    return Escalation.objects.restrict(user, "view").filter(dispute=dispute).select_related("to_body")


def follow_ups_of(*, user: User, dispute: Dispute) -> QuerySet[FollowUp]:
    return FollowUp.objects.restrict(user, "view").filter(dispute=dispute)


def follow_ups_due(*, user: User, until: date | None = None, mine: bool = False) -> QuerySet[FollowUp]:
    """Follow-ups not done, due by ``until`` (today by default): the mediator's desk."""
    until = until or timezone.localdate()
    qs = FollowUp.objects.restrict(user, "view").filter(done_at__isnull=True, due_on__lte=until)
    if mine:
        qs = qs.filter(dispute__in=DisputeMediator.objects.filter(user_id=user.pk).values("dispute_id"))
    return qs.select_related("dispute").order_by("due_on", "pk")


# --- police notices --------------------------------------------------------------------------------------------------


def notice_list(
    *,
    user: User,
    status: str | Sequence[str] | None = None,
    overdue: bool | None = None,
    sent_by_me: bool = False,
    now: datetime | None = None,
) -> QuerySet[PoliceNotice]:
    """The police notices ``user`` sees: the grid's (landed on its ground), the station's own (``sent_by_me``: only
    those of the user's bodies)."""
    now = now or timezone.now()
    qs = PoliceNotice.objects.restrict(user, "view").select_related("from_body", "node")
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    if overdue is True:
        qs = qs.filter(status__in=NOTICE_OPEN_STATUSES, due_at__lt=now)
    elif overdue is False:
        qs = qs.exclude(status__in=NOTICE_OPEN_STATUSES, due_at__lt=now)
    if sent_by_me:
        bodies = user.scope_for("disputes.policenotice", "view").bodies
        qs = qs.filter(from_body_id__in=sorted(bodies))
    return qs


def notice_get(*, user: User, notice_id: int) -> PoliceNotice:
    return get_in_scope(
        PoliceNotice, user, notice_id, queryset=PoliceNotice.objects.select_related("from_body", "node", "case")
    )


def notice_disputes(*, user: User, notice: PoliceNotice) -> QuerySet[Dispute]:
    return Dispute.objects.restrict(user, "view").filter(source_notice=notice)


# --- figures ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A figure and what it counts: ``value`` is computed from ``queryset`` (``len(queryset)`` for a count; the
    numerator's queryset for a rate, with ``denominator`` the base's)."""

    key: str
    value: float | int | None
    queryset: QuerySet[Any]
    label: str = ""
    denominator: QuerySet[Any] | None = None
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _base(user: User, since: datetime | None, until: datetime | None, node_code: str | None) -> QuerySet[Dispute]:
    return dispute_list(user=user, since=since, until=until, node_code=node_code)


def by_kind(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> list[Figure]:
    base = _base(user, since, until, node_code)
    rows = base.values("kind_id", "kind__name").annotate(n=Count("pk")).order_by("-n", "kind_id")
    return [Figure(f"kind:{r['kind_id']}", r["n"], base.filter(kind_id=r["kind_id"]), r["kind__name"], count=r["n"])
            for r in rows]  # fmt: skip


def by_place(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None,
    length: int = COMMUNITY_CODE_LENGTH,
) -> list[Figure]:  # fmt: skip
    """Per community (``length`` 12) or grid (15): the code prefix of the place; unplaced ones on the subdistrict."""
    from gongzhi.core.scope import code_prefix_q
    from gongzhi.territory.models import Node

    base = _base(user, since, until, node_code)
    rows = base.annotate(area=Substr("place_code", 1, length)).values("area").annotate(n=Count("pk")).order_by("area")
    names = dict(Node.objects.filter(code__in=[r["area"] for r in rows]).values_list("code", "name"))
    out = []
    for r in rows:
        code = r["area"]
        qs = base.filter(code_prefix_q("place_code", code)) if len(code) == length else base.filter(place_code=code)
        out.append(Figure(f"place:{code}", r["n"], qs, names.get(code, code), count=r["n"]))
    return out


def by_month(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> list[Figure]:
    base = _base(user, since, until, node_code)
    tz = timezone.get_current_timezone()
    rows = base.annotate(m=TruncMonth("received_at", tzinfo=tz)).values("m").annotate(n=Count("pk")).order_by("m")
    out = []
    for r in rows:
        start = r["m"]
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append(Figure(f"month:{start:%Y-%m}", r["n"], base.filter(received_at__gte=start, received_at__lt=end),
                          f"{start:%Y-%m}", count=r["n"]))  # fmt: skip
    return out


def success_rate(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> Figure:
    """Mediation success: of the disputes whose mediation ended (agreement, or none), the share with an agreement."""
    base = _base(user, since, until, node_code)
    ended = base.filter(status__in=ENDED)
    won = base.filter(status__in=SUCCESS_STATUSES)
    n, d = won.count(), ended.count()
    return Figure("success_rate", (n / d) if d else None, won, denominator=ended, count=n)


def _percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (P50 of [1, 2, 3, 4] is 2)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]


def cycle_time(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> Figure:
    """Days from intake to the signed agreement, over the disputes agreed in the period: median (``value``) and P90
    (``extra["p90"]``)."""
    qs = Dispute.objects.restrict(user, "view").filter(agreed_at__isnull=False)
    if since is not None:
        qs = qs.filter(agreed_at__gte=since)
    if until is not None:
        qs = qs.filter(agreed_at__lt=until)
    if node_code:
        from gongzhi.core.scope import code_prefix_q

        qs = qs.filter(code_prefix_q("place_code", node_code))
    days = [(a - r).total_seconds() / 86400 for r, a in qs.values_list("received_at", "agreed_at") if a is not None]
    median = _percentile(days, 0.5)
    p90 = _percentile(days, 0.9)
    return Figure("cycle_days", median, qs, count=len(days), extra={"p90": p90, "median": median})


def share_by_tier(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> list[Figure]:
    """小事不出网格: of the disputes solved (an agreement), the share solved at each tier."""
    solved = _base(user, since, until, node_code).filter(status__in=SUCCESS_STATUSES, resolved_tier__isnull=False)
    total = solved.count()
    rows = solved.values("resolved_tier").annotate(n=Count("pk")).order_by("resolved_tier")
    return [
        Figure(f"tier:{r['resolved_tier']}", r["n"] / total if total else None,
               solved.filter(resolved_tier=r["resolved_tier"]), denominator=solved, count=r["n"])
        for r in rows
    ]  # fmt: skip


def repeats(
    *, user: User, since: datetime | None = None, until: datetime | None = None, node_code: str | None = None
) -> Figure:
    qs = _base(user, since, until, node_code).filter(is_repeat=True)
    n = qs.count()
    return Figure("repeat", n, qs, count=n)


def red_open(*, user: User, node_code: str | None = None) -> Figure:
    qs = dispute_list(user=user, status=OPEN_STATUSES, risk=Risk.RED, node_code=node_code)
    n = qs.count()
    return Figure("red_open", n, qs, count=n)


def notices_on_time(
    *, user: User, since: datetime | None = None, until: datetime | None = None, now: datetime | None = None
) -> Figure:
    """Police notices answered on time: of the notices due in the period that were answered or are now overdue
    (cancelled ones aside), the share answered by their deadline."""
    now = now or timezone.now()
    qs = PoliceNotice.objects.restrict(user, "view").exclude(status=NoticeStatus.CANCELLED)
    if since is not None:
        qs = qs.filter(due_at__gte=since)
    if until is not None:
        qs = qs.filter(due_at__lt=until)
    base = qs.filter(Q(status=NoticeStatus.ANSWERED) | Q(due_at__lt=now))
    on_time = base.filter(status=NoticeStatus.ANSWERED, answered_at__lte=F("due_at"))
    n, d = on_time.count(), base.count()
    return Figure("notices_on_time", (n / d) if d else None, on_time, denominator=base, count=n)


def year_on_year(*, user: User, since: datetime, until: datetime, node_code: str | None = None) -> Figure:
    """Disputes received in the period against the same period a year before: ``value`` the change (−0.123 is the
    seed's −12.3 %), ``queryset`` this period's, ``denominator`` last year's."""
    def year_back(d: datetime) -> datetime:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:  # 29 February
            return d.replace(year=d.year - 1, day=28)

    this = _base(user, since, until, node_code)
    last = _base(user, year_back(since), year_back(until), node_code)
    n, d = this.count(), last.count()
    return Figure("year_on_year", ((n - d) / d) if d else None, this, denominator=last, count=n,
                  extra={"this_year": n, "last_year": d})  # fmt: skip


def dispute_open(*, user: User) -> QuerySet[Dispute]:
    return dispute_list(user=user, status=OPEN_STATUSES)


def agreement_doc(*, user: User, agreement_id: int) -> Any:
    """The agreement as the document shows it (``document.AgreementDoc``): the .docx and the printable page."""
    from gongzhi.disputes import document

    agreement = agreement_get(user=user, agreement_id=agreement_id)
    parties = Party.objects.filter(dispute_id=agreement.dispute_id).order_by("role", "pk")
    mediator = agreement.mediator
    return document.AgreementDoc(
        number=agreement.number,
        parties=[document.PartyLine(p.role, p.name, p.phone, p.id_number, p.address) for p in parties],
        facts=agreement.facts,
        terms=[
            document.Term(str(t.get("text", "")), str(t.get("how", "")), str(t.get("by", ""))) for t in agreement.terms
        ],
        performance=agreement.performance,
        mediator=(str(mediator) if mediator is not None else ""),
        committee=agreement.committee,
        signed_on=agreement.signed_on,
        dispute_number=agreement.dispute.number,
    )
