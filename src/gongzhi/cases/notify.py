"""Who is told what when a case moves (issue 17): a plan, decided inside the transition's transaction from the state
the transition left, and handed to ``messaging.services.notify`` once it commits.

One row of :data:`RULES` per kind of news: which transitions it follows, its text (a Chinese-translatable message
with parameters) and whom it tells. The audiences:

* ``desk``: the staff of the desk whose intake queue the case is on — the desk roles on the owning body (the lead
  body of the case's place; the subdistrict office for an unplaced case), on the places that body leads from the
  case's place up, and, for a new case, on the bodies that co-cover its place (村居融洽: a village beside a
  community) — the assignments that put the case in their intake queue;
* ``handlers``: the active role assignments on the handling body or the handling grid (and who reported it done);
* ``dispatcher``, ``owner`` (the responsible person, else the owning body's desk), ``verifiers`` (the dispatcher,
  else the desk), ``next_tier`` (the desk of the body the case would be escalated to: the lead body one tier up);
* ``reporters``: every reporter of the case and of the reports merged into it — by account when they have one, by
  the phone they gave when they have none; ``reporter``: the case's own.

Nobody is told the same thing twice (several roles, overlapping bodies: one id once) and nobody is told about
their own act (the actor is dropped). At most two queries per transition: the staff, and the reporters.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.cases import tiers, tracking
from gongzhi.cases.choices import Channel, Rating, Status, Tier
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core.scope import ancestor_codes
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.messaging import tasks as messaging_tasks
from gongzhi.messaging.services import Recipient

if TYPE_CHECKING:
    from gongzhi.accounts.models import User


@dataclass(frozen=True)
class Notice:
    """One message to send: ``text % params`` in the recipient's language, to these accounts and phones."""

    kind: str
    text: Promise  # a gettext_lazy msgid with %(name)s parameters
    params: dict[str, str]
    link: str
    urgency: str
    dedupe: str
    user_ids: tuple[int, ...]
    phones: tuple[str, ...]
    body_ids: tuple[int, ...] = ()  # bodies whose WeCom duty group is told too (once per body, not per member)


@dataclass(frozen=True)
class Rule:
    kind: str
    applies: Callable[[Case, CaseEvent], bool]
    text: Promise
    audience: frozenset[str]  # desk, desk_co, handlers, dispatcher, owner, next_tier, verifiers, reporter(s)
    public: bool = False  # residents are told: the link is the public tracking page
    per_deadline: bool = False  # told once per missed deadline, however many events report it (a rerun job)


def _to(*statuses: str) -> Callable[[Case, CaseEvent], bool]:
    return lambda case, event: event.to_status in statuses and event.from_status != event.to_status


def _escalated(by_system: bool) -> Callable[[Case, CaseEvent], bool]:
    return lambda case, event: event.action == "escalate" and (event.actor_id is None) == by_system


# Channels on which staff take a report for a resident: the reporter is the phone given, not the account that typed.
TAKEN_FOR_RESIDENTS = frozenset({Channel.DESK, Channel.HOTLINE})

