"""Demo meetings (议事, issue 22): a year of them over the copy's communities — 社情茶社 tea-house talks (in the main
copy 25 sessions whose 50 problems were 47 solved, as seed 001 reports), monthly 网格夜谈会 night talks on the 15th
(moved to the next working day) in one grid of each community that holds them, monthly 三驾马车 joint meetings with
a rotating chair (the last member body leaves the rota half-way), one hearing held and one whose public notice is up;
decisions in every state: tasks done (on time or late), in progress, dropped, untracked, needs of the three lists,
and in the main copy a few cases through the intake and the case workflow (closed, in progress, cancelled), which
move their decisions through the cases app's event listener. Written in bulk except those cases."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.cases import workflow
from gongzhi.cases.calendar import WorkCalendar
from gongzhi.cases.models import Category
from gongzhi.demo import names
from gongzhi.meetings import services as meetings
from gongzhi.meetings.choices import DecisionStatus, ItemSource, MeetingStatus, SignIn, TopicStatus, Track
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
from gongzhi.participation.models import NeedCategory
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext, Out

SEED_TAG = "meetings"
TEAHOUSE_SESSIONS = 25
TEAHOUSE_PROBLEMS = 50
TEAHOUSE_SOLVED = 47
NIGHT_TALK_COMMUNITIES = 6
JOINT_COMMUNITIES = 2
PROBLEMS = (
    "楼道堆放杂物",
    "电动车楼内充电",
    "飞线充电",
    "绿化带晾晒衣物",
    "小区路面破损",
    "雨后积水",
    "垃圾清运不及时",
    "宠物扰民",
    "高空抛物隐患",
    "毁绿种菜",
    "电梯停运",
    "消防通道被占",
    "夜间噪音",
    "停车位不足",
    "路灯不亮",
    "健身器材损坏",
    "老旧小区加装电梯",
    "独居老人就餐难",
    "快递乱堆放",
    "小区门禁损坏",
)
RESOLUTIONS = (
    "由物业三日内清理，网格员跟踪",
    "社区协调增设充电桩",
    "网格党支部组织志愿者整治",
    "报街道城管科处理",
    "业委会牵头制定公约",
    "社区联系供电公司维修",
    "纳入本年度为民办实事项目",
)


def _at(day: date, hour: int = 19) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _present(rng: random.Random, meeting: Meeting, n: int, members: int = 0) -> list[Attendance]:
    rows = []
    for i in range(n):
        member = i < members
        rows.append(
            Attendance(
                meeting=meeting, name=names.person_name(rng), member=member, invited=member,
                present=not member or rng.random() < 0.85, signed_in_at=meeting.starts_at,
                how=SignIn.QR if rng.random() < 0.6 else SignIn.SECRETARY,
            )
        )  # fmt: skip
    return rows


def _decision(
    rng: random.Random, meeting: Meeting, item: AgendaItem, owner: int | None, state: str, today: date
) -> Decision:
    held = meeting.starts_at.date()
    due = held + timedelta(days=rng.randint(10, 30))
    d = Decision(meeting=meeting, item=item, text=f"{item.title}：{rng.choice(RESOLUTIONS)}", due_on=due)
    if rng.random() < 0.4:
        d.votes_for, d.votes_against, d.votes_abstain = rng.randint(7, 15), rng.randint(0, 2), rng.randint(0, 2)
    if state == "none":
        d.due_on = None
        return d
    d.track, d.owner_id = Track.TASK, owner
    if state == "done":
        late = rng.random() < 0.2
        finished = due + timedelta(days=rng.randint(1, 10)) if late else held + timedelta(days=rng.randint(2, 9))
        finished = min(finished, today)
        d.status, d.progress, d.done_at = DecisionStatus.DONE, 100, _at(finished, 16)
    elif state == "in_progress":
        d.status, d.progress = DecisionStatus.IN_PROGRESS, rng.choice((20, 40, 60, 80))
    elif state == "cancelled":
        d.status, d.progress = DecisionStatus.CANCELLED, 0
    return d


def create_meetings(ctx: BuildContext) -> int:
    """A year of one copy's meetings. Returns the meetings made."""
    rng = random.Random(f"{SEED_TAG}:{ctx.k}")
    meetings.ensure_kinds()
    kinds = {k.code: k for k in MeetingKind.objects.all()}
    code = ctx.code
    communities = list(
        Node.objects.filter(code__startswith=code, kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE]).order_by("code")
    )
    if not communities:
        return 0
    grids: dict[str, list[Node]] = defaultdict(list)
    for grid in Node.objects.filter(code__startswith=code, kind=NodeKind.GRID).order_by("code"):
        grids[grid.code[:12]].append(grid)
    staff = dict(
        RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, node__in=communities)
        .order_by("-user_id")
        .values_list("node__code", "user_id")
    )
    workers = dict(
        RoleAssignment.objects.filter(role=Role.GRID_WORKER, node__code__startswith=code)
        .order_by("-user_id")
        .values_list("node__code", "user_id")
    )
    residents = list(
        RoleAssignment.objects.filter(role=Role.RESIDENT, node__code__startswith=code)
        .order_by("user_id")
        .values_list("user_id", "node__code")
    )
    today = ctx.now.date()
    start = today - timedelta(days=365)
    cal = WorkCalendar.for_code(code)
    made: list[Meeting] = []
    pending: list[tuple[Meeting, list[tuple[str, str, Topic | None]]]] = []  # meeting, [(title, state, topic)]

    # 社情茶社: 25 sessions over the year in the first communities; 50 problems, 47 solved.
    teahouse_places = communities[: min(5, len(communities))]
    sessions = TEAHOUSE_SESSIONS if ctx.is_main else 8
    problems = TEAHOUSE_PROBLEMS if ctx.is_main else 16
    solved = TEAHOUSE_SOLVED if ctx.is_main else 14
    counts = [2] * sessions
    for _i in range(problems - 2 * sessions):
        counts[rng.randrange(sessions)] += 1
    states = ["done"] * solved + ["in_progress"] * (problems - solved)
    rng.shuffle(states)
    for i in range(sessions):
        community = teahouse_places[i % len(teahouse_places)]
        day = start + timedelta(days=int(i * 360 / sessions) + rng.randint(3, 10))
        m = Meeting(kind=kinds["teahouse"], title=f"{community.name}社情茶社第{i + 1}期", place=community,
                    body=community.lead_body, starts_at=_at(min(day, today - timedelta(days=2)), 15),
                    location=f"{community.name}党群服务中心茶室", status=MeetingStatus.HELD)  # fmt: skip
        m.held_at = m.starts_at
        made.append(m)
        pending.append((m, [(rng.choice(PROBLEMS), states.pop(), None) for _n in range(counts[i])]))

    # 网格夜谈会: a series in one grid of each of the first communities, on the 15th.
    # … and in 大干社区, whose secretary is the ``dagan`` log-in (its meetings page is not empty).
    talk_communities = communities[:NIGHT_TALK_COMMUNITIES] + [
        c for c in communities[NIGHT_TALK_COMMUNITIES:] if c.name == names.OVERLAP_COMMUNITY
    ]
    talk_grids = [grids[c.code][0] for c in talk_communities if grids.get(c.code)]
    series_rows = [
        Series(kind=kinds["night_talk"], title=f"{g.name}夜谈会", place=g, day_of_month=15, start_time=time(19),
               location=f"{g.name}党群服务站")
        for g in talk_grids
    ]  # fmt: skip
    Series.objects.bulk_create(series_rows)
    topics: list[Topic] = []
    for series in series_rows:
        grid_residents = [uid for uid, c in residents if c.startswith(series.place.code[:12])]
        y, mo = start.year, start.month
        for _n in range(12):
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
            day = meetings.planned_day(y, mo, 15, cal.is_workday)
            if day >= today:
                break
            m = Meeting(kind=series.kind, series=series, title=f"{series.title}（{mo}月）", place=series.place,
                        starts_at=_at(day), location=series.location, status=MeetingStatus.HELD)  # fmt: skip
            m.held_at = m.starts_at
            made.append(m)
            agenda: list[tuple[str, str, Topic | None]] = []
            for _t in range(rng.randint(1, 2)):
                title = rng.choice(PROBLEMS)
                by_resident = grid_residents and rng.random() < 0.5
                topic = Topic(place=series.place, title=title, status=TopicStatus.DECIDED,
                              proposed_by_id=rng.choice(grid_residents) if by_resident else None,
                              entered_by_id=None if by_resident else workers.get(series.place.code),
                              proposer_name="" if by_resident else names.person_name(rng))  # fmt: skip
                topics.append(topic)
                state = rng.choices(["done", "in_progress", "cancelled", "none"], weights=(6, 2, 1, 1))[0]
                agenda.append((title, state, topic))
            pending.append((m, agenda))
    # Open topics for the coming night talk, some supported.
    for series in series_rows:
        for title in rng.sample(PROBLEMS, 2):
            topics.append(Topic(place=series.place, title=title, proposer_name=names.person_name(rng),
                                entered_by_id=workers.get(series.place.code)))  # fmt: skip
    Topic.objects.bulk_create(topics)

    # 三驾马车联席会议: monthly, chaired in turn; the last member body leaves the rota after six months.
    joint_made = 0
    for community in communities[:JOINT_COMMUNITIES]:
        others = Body.objects.filter(
            node__code__startswith=community.code, kind__in=[BodyKind.OWNERS_COMMITTEE, BodyKind.PROPERTY_COMPANY]
        ).exclude(pk=community.lead_body_id)
        bodies = [community.lead_body, *others.order_by("kind", "pk")[:2]]
        if len(bodies) < 2:
            continue
        series = Series.objects.create(kind=kinds["joint"], title=f"{community.name}三驾马车联席会议", place=community,
                                       body=community.lead_body, day_of_month=10, start_time=time(14),
                                       location=f"{community.name}会议室")  # fmt: skip
        RotaMember.objects.bulk_create(
            [RotaMember(series=series, body=b, position=i) for i, b in enumerate(bodies, start=1)]
        )
        members = [(i, b.pk, True) for i, b in enumerate(bodies, start=1)]
        last: int | None = None
        y, mo = start.year, start.month
        for n in range(12):
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
            day = meetings.planned_day(y, mo, 10, cal.is_workday)
            if day >= today:
                break
            if n == 6 and len(members) > 2:  # the last member (a property company) leaves the rota
                members[-1] = (members[-1][0], members[-1][1], False)
                RotaMember.objects.filter(series=series, body_id=members[-1][1]).update(is_active=False)
            chair = meetings.rotate(members, last)
            last = next(p for p, b, _a in members if b == chair)
            m = Meeting(kind=series.kind, series=series, title=f"{series.title}（{mo}月）", place=community,
                        body=community.lead_body, chair_body_id=chair, starts_at=_at(day, 14),
                        location=series.location, status=MeetingStatus.HELD)  # fmt: skip
            m.held_at = m.starts_at
            made.append(m)
            joint_made += 1
            state = rng.choices(["done", "in_progress", "none"], weights=(6, 2, 1))[0]
            pending.append((m, [(rng.choice(PROBLEMS), state, None)]))

    # 听证会: one held four months ago, one whose public notice is up now.
    hearing_place = communities[0]
    held = Meeting(kind=kinds["hearing"], title=f"{hearing_place.name}老旧小区加装电梯听证会", place=hearing_place,
                   body=hearing_place.lead_body, starts_at=_at(today - timedelta(days=120), 9),
                   notice="听证事项：老旧小区加装电梯方案及费用分摊。欢迎居民报名旁听、发言。",
                   notice_from=today - timedelta(days=130), status=MeetingStatus.HELD)  # fmt: skip
    held.held_at = held.starts_at
    made.append(held)
    pending.append((held, [("老旧小区加装电梯", "in_progress", None)]))
    made.append(
        Meeting(kind=kinds["hearing"], title=f"{hearing_place.name}停车位收费调整听证会", place=hearing_place,
                body=hearing_place.lead_body, starts_at=_at(today + timedelta(days=10), 9),
                notice="听证事项：小区停车位收费标准调整。公告期七天，欢迎居民报名旁听、发言。",
                notice_from=today - timedelta(days=1))
    )  # fmt: skip
    Meeting.objects.bulk_create(made)

    items: list[AgendaItem] = []
    attendance: list[Attendance] = []
    plans: list[tuple[AgendaItem, str]] = []
    for m, rows in pending:
        for order, (title, state, proposed) in enumerate(rows, start=1):
            item = AgendaItem(meeting=m, order=order, title=title, topic=proposed,
                              source=ItemSource.TOPIC if proposed else ItemSource.OTHER,
                              minutes=f"与会人员就“{title}”充分讨论，形成决议。")  # fmt: skip
            items.append(item)
            plans.append((item, state))
        attendance += _present(rng, m, rng.randint(8, 20), 7 if m.kind.code == "joint" else 0)
    AgendaItem.objects.bulk_create(items)
    Attendance.objects.bulk_create(attendance)
    for t in topics:
        if t.status == TopicStatus.DECIDED:
            t.meeting = next((it.meeting for it in items if it.topic is t), None)
    Topic.objects.bulk_update([t for t in topics if t.meeting is not None], ["meeting"])
    supports = [
        Support(topic=t, user_id=uid)
        for t in topics
        if t.status == TopicStatus.PROPOSED
        for uid, c in rng.sample(residents, min(3, len(residents)))
        if c.startswith(t.place.code[:12])
    ]
    Support.objects.bulk_create(supports, ignore_conflicts=True)
    decisions = [
        _decision(rng, item.meeting, item, staff.get(item.meeting.place.code[:12]), state, today)
        for item, state in plans
    ]
    Decision.objects.bulk_create(decisions)

    if ctx.is_main:
        _through_the_workflow(rng, decisions, staff)
    meetings.plan_recurring(today=today)  # this month's and the next month's night talks and joint meetings
    return len(made)


