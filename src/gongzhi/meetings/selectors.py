"""Reads of meetings, from ``restrict(user, action)``; the public record of a community (no account, no personal
data); and the figures, each of which opens the records behind it (:func:`records`).

Figures over a place and a period (meetings by their start):
* meetings held; topics raised (proposed on the place in the period); decisions (of those meetings);
* decisions done on time (done, and by their due date where they have one);
* problems raised per meeting (its agenda items) and solved (items with a decision done) — the seed's 社情茶社:
  25 sessions, 47 problems solved;
* attendance: people present at the meetings held (and the members invited, present).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts import selectors as accounts_selectors
from gongzhi.accounts.choices import Role
from gongzhi.cases import selectors as cases_selectors
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import NotFound
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q
from gongzhi.meetings import services
from gongzhi.meetings.choices import DecisionStatus, MeetingStatus, TopicStatus
from gongzhi.meetings.models import AgendaItem, Attendance, Decision, Meeting, MeetingKind, Series, Support, Topic
from gongzhi.participation import selectors as participation_selectors
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User


TASK_OWNER_ROLES = (Role.COMMUNITY_STAFF, Role.GRID_LEADER, Role.GRID_WORKER, Role.SUBDISTRICT_OPERATOR)


def kinds() -> QuerySet[MeetingKind]:
    return MeetingKind.objects.filter(is_active=True)


def meeting_list(
    *,
    user: User,
    q: str | None = None,
    kind_id: int | None = None,
    status: str | None = None,
    place_code: str = "",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> ScopedQuerySet[Meeting]:
    qs = Meeting.objects.restrict(user, "view").select_related("kind", "place", "body", "chair_body")
    if q:
        qs = qs.filter(title__icontains=q)
    if kind_id:
        qs = qs.filter(kind_id=kind_id)
    if status:
        qs = qs.filter(status=status)
    if place_code:
        qs = qs.filter(code_prefix_q("place__code", place_code))
    if start:
        qs = qs.filter(starts_at__date__gte=start)
    if end:
        qs = qs.filter(starts_at__date__lte=end)
    return qs.annotate(n_items=Count("items", distinct=True))


def meeting_get(*, user: User, meeting_id: int) -> Meeting:
    return get_in_scope(
        Meeting,
        user,
        meeting_id,
        "view",
        Meeting.objects.select_related("kind", "place", "body", "chair_body", "series"),
    )


def may_run(*, user: User, meeting: Meeting) -> bool:
    return Meeting.objects.restrict(user, "change").filter(pk=meeting.pk).exists()


def items(*, user: User, meeting: Meeting) -> list[AgendaItem]:
    return list(
        AgendaItem.objects.restrict(user, "view")
        .filter(meeting=meeting)
        .select_related("topic", "case", "need", "dispute")
        .prefetch_related("decisions")
    )


def attendance(*, user: User, meeting: Meeting) -> QuerySet[Attendance]:
    return Attendance.objects.restrict(user, "view").filter(meeting=meeting).order_by("-member", "name")


def decisions(*, user: User, meeting: Meeting) -> QuerySet[Decision]:
    return (
        Decision.objects.restrict(user, "view").filter(meeting=meeting).select_related("case", "need", "owner", "item")
    )


def decision_list(*, user: User, status: str | None = None, track: str | None = None) -> QuerySet[Decision]:
    qs = Decision.objects.restrict(user, "view").select_related("meeting__place", "case", "owner")
    if status:
        qs = qs.filter(status=status)
    if track:
        qs = qs.filter(track=track)
    return qs.order_by("-meeting__starts_at", "-id")


def decision_get(*, user: User, decision_id: int) -> Decision:
    qs = Decision.objects.select_related("meeting__place", "meeting__kind", "case", "need", "owner", "item__topic")
    return get_in_scope(Decision, user, decision_id, "view", qs)


def may_follow(*, user: User, decision: Decision) -> bool:
    """Someone told of the decision (its topic's proposer, an attendee) may read it even off their ground."""
    users, _phones = services.concerned(decision)
    return user.pk in users or decision.owner_id == user.pk


def decision_for_concerned(*, user: User, decision_id: int) -> Decision:
    """A decision off the user's ground, for one told of it (its topic's proposer, an attendee, the task's owner);
    else a 404 as for any row out of scope."""
    qs = Decision.objects.select_related("meeting__place", "meeting__kind", "case", "need", "owner", "item__topic")
    decision = qs.filter(pk=decision_id).first()
    if decision is None or not may_follow(user=user, decision=decision):
        raise NotFound()
    return decision


def meeting_public(*, meeting_id: int) -> Meeting | None:
    """A meeting as its QR code's sign-in page shows it: title, place, time (what the printed code says anyway)."""
    return Meeting.objects.select_related("kind", "place").filter(pk=meeting_id).first()


def my_tasks(*, user: User) -> QuerySet[Decision]:
    return (
        Decision.objects.filter(owner=user)
        .exclude(status__in=[DecisionStatus.DONE, DecisionStatus.CANCELLED])
        .select_related("meeting")
    )


def topic_list(*, user: User, open_only: bool = False, place_code: str = "") -> QuerySet[Topic]:
    qs = (
        Topic.objects.restrict(user, "view")
        .select_related("place", "meeting")
        .annotate(n_support=Count("supports", distinct=True))
    )
    if open_only:
        qs = qs.filter(status=TopicStatus.PROPOSED)
    if place_code:
        qs = qs.filter(code_prefix_q("place__code", place_code))
    return qs.order_by("-n_support", "-created_at", "-id")


def topics_for(*, user: User, meeting: Meeting) -> QuerySet[Topic]:
    """The open topics a meeting may take: proposed on its place or below it."""
    return topic_list(user=user, open_only=True, place_code=meeting.place.code)


def my_topics(*, user: User) -> QuerySet[Topic]:
    supported = Support.objects.filter(topic=OuterRef("pk"), user=user)
    return (
        Topic.objects.filter(Q(proposed_by=user) | Q(Exists(supported)))
        .select_related("place", "meeting")
        .annotate(n_support=Count("supports", distinct=True))
        .order_by("-created_at")
    )


def topic_decisions(*, topic: Topic) -> QuerySet[Decision]:
    return Decision.objects.filter(item__topic=topic).select_related("meeting", "case")


def supported(*, user: User, topic_ids: list[int]) -> set[int]:
    return set(Support.objects.filter(user=user, topic_id__in=topic_ids).values_list("topic_id", flat=True))


def open_cases_for(*, user: User, meeting: Meeting) -> QuerySet[Any]:
    return cases_selectors.case_list(user=user, node_id=meeting.place_id, open_only=True)[:50]


def needs_for(*, user: User, meeting: Meeting) -> QuerySet[Any]:
    return participation_selectors.need_list(user=user, place=meeting.place, status="open")[:50]


def owners_for(*, user: User, meeting: Meeting) -> list[Any]:
    """Who may own a decision's task: staff and grid workers the user may see, posted on the meeting's place or
    below it."""
    qs = accounts_selectors.user_list(user=user).filter(
        code_prefix_q("role_assignments__node__code", meeting.place.code),
        role_assignments__role__in=TASK_OWNER_ROLES,
    )
    return list(qs.distinct()[:200])


def series_list(*, user: User) -> QuerySet[Series]:
    return Series.objects.restrict(user, "view").select_related("kind", "place", "body").prefetch_related("rota__body")


def series_get(*, user: User, series_id: int) -> Series:
    qs = Series.objects.restrict(user, "view").select_related("kind", "place", "body")
    return get_in_scope(Series, user, series_id, "view", qs)


@dataclass
class RotaRow:
    position: int
    body: Any
    active: bool
    next: bool = False


def rota(*, series: Series) -> list[RotaRow]:
    chair = services.next_chair(series)
    return [
        RotaRow(m.position, m.body, m.is_active, next=chair is not None and m.body_id == chair.pk)
        for m in series.rota.select_related("body").order_by("position")
    ]


# --- the public record (Decidim's accountability): no account, no personal data -----------------------------------


@dataclass
class PublicDecision:
    text: str
    status: str
    status_label: str
    progress: int
    track: str
    due_on: datetime.date | None
    done_on: datetime.date | None


@dataclass
class PublicMeeting:
    pk: int
    title: str
    kind: str
    place: str
    date: datetime.date
    status: str
    items: list[str] = field(default_factory=list)
    decisions: list[PublicDecision] = field(default_factory=list)
    notice: str = ""


def public_community(*, code: str) -> Node | None:
    return participation_selectors.public_community(code=code)


def public_communities() -> list[Node]:
    return participation_selectors.public_communities()


PUBLIC_PAGE = 20  # meetings per page of a community's public record


def public_meetings(*, community: Node) -> QuerySet[Meeting]:
    """A community's meetings held, newest first: its public record, read a page at a time (:func:`to_public`)."""
    return (
        Meeting.objects.filter(code_prefix_q("place__code", community.code), status=MeetingStatus.HELD)
        .select_related("kind", "place")
        .prefetch_related("decisions", "items")
        .order_by("-starts_at", "-pk")
    )


def public_record(*, community: Node, page: int | str | None = 1) -> Page[PublicMeeting]:
    """One page of a community's public record: its meetings held (newest first) with their agenda's titles and
    decisions' progress; names of people never (a topic's proposer, attendees, a task's owner), and a case only by
    what it is: its status. A page number out of range gives the last page."""
    pages: Paginator[Any] = Paginator(public_meetings(community=community), PUBLIC_PAGE)
    shown = pages.get_page(page)
    return Page([to_public(m) for m in shown.object_list], shown.number, pages)


def public_notices(*, community: Node, today: datetime.date) -> list[PublicMeeting]:
    """Hearings (and any meeting with a public notice) still ahead: their notice is public."""
    qs = (
        Meeting.objects.filter(code_prefix_q("place__code", community.code), status=MeetingStatus.PLANNED)
        .exclude(notice="")
        .filter(starts_at__date__gte=today)
        .select_related("kind", "place")
        .order_by("starts_at")
    )
    return [to_public(m) for m in qs]


def to_public(m: Meeting) -> PublicMeeting:
    return PublicMeeting(
        pk=m.pk,
        title=m.title,
        kind=m.kind.name,
        place=m.place.name,
        date=timezone.localtime(m.starts_at).date(),
        status=m.status,
        items=[i.title if i.case_id is None else str(i.title).split(" ", 1)[-1] for i in m.items.all()],
        decisions=[
            PublicDecision(
                text=d.text,
                status=d.status,
                status_label=str(DecisionStatus(d.status).label),
                progress=d.progress,
                track=d.track,
                due_on=d.due_on,
                done_on=timezone.localtime(d.done_at).date() if d.done_at else None,
            )
            for d in m.decisions.all()
        ],
        notice=m.notice,
    )


# --- figures (each opens its records) -------------------------------------------------------------------------------

WHAT = ("meetings", "topics", "decisions", "ontime", "problems", "solved", "attendance")


@dataclass
class Figures:
    meetings: int
    topics: int
    decisions: int
    done: int
    ontime: int
    problems: int
    solved: int
    present: int
    members_invited: int
    members_present: int

    @property
    def attendance_rate(self) -> int | None:
        return round(100 * self.members_present / self.members_invited) if self.members_invited else None


def _held(user: User, place_code: str, start: datetime.date | None, end: datetime.date | None) -> Any:
    return meeting_list(user=user, place_code=place_code, start=start, end=end).filter(status=MeetingStatus.HELD)


def _solved_q() -> Q:
    return Q(decisions__status=DecisionStatus.DONE)


def _ontime_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": DecisionStatus.DONE}) & (
        Q(**{f"{prefix}due_on__isnull": True}) | Q(**{f"{prefix}done_at__date__lte": F(f"{prefix}due_on")})
    )


