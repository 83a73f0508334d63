"""Writes of meetings: plan a meeting (a hearing only after its public notice period), plan the standing meetings
(the night talk on its day of the month, moved to the next working day; the joint meeting with its next chair),
topics and their support, the agenda, invitations, attendance (the QR sign-in or the secretary's tick), the quorum,
minutes, decisions and the work each becomes — a case (through ``cases.intake`` and the case workflow), a need that
becomes a project of the three lists (``participation.services``) or a task. A decision's status and progress follow
its work (:func:`sync`); the topic's proposers and the attendees are told of each change (``messaging``).

Every write: keyword-only, the acting user explicit (``None``: the scheduler), one transaction, audited."""

from __future__ import annotations

import calendar as month_calendar
import datetime
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from gongzhi.accounts.choices import Role
from gongzhi.cases import selectors as cases_selectors
from gongzhi.cases import workflow
from gongzhi.cases.calendar import WorkCalendar
from gongzhi.cases.choices import Channel
from gongzhi.cases.choices import Status as CaseStatus
from gongzhi.cases.intake import report_case
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.disputes import selectors as disputes_selectors
from gongzhi.meetings.choices import (
    DEFAULT_KINDS,
    DecisionStatus,
    Format,
    ItemSource,
    MeetingStatus,
    SignIn,
    TopicStatus,
    Track,
)
from gongzhi.meetings.models import (
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    MeetingKind,
    RotaMember,
    Series,
    Support,
    Topic,
)
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.participation import selectors as participation_selectors
from gongzhi.participation import services as participation
from gongzhi.participation.choices import NeedSource, ProjectState
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.cases.models import Case


INVITED_KIND = "meetings.invited"
DECISION_KIND = "meetings.decision"
kinds.register(INVITED_KIND, pgettext_lazy("meetings", "Invited to a meeting"))
kinds.register(DECISION_KIND, pgettext_lazy("meetings", "A meeting's decision moved"))
SIGN_IN_SALT = "gongzhi.meetings.sign-in"
SIGN_IN_HOURS = 12  # a meeting's QR code is good from its day's start until this long after it starts
MEETING_PLACES = ("subdistrict", "community", "village", "grid")
SAME_MONTH_DAYS = 12
PLAN_MONTHS_AHEAD = 1  # the scheduler keeps this month's and the next month's standing meetings planned


def _invalid(field: str, message: Any, title: Any = None) -> ValidationFailed:
    return ValidationFailed(
        title or pgettext_lazy("meetings", "The meeting could not be saved."),
        [ErrorDetail(field=field, message=message)],
    )


def ensure_kinds() -> int:
    """The default kinds (议事会, 联席会议, 听证会, 社情茶社, 网格夜谈会, 说员收分办), where missing."""
    made = 0
    for code, name, fmt_, quorum, notice, day in DEFAULT_KINDS:
        _kind, created = MeetingKind.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "format": fmt_,
                "quorum_percent": quorum,
                "notice_days": notice,
                "day_of_month": day,
            },
        )
        made += created
    return made


# --- the calendar of standing meetings --------------------------------------------------------------------------


def planned_day(year: int, month: int, day: int, is_workday: Callable[[datetime.date], bool]) -> datetime.date:
    """The day a meeting held "on the ``day``th of each month" falls in ``year``/``month``: that day (the month's last
    when it is shorter, e.g. the 31st in February), moved on to the next working day over weekends and holidays."""
    last = month_calendar.monthrange(year, month)[1]
    date = datetime.date(year, month, min(day, last))
    for _i in range(60):
        if is_workday(date):
            return date
        date += datetime.timedelta(days=1)
    return date


def rotate(members: Sequence[tuple[int, int, bool]], last_position: int | None) -> int | None:
    """The next chair of a rota: ``members`` are (position, body id, still in the rota), any order; the chair passes
    to the first member in the rota after ``last_position`` (wrapping round), skipping bodies that left. ``None``
    before anyone chaired: the first in the rota."""
    ordered = sorted(m for m in members if m[2])
    if not ordered:
        return None
    if last_position is not None:
        for position, body_id, _active in ordered:
            if position > last_position:
                return body_id
    return ordered[0][1]


def next_chair(series: Series, before: datetime.datetime | None = None) -> Body | None:
    """Who chairs the series' next meeting (after its last meeting with a chair, before ``before``)."""
    members = list(series.rota.values_list("position", "body_id", "is_active"))
    if not members:
        return None
    last = series.meetings.exclude(chair_body=None).exclude(status=MeetingStatus.CANCELLED)
    if before is not None:
        last = last.filter(starts_at__lt=before)
    last_meeting = last.order_by("-starts_at").first()
    last_position = None
    if last_meeting is not None:
        last_position = next((p for p, b, _a in members if b == last_meeting.chair_body_id), None)
    body_id = rotate(members, last_position)
    return Body.objects.filter(pk=body_id).first() if body_id else None