RULES: tuple[Rule, ...] = (
    Rule(
        "case.new",
        lambda case, event: event.action == "report",
        _("New case %(number)s “%(title)s” at %(place)s is waiting on your desk."),
        frozenset({"desk", "desk_co"}),
    ),
    Rule(
        "case.dispatched",
        _to(Status.DISPATCHED),
        _("Case %(number)s “%(title)s” was dispatched to you, due %(deadline)s."),
        frozenset({"handlers"}),
    ),
    Rule(
        "case.returned",
        _to(Status.RETURNED),
        _("Case %(number)s “%(title)s” was returned: %(reason)s"),
        frozenset({"dispatcher"}),
    ),
    Rule(
        "case.escalated",
        _escalated(by_system=False),
        _("Case %(number)s “%(title)s” was escalated: %(reason)s"),
        frozenset({"owner", "handlers", "desk"}),
    ),
    Rule(
        "case.overdue",
        _escalated(by_system=True),  # the deadline task escalated it: the owner now is the next tier
        _("Case %(number)s “%(title)s” missed its deadline and was escalated."),
        frozenset({"owner", "handlers", "desk"}),
        per_deadline=True,
    ),
    Rule(
        "case.overdue",
        lambda case, event: event.action == "overdue",  # missed, and could not be escalated (top tier, verifying)
        _("Case %(number)s “%(title)s” missed its deadline %(deadline)s."),
        frozenset({"owner", "next_tier"}),
        per_deadline=True,
    ),
    Rule(
        "case.disposed",
        _to(Status.DISPOSED),
        _("Case %(number)s “%(title)s” was reported done: please verify by %(deadline)s."),
        frozenset({"verifiers"}),
    ),
    Rule(
        "case.rework",
        _to(Status.REWORK),
        _("Case %(number)s “%(title)s” was sent back for rework: %(reason)s"),
        frozenset({"handlers"}),
    ),
    Rule(
        "case.closed",
        _to(Status.CLOSED),
        _(
            "Your case %(number)s “%(title)s” is closed. "
            "See how it was handled and rate it with the tracking code %(code)s."
        ),
        frozenset({"reporters"}),
        public=True,
    ),
    Rule(
        "case.merged",
        _to(Status.MERGED),
        _(
            "Your case %(number)s “%(title)s” is handled together with the same problem reported before "
            "(tracking code %(code)s)."
        ),
        frozenset({"reporter"}),  # the reports merged into it before were told then
        public=True,
    ),
    Rule(
        "case.rejected",
        _to(Status.REJECTED),
        _("Your case %(number)s “%(title)s” was not taken on. See why with the tracking code %(code)s."),
        frozenset({"reporters"}),
        public=True,
    ),
    Rule(
        "case.dissatisfied",
        lambda case, event: event.to_status == Status.FOLLOWED_UP and case.rating == Rating.DISSATISFIED,
        _("The reporter of case %(number)s “%(title)s” is dissatisfied: %(reason)s"),
        frozenset({"owner"}),
    ),
)


def plan(case: Case, event: CaseEvent, actor: User | None) -> list[Notice]:
    """The messages this event calls for, each to the people it concerns (the actor left out)."""
    actor_id = actor.pk if actor is not None else None
    notices = []
    for rule in RULES:
        if not rule.applies(case, event):
            continue
        told = rule.audience & {"reporter", "reporters"}
        reporters, phones = _reporters(case, merged="reporters" in told) if told else ([], ())
        ids = [*_staff(case, rule.audience), *reporters]
        user_ids = tuple(dict.fromkeys(i for i in ids if i != actor_id))
        body_ids = _bodies(case, rule.audience)
        if not user_ids and not phones and not body_ids:
            continue
        link = _public_link(case) if rule.public else reverse("cases-detail", args=[case.pk])
        notices.append(
            Notice(
                kind=rule.kind,
                text=rule.text,
                params=_params(case, event, link, public=rule.public),
                link=link,
                urgency=case.urgency,
                dedupe=(
                    f"case:{case.pk}:overdue:{case.overdue_count}"
                    if rule.per_deadline
                    else f"case:{case.pk}:event:{event.pk}:{rule.kind}"
                ),
                user_ids=user_ids,
                phones=phones,
                body_ids=body_ids,
            )
        )
    return notices


def _bodies(case: Case, audience: frozenset[str]) -> tuple[int, ...]:
    """The bodies a rule addresses as such, whose WeCom duty group is told too: the handling body for ``handlers``
    (dispatched, escalated, overdue, rework). Not the desk of a new case: a 12345 batch of a thousand cases would be a
    thousand robot posts to one group (a robot takes 20 a minute), and intake stays at its statements."""
    ids = [case.handler_body_id] if "handlers" in audience and case.handler_body_id else []
    return tuple(dict.fromkeys(ids))


def _params(case: Case, event: CaseEvent, link: str, *, public: bool) -> dict[str, str]:
    """The texts' parameters. A resident gets the note only when staff made it a reply to the reporter (as on the
    tracking page): a staff note is internal."""
    due = timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M") if case.due_at else ""
    return {
        "number": case.number,
        "title": case.title,
        "place": case.node.name,
        "deadline": due,
        "reason": event.note if not public or event.reply else "",
        "link": link,
        "code": tracking.display(case.tracking_code),
    }