def figures(
    *, user: User, place_code: str = "", start: datetime.date | None = None, end: datetime.date | None = None
) -> Figures:
    held = _held(user, place_code, start, end)
    held_ids = held.values("pk")
    decisions_qs = Decision.objects.restrict(user, "view").filter(meeting__in=held_ids)
    items_qs = AgendaItem.objects.restrict(user, "view").filter(meeting__in=held_ids)
    att = Attendance.objects.restrict(user, "view").filter(meeting__in=held_ids)
    return Figures(
        meetings=held.count(),
        topics=records(user=user, what="topics", place_code=place_code, start=start, end=end).count(),
        decisions=decisions_qs.count(),
        done=decisions_qs.filter(status=DecisionStatus.DONE).count(),
        ontime=decisions_qs.filter(_ontime_q()).count(),
        problems=items_qs.count(),
        solved=items_qs.filter(_solved_q()).distinct().count(),
        present=att.filter(present=True).count(),
        members_invited=att.filter(member=True, invited=True).count(),
        members_present=att.filter(member=True, invited=True, present=True).count(),
    )


def per_meeting(
    *, user: User, place_code: str = "", start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet[Meeting]:
    """Each meeting held with its problems raised and solved and the people present (the per-meeting table)."""
    result: QuerySet[Meeting] = (
        _held(user, place_code, start, end)
        .annotate(
            problems=Count("items", distinct=True),
            solved=Count("items", filter=Q(items__decisions__status=DecisionStatus.DONE), distinct=True),
            present=Count("attendance", filter=Q(attendance__present=True), distinct=True),
        )
        .order_by("-starts_at")
    )
    return result


def records(
    *,
    user: User,
    what: str,
    place_code: str = "",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    meeting_id: int | None = None,
) -> QuerySet[Any]:
    """The records behind a figure: its count is exactly ``records(...).count()``."""
    held = _held(user, place_code, start, end)
    if meeting_id:
        held = held.filter(pk=meeting_id)
    if what == "meetings":
        result: QuerySet[Any] = held.order_by("-starts_at")
        return result
    if what == "topics":
        qs = Topic.objects.restrict(user, "view").select_related("place", "meeting")
        if place_code:
            qs = qs.filter(code_prefix_q("place__code", place_code))
        if start:
            qs = qs.filter(created_at__date__gte=start)
        if end:
            qs = qs.filter(created_at__date__lte=end)
        if meeting_id:
            qs = qs.filter(meeting_id=meeting_id)
        return qs.order_by("-created_at")
    if what in ("decisions", "ontime"):
        qs_d = Decision.objects.restrict(user, "view").filter(meeting__in=held.values("pk"))
        if what == "ontime":
            qs_d = qs_d.filter(_ontime_q())
        return qs_d.select_related("meeting", "case").order_by("-meeting__starts_at", "id")
    if what in ("problems", "solved"):
        qs_i = AgendaItem.objects.restrict(user, "view").filter(meeting__in=held.values("pk"))
        if what == "solved":
            qs_i = qs_i.filter(pk__in=AgendaItem.objects.filter(_solved_q()).values("pk"))
        return qs_i.select_related("meeting").order_by("-meeting__starts_at", "order")
    if what == "attendance":
        return (
            Attendance.objects.restrict(user, "view")
            .filter(meeting__in=held.values("pk"), present=True)
            .select_related("meeting")
            .order_by("-meeting__starts_at", "name")
        )
    raise ValueError(what)