def series_day(series: Series) -> int | None:
    return series.day_of_month or series.kind.day_of_month


@transaction.atomic
def plan_recurring(*, actor: User | None = None, today: datetime.date | None = None) -> int:
    """Plan every active series' meetings of this month and the next (idempotent: a month that has one is left
    alone): on the series' day, moved to the next working day of the place's subdistrict calendar (national holidays
    and the subdistrict's own, ``cases.calendar``); a joint meeting gets its next chair."""
    today = today or timezone.localdate()
    made = 0
    for series in Series.objects.filter(is_active=True).select_related("kind", "place").order_by("pk"):
        day = series_day(series)
        if not day:
            continue
        cal = WorkCalendar.for_code(series.place.code)
        year, month = today.year, today.month
        for _step in range(PLAN_MONTHS_AHEAD + 1):
            date = planned_day(year, month, day, cal.is_workday)
            # This month's meeting is there when the series has one within a fortnight of its day (a meeting moved
            # over a long holiday, or planned by hand a few days off, counts; next month's is a month away).
            exists = series.meetings.filter(
                starts_at__date__gte=date - datetime.timedelta(days=SAME_MONTH_DAYS),
                starts_at__date__lte=date + datetime.timedelta(days=SAME_MONTH_DAYS),
            )
            if date >= today and not exists.exists():
                starts = timezone.make_aware(datetime.datetime.combine(date, series.start_time))
                meeting = Meeting.objects.create(
                    kind=series.kind,
                    series=series,
                    title=f"{series.title}（{date.month}月）",
                    place=series.place,
                    body=series.body,
                    chair_body=next_chair(series, before=starts) if series.kind.format == Format.JOINT else None,
                    starts_at=starts,
                    location=series.location,
                )
                audit.record(
                    actor=actor,
                    action="meetings.meeting.plan",
                    obj=meeting,
                    node_code=series.place.code,
                    after={"series": series.pk, "starts_at": starts.isoformat(), "chair": meeting.chair_body_id},
                )
                made += 1
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return made


# --- meetings -------------------------------------------------------------------------------------------------------


def _place(actor: User, place_id: int, label: str) -> Node:
    place = Node.objects.restrict(actor, "view").filter(pk=place_id, kind__in=MEETING_PLACES).first()
    if place is None:
        raise _invalid("place_id", pgettext_lazy("meetings", "Choose a community or grid of your ground."))
    return place


@transaction.atomic
def plan_meeting(
    *,
    actor: User,
    kind_id: int,
    title: str,
    place_id: int,
    starts_at: datetime.datetime,
    body_id: int | None = None,
    location: str = "",
    notice: str = "",
    series_id: int | None = None,
    today: datetime.date | None = None,
) -> Meeting:
    """Plan a meeting held on a place (by a body). A hearing's notice is public from today and must run its kind's
    notice period before the hearing."""
    title = (title or "").strip()
    if not title:
        raise _invalid("title", pgettext_lazy("meetings", "Give the meeting a title."))
    kind = MeetingKind.objects.filter(pk=kind_id, is_active=True).first()
    if kind is None:
        raise _invalid("kind_id", pgettext_lazy("meetings", "Choose a kind of meeting."))
    place = _place(actor, place_id, "meetings.meeting")
    today = today or timezone.localdate()
    if kind.notice_days:
        if not notice.strip():
            raise _invalid("notice", pgettext_lazy("meetings", "A hearing needs its public notice."))
        days = (timezone.localtime(starts_at).date() - today).days
        if days < kind.notice_days:
            raise _invalid(
                "starts_at",
                fmt(
                    pgettext_lazy("meetings", "The notice must be public %(days)s days before the hearing."),
                    days=kind.notice_days,
                ),
            )
    body = Body.objects.restrict(actor, "view").filter(pk=body_id).first() if body_id else None
    series = Series.objects.restrict(actor, "view").filter(pk=series_id).first() if series_id else None
    meeting = Meeting(
        kind=kind,
        series=series,
        title=title[:120],
        place=place,
        body=body,
        starts_at=starts_at,
        location=location.strip()[:120],
        notice=notice.strip(),
        notice_from=today if notice.strip() else None,
        created_by=actor,
    )
    if series is not None and kind.format == Format.JOINT:
        meeting.chair_body = next_chair(series, before=starts_at)
    if not Meeting.scope_rule.admits(actor.scope_for("meetings.meeting", "add"), meeting):
        raise Forbidden(pgettext_lazy("meetings", "You may not plan meetings here."))
    meeting.save()
    audit.record(
        actor=actor, action="meetings.meeting.plan", obj=meeting, node_code=place.code,
        after={"kind": kind.code, "starts_at": starts_at.isoformat(), "chair": meeting.chair_body_id},
    )  # fmt: skip
    return meeting