def _public_link(case: Case) -> str:
    """The public tracking page, its code filled in (查询进度: the code is the reporter's secret)."""
    return f"{reverse('cases-public-track')}?number={tracking.display(case.tracking_code)}"


def _staff(case: Case, audience: frozenset[str]) -> list[int]:
    """The staff among ``audience``: the ids the case names, and the holders of the role assignments the audience
    covers, in one query."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.cases.workflow import DESK, HANDLERS

    code = case.place_code or case.node.code
    codes = [*ancestor_codes(code), code]
    desk = Q(role__in=sorted(DESK)) & (
        Q(body_id=case.owner_body_id) | Q(node__lead_body_id=case.owner_body_id, node__code__in=codes)
    )
    ids: list[int] = []
    wanted: list[Q] = []
    if "desk" in audience:
        wanted.append(desk)
    if "desk_co" in audience:
        wanted.append(Q(role__in=sorted(DESK), body__co_jurisdictions__node__code__in=codes))
    if "handlers" in audience:
        if case.handler_body_id:
            wanted.append(Q(role__in=sorted(HANDLERS), body_id=case.handler_body_id))
        if case.handler_node_id:
            wanted.append(Q(role__in=sorted(HANDLERS), node_id=case.handler_node_id))
        if case.disposed_by_id and case.status == Status.REWORK:
            ids.append(case.disposed_by_id)
    if "dispatcher" in audience and case.dispatcher_id:
        ids.append(case.dispatcher_id)
    if "owner" in audience:
        if case.owner_user_id:
            ids.append(case.owner_user_id)
        else:
            wanted.append(desk)
    if "verifiers" in audience:
        if case.dispatcher_id:
            ids.append(case.dispatcher_id)
        else:
            wanted.append(desk)
    if "next_tier" in audience:
        from gongzhi.territory.models import Node

        up = tiers.owner_node_code(case, min(case.tier + 1, Tier.DEPARTMENT))
        body_id = Node.objects.filter(code=up).values_list("lead_body_id", flat=True).first()
        if body_id:
            wanted.append(
                Q(role__in=sorted(DESK)) & (Q(body_id=body_id) | Q(node__lead_body_id=body_id, node__code__in=codes))
            )
    if wanted:
        rows = RoleAssignment.objects.filter(reduce(operator.or_, wanted), is_active=True, user__is_active=True)
        ids += sorted(set(rows.values_list("user_id", flat=True)))
    return ids


# How deep merged reports are followed (a report merged into one that was merged in turn): one query either way.
MERGE_DEPTH = 3


def _reporters(case: Case, *, merged: bool) -> tuple[list[int], tuple[str, ...]]:
    """The accounts and the phones of the case's reporter and (``merged``) of the reports merged into it, in one
    query. Taken in at the desk or from the hotline, the account is the staff member who took the call: the resident
    is the phone. A phone that is a reporting account's own is not texted besides."""
    where = Q(pk=case.pk)
    if merged:
        for depth in range(1, MERGE_DEPTH + 1):
            where |= Q(**{"__".join(["merged_into"] * depth): case.pk})
    rows = Case.objects.filter(where).order_by("reported_at", "pk")
    ids: list[int] = []
    phones: list[str] = []
    own_phones: set[str] = set()
    fields = ("reporter_user_id", "reporter_phone", "channel", "reporter_user__phone")
    for user_id, phone, channel, account_phone in rows.values_list(*fields):
        if user_id and channel not in TAKEN_FOR_RESIDENTS:
            ids.append(user_id)
            own_phones.add(account_phone or "")
        elif phone:
            phones.append(phone)
    return ids, tuple(dict.fromkeys(p for p in phones if p not in own_phones))


# --- a 12345 import: one digest per desk, not one message per case -------------------------------------------------

IMPORTED = "case.imported"
IMPORTED_TEXT = _("12345 import: %(count)s new cases on your desk.")