def _through_the_workflow(rng: random.Random, decisions: list[Decision], staff: dict[str, int]) -> None:
    """A few untracked decisions of the main copy's night talks become cases (intake, dispatch to the community)
    and needs: one case closed, one at work, one cancelled — their decisions follow through the listener."""
    category = Category.objects.filter(is_active=True, parent__isnull=False).order_by("code").first()
    need_category = NeedCategory.objects.filter(is_active=True).order_by("pk").first()
    untracked = [d for d in decisions if d.track == Track.NONE and d.meeting.kind.code == "night_talk"]
    users = {u.pk: u for u in User.objects.filter(pk__in=set(staff.values()))}
    steps = {
        0: ("acknowledge", "start", "dispose", "verify", "close"),
        1: ("acknowledge", "start"),
        2: ("cancel",),
    }
    for n, decision in enumerate(untracked[:5]):
        actor = users.get(staff.get(decision.meeting.place.code[:12], 0))
        if actor is None or category is None:
            continue
        if n == 4 and need_category is not None:
            meetings.track_as_project(actor=actor, decision_id=decision.pk, category_id=need_category.pk)
            continue
        body = decision.meeting.place.lead_body_id if n != 2 else None
        tracked = meetings.track_as_case(
            actor=actor, decision_id=decision.pk, category_id=category.pk, handler_body_id=body,
            due_on=timezone.localdate() + timedelta(days=15),
        )  # fmt: skip
        for action in steps.get(n, ()):
            workflow.perform(actor=actor, case_id=tracked.case_id or 0, action=action, note="按夜谈会决议办理")


def reset_meetings(code: str, bodies: list[int], out: Out) -> int:
    """The copy's meetings (their agenda, attendance and decisions go with them), topics and standing meetings."""
    total = Support.objects.filter(topic__place__code__startswith=code).delete()[0]
    total += Decision.objects.filter(meeting__place__code__startswith=code).delete()[0]
    total += Topic.objects.filter(place__code__startswith=code).delete()[0]
    total += Meeting.objects.filter(place__code__startswith=code).delete()[0]
    total += Series.objects.filter(place__code__startswith=code).delete()[0]
    return int(total)