def _meeting(actor: User, meeting_id: int, action: str = "change") -> Meeting:
    return get_in_scope(Meeting, actor, meeting_id, action, Meeting.objects.select_related("kind", "place"))


@transaction.atomic
def cancel_meeting(*, actor: User, meeting_id: int) -> Meeting:
    meeting = _meeting(actor, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise Conflict(pgettext_lazy("meetings", "Only a planned meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="meetings.meeting.cancel", obj=meeting, node_code=meeting.place.code)
    return meeting


# --- topics ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def propose_topic(
    *,
    actor: User,
    place_id: int | None,
    title: str,
    description: str = "",
    proposer_name: str = "",
    proposer_phone: str = "",
) -> Topic:
    """Propose a topic. A resident proposes their own (on where they live, when no place is given); a grid worker or
    member proposes theirs, or enters a resident's (``proposer_name``, and a phone to tell them by SMS)."""
    title = (title or "").strip()
    if not title:
        raise _invalid(
            "title",
            pgettext_lazy("meetings", "Say what the topic is."),
            pgettext_lazy("meetings", "The topic could not be saved."),
        )
    if proposer_phone and not proposer_phone.strip().isdigit():
        raise _invalid(
            "proposer_phone",
            pgettext_lazy("meetings", "digits only"),
            pgettext_lazy("meetings", "The topic could not be saved."),
        )
    place: Node | None = None
    if place_id:
        place = Node.objects.restrict(actor, "view").filter(pk=place_id).first()
    else:
        place = next((a.node for a in actor.role_assignments.filter(is_active=True, node__isnull=False)), None)
    if place is None:
        raise _invalid(
            "place_id",
            pgettext_lazy("meetings", "Choose a place of your ground."),
            pgettext_lazy("meetings", "The topic could not be saved."),
        )
    for_someone = bool(proposer_name.strip()) and actor.roles() != {Role.RESIDENT}
    topic = Topic(
        place=place,
        title=title[:120],
        description=description.strip()[:4000],
        proposed_by=None if for_someone else actor,
        entered_by=actor if for_someone else None,
        proposer_name=(proposer_name.strip() if for_someone else str(actor))[:40],
        proposer_phone=proposer_phone.strip()[:20] if for_someone else "",
    )
    if not Topic.scope_rule.admits(actor.scope_for("meetings.topic", "add"), Topic(place=place)):
        raise Forbidden(pgettext_lazy("meetings", "You may not propose topics here."))
    topic.save()
    audit.record(
        actor=actor, action="meetings.topic.propose", obj=topic, node_code=place.code,
        after={"title": topic.title, "for": "someone" if for_someone else "self"},
    )  # fmt: skip
    return topic


@transaction.atomic
def support_topic(*, actor: User, topic_id: int) -> Support:
    topic = get_in_scope(Topic, actor, topic_id, "view", Topic.objects.select_related("place"))
    if topic.proposed_by_id == actor.pk:
        raise Conflict(pgettext_lazy("meetings", "One's own topic needs no support."))
    if not Support.scope_rule.admits(actor.scope_for("meetings.support", "add"), Support(topic=topic, user=actor)):
        raise Forbidden(pgettext_lazy("meetings", "You may not support topics here."))
    try:
        with transaction.atomic():
            support = Support.objects.create(topic=topic, user=actor)
    except IntegrityError:
        raise Conflict(pgettext_lazy("meetings", "You already support this topic.")) from None
    audit.record(actor=actor, action="meetings.topic.support", obj=support, node_code=topic.place.code)
    return support


@transaction.atomic
def decline_topic(*, actor: User, topic_id: int) -> Topic:
    topic = get_in_scope(Topic, actor, topic_id, "change", Topic.objects.select_related("place"))
    topic.status = TopicStatus.DECLINED
    topic.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="meetings.topic.decline", obj=topic, node_code=topic.place.code)
    return topic


# --- the agenda -----------------------------------------------------------------------------------------------------


@transaction.atomic
def add_item(
    *,
    actor: User,
    meeting_id: int,
    source: str = ItemSource.OTHER,
    title: str = "",
    topic_id: int | None = None,
    case_id: int | None = None,
    need_id: int | None = None,
    dispute_id: int | None = None,
) -> AgendaItem:
    """Put an item on the agenda: a topic proposed on the meeting's ground, an open case, a need or a dispute the
    actor may see (each through its own app's selectors), or a point of its own."""
    meeting = _meeting(actor, meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict(pgettext_lazy("meetings", "The meeting was cancelled."))
    item = AgendaItem(meeting=meeting, source=source, order=meeting.items.count() + 1)
    if source == ItemSource.TOPIC:
        topic = get_in_scope(Topic, actor, topic_id, "change", Topic.objects.select_related("place"))
        if topic.meeting_id and topic.meeting_id != meeting.pk:
            raise Conflict(pgettext_lazy("meetings", "This topic is on another meeting's agenda."))
        item.topic, item.title = topic, topic.title
        topic.meeting, topic.status = meeting, TopicStatus.ON_AGENDA
        topic.save(update_fields=["meeting", "status", "updated_at"])
    elif source == ItemSource.CASE:
        case = cases_selectors.case_get(user=actor, case_id=case_id or 0)
        item.case, item.title = case, f"{case.number} {case.title}"
    elif source == ItemSource.NEED:
        need = participation_selectors.need_get(user=actor, need_id=need_id or 0)
        item.need, item.title = need, need.title
    elif source == ItemSource.DISPUTE:
        dispute = disputes_selectors.dispute_get(user=actor, dispute_id=dispute_id or 0)
        item.dispute, item.title = dispute, str(dispute)
    elif source == ItemSource.OTHER:
        if not title.strip():
            raise _invalid("title", pgettext_lazy("meetings", "Say what the item is."))
        item.title = title.strip()
    else:
        raise _invalid("source", pgettext_lazy("meetings", "topic, case, need, dispute or other"))
    item.title = (title.strip() or item.title)[:200]
    item.save()
    audit.record(
        actor=actor, action="meetings.agenda.add", obj=item, node_code=meeting.place.code,
        after={"meeting": meeting.pk, "source": source, "title": item.title},
    )  # fmt: skip
    return item


@transaction.atomic
def record_minutes(*, actor: User, item_id: int, minutes: str) -> AgendaItem:
    item = get_in_scope(AgendaItem, actor, item_id, "change", AgendaItem.objects.select_related("meeting__place"))
    before = {"minutes": item.minutes}
    item.minutes = minutes.strip()
    item.save(update_fields=["minutes", "updated_at"])
    audit.record(
        actor=actor, action="meetings.agenda.minutes", obj=item, node_code=item.meeting.place.code, before=before,
        after={"minutes": item.minutes},
    )  # fmt: skip
    return item


# --- invitations, attendance, quorum ------------------------------------------------------------------------------


def _link(meeting: Meeting) -> str:
    return reverse("meetings-detail", args=[meeting.pk])


@transaction.atomic
def invite(*, actor: User, meeting_id: int, user_ids: Iterable[int], members: bool = True) -> int:
    """Invite people (members count for the quorum); each is told once through messaging. How many new."""
    from gongzhi.accounts.models import User as UserModel

    meeting = _meeting(actor, meeting_id)
    users = list(UserModel.objects.filter(pk__in=list(user_ids), is_active=True))
    new = []
    for user in users:
        row, created = Attendance.objects.get_or_create(
            meeting=meeting, user=user, defaults={"name": str(user)[:40], "member": members, "invited": True}
        )
        if not created and not row.invited:
            row.invited, row.member = True, row.member or members
            row.save(update_fields=["invited", "member", "updated_at"])
        new.append(user.pk)
    messaging.notify(
        actor=actor,
        recipients=[messaging.Recipient(user_id=uid) for uid in new],
        kind=INVITED_KIND,
        text=gettext_lazy("You are invited to %(meeting)s on %(when)s at %(where)s."),  # kept as a code: no context
        params={
            "meeting": meeting.title,
            "when": timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M"),
            "where": meeting.location or meeting.place.name,
        },
        link=_link(meeting),
        obj=meeting,
        dedupe=f"meetings.invite:{meeting.pk}",
    )
    audit.record(actor=actor, action="meetings.invite", obj=meeting, node_code=meeting.place.code, after={"users": new})
    return len(new)


def sign_in_token(meeting: Meeting) -> str:
    """The signed token of a meeting's QR code (its URL is ``meetings-sign-in``): it names the meeting only."""
    return signing.dumps({"m": meeting.pk}, salt=SIGN_IN_SALT)


def meeting_of_token(token: str) -> int:
    try:
        data = signing.loads(token, salt=SIGN_IN_SALT)
    except signing.BadSignature:
        raise Forbidden(pgettext_lazy("meetings", "This sign-in code is not valid.")) from None
    return int(data["m"])


@transaction.atomic
def sign_in(*, actor: User, token: str, now: datetime.datetime | None = None) -> Attendance:
    """Sign in with the meeting's QR code on one's phone: on the meeting's day, up to ``SIGN_IN_HOURS`` after it
    starts. Anyone signed in who can reach the link may attend (a resident of anywhere); once."""
    meeting = Meeting.objects.select_related("place").filter(pk=meeting_of_token(token)).first()
    if meeting is None or meeting.status == MeetingStatus.CANCELLED:
        raise Conflict(pgettext_lazy("meetings", "This meeting is not taking place."))
    now = now or timezone.now()
    start = timezone.localtime(meeting.starts_at)
    day_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if not day_start <= now <= start + datetime.timedelta(hours=SIGN_IN_HOURS):
        raise Conflict(pgettext_lazy("meetings", "Sign-in is open on the meeting's day only."))
    row, _created = Attendance.objects.select_for_update().get_or_create(
        meeting=meeting, user=actor, defaults={"name": str(actor)[:40]}
    )
    if row.present:
        return row
    row.present, row.signed_in_at, row.how = True, now, SignIn.QR
    row.save(update_fields=["present", "signed_in_at", "how", "updated_at"])
    audit.record(actor=actor, action="meetings.sign_in", obj=row, node_code=meeting.place.code)
    return row


@transaction.atomic
def tick(
    *,
    actor: User,
    meeting_id: int,
    present: bool,
    attendance_id: int | None = None,
    name: str = "",
    member: bool = False,
) -> Attendance:
    """The secretary ticks someone present (or not): an invited row, or a walk-in by name."""
    meeting = _meeting(actor, meeting_id)
    if attendance_id is not None:
        row = Attendance.objects.select_for_update().filter(meeting=meeting, pk=attendance_id).first()
        if row is None:
            raise _invalid("attendance_id", pgettext_lazy("meetings", "Not on this meeting's list."))
    else:
        if not name.strip():
            raise _invalid("name", pgettext_lazy("meetings", "Give the attendee's name."))
        row = Attendance(meeting=meeting, name=name.strip()[:40], member=member)
    row.present = present
    row.signed_in_at = timezone.now() if present else None
    row.how = SignIn.SECRETARY if present else ""
    row.save()
    audit.record(actor=actor, action="meetings.tick", obj=row, node_code=meeting.place.code, after={"present": present})
    return row


@dataclass(frozen=True)
class Quorum:
    needed: bool  # the kind has a quorum rule
    required: int  # members who must be present
    present: int  # members present
    members: int  # members invited

    @property
    def met(self) -> bool:
        return not self.needed or self.present >= self.required


def quorum_of(percent: int, members: int, present: int) -> Quorum:
    """The quorum rule: at least ``percent`` % of the invited members present, rounded up (50 % of 7 = 4)."""
    required = math.ceil(members * percent / 100) if percent else 0
    return Quorum(needed=bool(percent), required=required, present=present, members=members)


def quorum(meeting: Meeting) -> Quorum:
    rows = meeting.attendance.filter(member=True)
    return quorum_of(
        meeting.kind.quorum_percent,
        rows.filter(invited=True).count(),
        rows.filter(present=True).count(),
    )


@transaction.atomic
def hold(*, actor: User, meeting_id: int, now: datetime.datetime | None = None) -> Meeting:
    """Record the meeting as held — only with its quorum, where its kind has one."""
    meeting = _meeting(actor, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise Conflict(pgettext_lazy("meetings", "This meeting is not planned."))
    q = quorum(meeting)
    if not q.met:
        text = pgettext_lazy("meetings", "No quorum: %(present)s of %(required)s members needed are present.")
        raise Conflict(fmt(text, present=q.present, required=q.required))
    meeting.status, meeting.held_at = MeetingStatus.HELD, now or timezone.now()
    meeting.save(update_fields=["status", "held_at", "updated_at"])
    audit.record(
        actor=actor, action="meetings.meeting.hold", obj=meeting, node_code=meeting.place.code,
        after={"present": q.present, "required": q.required},
    )  # fmt: skip
    return meeting


# --- decisions and the work they become -------------------------------------------------------------------------


@transaction.atomic
def decide(
    *,
    actor: User,
    meeting_id: int,
    text: str,
    item_id: int | None = None,
    votes_for: int | None = None,
    votes_against: int | None = None,
    votes_abstain: int | None = None,
) -> Decision:
    """Record a resolution of a meeting (on an agenda item), with the vote where one was taken."""
    meeting = _meeting(actor, meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict(pgettext_lazy("meetings", "The meeting was cancelled."))
    if not text.strip():
        raise _invalid(
            "text",
            pgettext_lazy("meetings", "Write the resolution."),
            pgettext_lazy("meetings", "The decision could not be saved."),
        )
    if any(v is not None and v < 0 for v in (votes_for, votes_against, votes_abstain)):
        raise _invalid(
            "votes_for",
            pgettext_lazy("meetings", "Votes cannot be negative."),
            pgettext_lazy("meetings", "The decision could not be saved."),
        )
    item = None
    if item_id is not None:
        item = AgendaItem.objects.filter(meeting=meeting, pk=item_id).select_related("topic").first()
        if item is None:
            raise _invalid(
                "item_id",
                pgettext_lazy("meetings", "Not an item of this meeting."),
                pgettext_lazy("meetings", "The decision could not be saved."),
            )
    decision = Decision.objects.create(
        meeting=meeting, item=item, text=text.strip(), votes_for=votes_for, votes_against=votes_against,
        votes_abstain=votes_abstain,
    )  # fmt: skip
    if item is not None and item.topic is not None:
        item.topic.status = TopicStatus.DECIDED
        item.topic.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor, action="meetings.decide", obj=decision, node_code=meeting.place.code,
        after={"text": decision.text[:200], "for": votes_for, "against": votes_against, "abstain": votes_abstain},
    )  # fmt: skip
    return decision


def _decision(actor: User, decision_id: int, action: str = "change") -> Decision:
    return get_in_scope(
        Decision, actor, decision_id, action, Decision.objects.select_related("meeting__place", "item__topic")
    )


def _untracked(decision: Decision) -> None:
    if decision.track != Track.NONE:
        raise Conflict(pgettext_lazy("meetings", "This decision is already tracked."))


def case_description(decision: Decision) -> str:
    meeting = decision.meeting
    return str(
        fmt(
            pgettext_lazy("meetings", "Decided at %(meeting)s on %(date)s (%(link)s): %(text)s"),
            meeting=meeting.title,
            date=timezone.localtime(meeting.starts_at).date().isoformat(),
            link=_link(meeting),
            text=decision.text,
        )
    )


@transaction.atomic
def track_as_case(
    *,
    actor: User,
    decision_id: int,
    category_id: int,
    title: str = "",
    handler_body_id: int | None = None,
    due_on: datetime.date | None = None,
) -> Decision:
    """The decision becomes a case: taken in on the meeting's place through ``cases.intake`` (channel "meeting",
    the meeting named as its source), and dispatched through the case workflow when a handling body is given.
    Linked both ways: the decision keeps the case, the case names the meeting (``channel_label``, its description)
    and its decisions (``case.meeting_decisions``)."""
    decision = _decision(actor, decision_id)
    _untracked(decision)
    meeting = decision.meeting
    case = report_case(
        actor=actor,
        channel=Channel.MEETING,
        title=(title.strip() or decision.text.strip().splitlines()[0])[:200],
        category_id=category_id,
        description=case_description(decision),
        node_id=meeting.place_id,
        channel_label=meeting.title[:80],
    )
    decision.track, decision.case, decision.due_on = Track.CASE, case, due_on
    decision.save(update_fields=["track", "case", "due_on", "updated_at"])
    audit.record(
        actor=actor, action="meetings.decision.track", obj=decision, node_code=meeting.place.code,
        after={"track": "case", "case": case.number},
    )  # fmt: skip
    if handler_body_id:
        workflow.perform(
            actor=actor,
            case_id=case.pk,
            action="dispatch",
            note=str(fmt(pgettext_lazy("meetings", "Decided at %(meeting)s."), meeting=meeting.title)),
            payload={"handler_body_id": handler_body_id},
        )  # the listener (on_case_event) moves the decision on
        decision.refresh_from_db()
    return decision


@transaction.atomic
def track_as_project(
    *, actor: User, decision_id: int, category_id: int, title: str = "", due_on: datetime.date | None = None
) -> Decision:
    """The decision becomes a need of the three lists (source "meeting") on the meeting's place; the co-building
    unit that takes it on makes it a project, whose progress the decision then follows."""
    decision = _decision(actor, decision_id)
    _untracked(decision)
    meeting = decision.meeting
    need = participation.create_need(
        actor=actor,
        title=(title.strip() or decision.text.strip().splitlines()[0])[:120],
        category_id=category_id,
        place_id=meeting.place_id,
        description=case_description(decision),
        source=NeedSource.MEETING,
        source_note=meeting.title[:200],
    )
    decision.track, decision.need, decision.due_on = Track.PROJECT, need, due_on
    decision.save(update_fields=["track", "need", "due_on", "updated_at"])
    audit.record(
        actor=actor, action="meetings.decision.track", obj=decision, node_code=meeting.place.code,
        after={"track": "project", "need": need.pk},
    )  # fmt: skip
    return decision


@transaction.atomic
def track_as_task(*, actor: User, decision_id: int, owner_id: int, due_on: datetime.date) -> Decision:
    """The decision becomes a task of someone on the meeting's ground, with a due date."""
    from gongzhi.accounts.models import User as UserModel

    decision = _decision(actor, decision_id)
    _untracked(decision)
    owner = UserModel.objects.restrict(actor, "view").filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise _invalid(
            "owner_id",
            pgettext_lazy("meetings", "Choose someone of your ground."),
            pgettext_lazy("meetings", "The task could not be saved."),
        )
    decision.track, decision.owner, decision.due_on = Track.TASK, owner, due_on
    decision.save(update_fields=["track", "owner", "due_on", "updated_at"])
    audit.record(
        actor=actor, action="meetings.decision.track", obj=decision, node_code=decision.meeting.place.code,
        after={"track": "task", "owner": owner.pk, "due_on": due_on.isoformat()},
    )  # fmt: skip
    _tell(decision, actor, owner_too=True)
    return decision


@transaction.atomic
def report_task(*, actor: User, decision_id: int, progress: int, dropped: bool = False) -> Decision:
    """The task's owner (or the meeting's staff) reports its progress; 100 % is done."""
    decision = get_in_scope(Decision, actor, decision_id, "view", Decision.objects.select_related("meeting__place"))
    if decision.track != Track.TASK:
        raise Conflict(pgettext_lazy("meetings", "This decision is not a task."))
    may_change = Decision.objects.restrict(actor, "change").filter(pk=decision.pk).exists()
    if decision.owner_id != actor.pk and not may_change:
        raise Forbidden(pgettext_lazy("meetings", "Only the task's owner or the meeting's staff report on it."))
    if not 0 <= progress <= 100:
        raise _invalid(
            "progress",
            pgettext_lazy("meetings", "between 0 and 100"),
            pgettext_lazy("meetings", "The task could not be saved."),
        )
    if dropped:
        status = DecisionStatus.CANCELLED
    else:
        status = (
            DecisionStatus.DONE if progress >= 100 else DecisionStatus.IN_PROGRESS if progress else DecisionStatus.OPEN
        )
    _apply(decision, status, progress, actor)
    return decision


# --- following the work ---------------------------------------------------------------------------------------------

CASE_PROGRESS: dict[str, tuple[str, int]] = {
    CaseStatus.REPORTED: (DecisionStatus.OPEN, 0),
    CaseStatus.ACCEPTED: (DecisionStatus.OPEN, 10),
    CaseStatus.DISPATCHED: (DecisionStatus.IN_PROGRESS, 20),
    CaseStatus.RETURNED: (DecisionStatus.IN_PROGRESS, 20),
    CaseStatus.ACKNOWLEDGED: (DecisionStatus.IN_PROGRESS, 30),
    CaseStatus.IN_PROGRESS: (DecisionStatus.IN_PROGRESS, 50),
    CaseStatus.POSTPONED: (DecisionStatus.IN_PROGRESS, 50),
    CaseStatus.REWORK: (DecisionStatus.IN_PROGRESS, 60),
    CaseStatus.DISPOSED: (DecisionStatus.IN_PROGRESS, 80),
    CaseStatus.VERIFYING: (DecisionStatus.IN_PROGRESS, 90),
    CaseStatus.CLOSED: (DecisionStatus.DONE, 100),
    CaseStatus.FOLLOWED_UP: (DecisionStatus.DONE, 100),
    CaseStatus.MERGED: (DecisionStatus.IN_PROGRESS, 50),
    CaseStatus.REJECTED: (DecisionStatus.CANCELLED, 0),
    CaseStatus.CANCELLED: (DecisionStatus.CANCELLED, 0),
}


def follows(decision: Decision) -> tuple[str, int] | None:
    """The status and progress the decision's work says now (``None``: a task, or nothing tracked)."""
    if decision.track == Track.CASE and decision.case is not None:
        return CASE_PROGRESS.get(decision.case.status, (DecisionStatus.IN_PROGRESS, 50))
    if decision.track == Track.PROJECT and decision.need is not None:
        need = decision.need
        if need.status == "withdrawn":
            return DecisionStatus.CANCELLED, 0
        project = need.projects.order_by("-created_at").first()
        if project is None:
            return DecisionStatus.OPEN, 0
        if project.state == ProjectState.ACCEPTED:
            return DecisionStatus.DONE, 100
        if project.state == ProjectState.CANCELLED:
            return DecisionStatus.CANCELLED, project.progress
        if project.state == ProjectState.PLANNED and not project.progress:
            return DecisionStatus.IN_PROGRESS, 10
        return DecisionStatus.IN_PROGRESS, min(project.progress, 99)
    return None


def _apply(decision: Decision, status: str, progress: int, actor: User | None) -> bool:
    if (decision.status, decision.progress) == (status, progress):
        return False
    before = {"status": decision.status, "progress": decision.progress}
    decision.status, decision.progress = status, progress
    decision.done_at = (decision.done_at or timezone.now()) if status == DecisionStatus.DONE else None
    decision.save(update_fields=["status", "progress", "done_at", "updated_at"])
    audit.record(
        actor=actor, action="meetings.decision.follow", obj=decision, node_code=decision.meeting.place.code,
        before=before, after={"status": status, "progress": progress},
    )  # fmt: skip
    _tell(decision, actor)
    return True


def sync(decision: Decision, actor: User | None = None) -> bool:
    """Move the decision to what its case or project says; tell the people concerned when it moved."""
    state = follows(decision)
    if state is None:
        return False
    return _apply(decision, state[0], state[1], actor)


def on_case_event(case: Case, event: Any, actor: User | None) -> None:
    """The cases app's listener (``cases.events``): each step of a case moves the decisions it tracks."""
    for decision in Decision.objects.filter(case_id=case.pk).select_related("meeting__place", "item__topic"):
        decision.case = case
        sync(decision, actor)


@transaction.atomic
def sync_projects() -> int:
    """The scheduler's sweep: decisions tracked as projects follow their projects (the three lists tell nobody
    above them). How many moved."""
    moved = 0
    rows = Decision.objects.filter(track=Track.PROJECT).exclude(
        status__in=[DecisionStatus.DONE, DecisionStatus.CANCELLED]
    )
    for decision in rows.select_related("meeting__place", "need", "item__topic"):
        moved += sync(decision, None)
    return moved


def concerned(decision: Decision) -> tuple[list[int], list[str]]:
    """Who is told of a decision's change: the proposers of its topic (an account, or the phone a grid worker took
    down) and the meeting's attendees who signed in with an account."""
    users: list[int] = []
    phones: list[str] = []
    topic = decision.item.topic if decision.item is not None else None
    if topic is not None:
        if topic.proposed_by_id:
            users.append(topic.proposed_by_id)
        elif topic.proposer_phone:
            phones.append(topic.proposer_phone)
    users += [
        uid
        for uid in decision.meeting.attendance.filter(present=True, user__isnull=False).values_list(
            "user_id", flat=True
        )
        if uid is not None
    ]
    return list(dict.fromkeys(users)), phones


def _tell(decision: Decision, actor: User | None, owner_too: bool = False) -> None:
    users, phones = concerned(decision)
    if owner_too and decision.owner_id:
        users.append(decision.owner_id)
    recipients = [messaging.Recipient(user_id=uid) for uid in dict.fromkeys(users)]
    recipients += [messaging.Recipient(user_id=None, phone=p) for p in phones]
    if not recipients:
        return
    messaging.notify(
        actor=actor,
        recipients=recipients,
        kind=DECISION_KIND,
        # An inbox text is kept as its msgid and shown in the reader's language (core.messages.portable reads
        # gettext_lazy msgids, not pgettext's): these two texts carry no context.
        text=gettext_lazy("The decision of %(meeting)s “%(text)s” is now: %(status)s (%(progress)s%%)."),
        params={
            "meeting": decision.meeting.title,
            "text": decision.text[:60],
            "status": DecisionStatus(decision.status).label,
            "progress": decision.progress,
        },
        link=reverse("meetings-decision", args=[decision.pk]),
        obj=decision,
        dedupe=f"meetings.decision:{decision.pk}:{decision.status}:{decision.progress}:{decision.track}",
    )


# --- rota -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def set_rota(*, actor: User, series_id: int, body_ids: Sequence[int]) -> Series:
    """Set a joint meeting's rota: the member bodies in this order. A body left out stays in the history, out of
    the rota (skipped by the chair); one brought back takes its new place."""
    series = get_in_scope(Series, actor, series_id, "change", Series.objects.select_related("place"))
    bodies = {b.pk: b for b in Body.objects.restrict(actor, "view").filter(pk__in=list(body_ids))}
    missing = [b for b in body_ids if b not in bodies]
    if missing:
        raise _invalid(
            "body_ids", fmt(pgettext_lazy("meetings", "Not an organisation of your ground: %(ids)s"), ids=missing)
        )
    current = {m.body_id: m for m in series.rota.all()}
    top = max((m.position for m in current.values()), default=0)
    RotaMember.objects.filter(series=series).update(position=models_offset(top))
    for i, body_id in enumerate(body_ids, start=1):
        member = current.get(body_id)
        if member is None:
            RotaMember.objects.create(series=series, body_id=body_id, position=i, is_active=True)
        else:
            RotaMember.objects.filter(pk=member.pk).update(position=i, is_active=True)
    leaving = [m.pk for b, m in current.items() if b not in body_ids]
    for n, pk in enumerate(leaving, start=len(body_ids) + 1):
        RotaMember.objects.filter(pk=pk).update(position=n, is_active=False)
    audit.record(
        actor=actor, action="meetings.rota.set", obj=series, node_code=series.place.code,
        after={"bodies": list(body_ids), "left": leaving},
    )  # fmt: skip
    return series


def models_offset(top: int) -> Any:
    """Positions moved out of the way (1000 + old) before the new order is written (the unique position)."""
    from django.db.models import F

    return F("position") + 1000 + top


@transaction.atomic
def leave_rota(*, actor: User, series_id: int, body_id: int) -> RotaMember:
    """A member body leaves the rota: it keeps its place in the history and is skipped from now on."""
    series = get_in_scope(Series, actor, series_id, "change", Series.objects.select_related("place"))
    member = series.rota.filter(body_id=body_id).first()
    if member is None:
        raise _invalid("body_id", pgettext_lazy("meetings", "Not a member of this rota."))
    member.is_active = False
    member.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="meetings.rota.leave", obj=member, node_code=series.place.code)
    return member