def desk_counts(places: dict[tuple[int | None, str], int]) -> dict[int, int]:
    """User id → how many of the new cases are on their desk, for new cases counted per (owning body, place code):
    the people ``plan`` tells of each one ("case.new": ``desk`` and ``desk_co``), found for all places at once in one
    query. A person on several desks counts each case once (a case's people are a set)."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.cases.workflow import DESK

    if not places:
        return {}
    chains = {code: frozenset([*ancestor_codes(code), code]) for _body, code in places}
    codes = sorted(set().union(*chains.values()))
    bodies = sorted({body for body, _code in places if body is not None})
    rows = RoleAssignment.objects.filter(
        Q(body_id__in=bodies)
        | Q(node__lead_body_id__in=bodies, node__code__in=codes)
        | Q(body__co_jurisdictions__node__code__in=codes),
        role__in=sorted(DESK),
        is_active=True,
        user__is_active=True,
    ).values_list("user_id", "body_id", "node__code", "node__lead_body_id", "body__co_jurisdictions__node__code")
    held = list(set(rows))
    counts: dict[int, int] = {}
    for (body, code), n in places.items():
        chain = chains[code]
        users = {
            user_id
            for user_id, on_body, node_code, node_lead, co_code in held
            if (body is not None and (on_body == body or (node_lead == body and node_code in chain)))
            or (co_code is not None and co_code in chain)
        }
        for user_id in users:
            counts[user_id] = counts.get(user_id, 0) + n
    return counts


def send_import_digest(*, actor: User | None, places: dict[tuple[int | None, str], int], batch: str) -> int:
    """Tell each desk's staff, once per import (``batch`` names it), how many of the import's new cases wait on
    their desk, linking to the intake queue showing the hotline's cases; in the caller's transaction. How many
    people were told."""
    counts = desk_counts(places)
    if not counts:
        return 0
    return messaging.notify(
        actor=actor,
        recipients=[Recipient(user_id=uid, params={"count": n}) for uid, n in sorted(counts.items())],
        kind=IMPORTED,
        text=IMPORTED_TEXT,
        params={"count": 0},
        link=f"{reverse('cases-desk')}?channel={Channel.HOTLINE}",
        dedupe=f"hotline-import:{batch}",
    ).messages


# The inbox filter's names for these kinds (messaging.kinds).
KIND_LABELS = {
    "case.new": _("New case on my desk"),
    "case.dispatched": _("Dispatched to me"),
    "case.returned": _("Returned"),
    "case.escalated": _("Escalated"),
    "case.overdue": _("Deadline missed"),
    "case.disposed": _("To verify"),
    "case.rework": _("Rework"),
    "case.closed": _("My case closed"),
    "case.merged": _("My case merged"),
    "case.rejected": _("My case not taken on"),
    "case.dissatisfied": _("Reporter dissatisfied"),
    IMPORTED: _("12345 import"),
}
for _code, _label in KIND_LABELS.items():
    kinds.register(_code, _label)


def send_after_commit(event: CaseEvent, actor: User | None) -> None:
    """:func:`send`, but later: the request (a case's intake) only queues one task with its transaction
    (``cases.tasks.tell``, ``messaging.tasks.with_commit``: never run before the commit), and the task worker plans
    and writes the messages — intake stays as fast as without them. Telling twice is harmless: the plan's
    ``dedupe`` keys tell nobody again."""
    event_id, actor_id = event.pk, actor.pk if actor is not None else None

    def queue() -> None:
        from gongzhi.cases.tasks import tell

        tell.enqueue(event_id, actor_id)

    messaging_tasks.with_commit(queue)


def send(case: Case, event: CaseEvent, actor: User | None) -> int:
    """Tell the people this event concerns (:func:`plan`), in the caller's transaction: the messaging capability
    writes the inbox messages and queues the SMS/e-mail sends for after the commit. How many notices."""
    notices = plan(case, event, actor)
    for notice in notices:
        recipients = [Recipient(user_id=uid) for uid in notice.user_ids]
        recipients += [Recipient(user_id=None, phone=phone) for phone in notice.phones]
        messaging.notify(
            actor=actor,
            recipients=recipients,
            kind=notice.kind,
            text=notice.text,
            params=notice.params,
            link=notice.link,
            obj=case,
            urgency=notice.urgency,
            dedupe=notice.dedupe,
            bodies=notice.body_ids,
        )
    return len(notices)
