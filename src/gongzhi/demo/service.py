"""Demo service posts (岗位认领, issue 21): posts across the copy's communities, published by each community's staff
on its grids; about seven in ten reported-in party members (双报到) claim one (some two, a few gave one up); the last
three months of their service, most of it confirmed by the post's owner. In the main copy, the ``partymember``
log-in: a resident of 府东社区, an on-duty member reported in there who has not claimed a post yet (the browser
journey claims one). Written in bulk (the claim rate is the figure the dashboard reads)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.demo import names
from gongzhi.registry.choices import PartyMemberType, TagKind
from gongzhi.registry.models import PartyMember, Person, PersonTag
from gongzhi.service.choices import CheckMethod, ClaimStatus, Eligibility
from gongzhi.service.models import (
    Activity,
    Claim,
    PersonAccount,
    PersonServed,
    Post,
    PostKind,
    Service,
    SignUp,
    Volunteer,
    VolunteerTeam,
)
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext, Out

SEED_TAG = "service"
CLAIM_SHARE = 0.72  # seed 004: 2,638 of 3,641
TWO_POSTS_SHARE = 0.15
GAVE_UP_SHARE = 0.05
CONFIRMED_SHARE = 0.85
BATCH = 2000
DEMO_USERNAME = "partymember"
TITLES = {
    "楼道长": "{building}楼道长",
    "文明劝导": "{grid}文明劝导岗",
    "垃圾分类督导": "{grid}垃圾分类督导岗",
    "助老": "{grid}助老服务岗",
    "平安巡逻": "{grid}平安巡逻岗",
    "政策宣传": "{grid}政策宣传岗",
    "网格支部委员": "{grid}党支部委员",
}
SCHEDULES = (
    "每周六 8:00–10:00", "每周三、周五晚 18:30–20:00", "每月第一个周日上午", "工作日早 7:00–8:00", "每周日下午",
)  # fmt: skip
WORK = ("清理楼道杂物", "入户宣传", "陪同老人就医", "夜间巡逻", "督导垃圾分类投放", "劝导乱停车", "走访独居老人")


def create_service(ctx: BuildContext) -> int:
    """Posts, claims and service for one copy. Returns the claims made."""
    rng = random.Random(f"{SEED_TAG}:{ctx.k}")
    code = ctx.code
    communities = list(Node.objects.filter(code__startswith=code, kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE]))
    if not communities:
        return 0
    grids: dict[str, list[Node]] = defaultdict(list)
    for grid in Node.objects.filter(code__startswith=code, kind=NodeKind.GRID).order_by("code"):
        grids[grid.code[:12]].append(grid)
    staff = dict(
        RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, node__in=communities)
        .order_by("user_id")
        .values_list("node__code", "user_id")
    )
    operator = (
        RoleAssignment.objects.filter(role=Role.SUBDISTRICT_OPERATOR, node__code=code)
        .values_list("user_id", flat=True)
        .first()
    )
    kinds = {k.name: k for k in PostKind.objects.all()}
    members: dict[str, list[int]] = defaultdict(list)
    on_duty: dict[str, list[int]] = defaultdict(list)
    rows = PartyMember.objects.filter(reported_in=True, person__household__code__startswith=code)
    for person_id, hcode, kind in rows.order_by("person_id").values_list(
        "person_id", "person__household__code", "member_type"
    ):
        members[hcode[:12]].append(person_id)
        if kind == PartyMemberType.ON_DUTY:
            on_duty[hcode[:12]].append(person_id)

    # The demo party member: an on-duty member reported in to 府东社区, left without a claim.
    keep_free: int | None = None
    fudong = next((c for c in communities if c.name == names.JINHE_COMMUNITY), None)
    if ctx.is_main and fudong is not None and on_duty.get(fudong.code):
        keep_free = on_duty[fudong.code][0]

    now = ctx.now
    today = now.date()
    posts: list[Post] = []
    wanted: dict[str, list[int]] = {}
    for community in communities:
        here = [p for p in members.get(community.code, []) if p != keep_free]
        claimants = [p for p in here if rng.random() < CLAIM_SHARE]
        wanted[community.code] = claimants
        places_needed = int(len(claimants) * (1 + TWO_POSTS_SHARE) * 1.25) + 4
        creator = staff.get(community.code) or operator
        community_grids = grids.get(community.code) or [community]
        if creator is None:
            continue
        capacity_sum = 0
        n = 0
        while capacity_sum < places_needed or n < 4:
            kind_name = list(TITLES)[n % len(TITLES)]
            grid = community_grids[n % len(community_grids)]
            capacity = 1 if kind_name == "网格支部委员" else rng.randint(4, 15)
            title = TITLES[kind_name].format(grid=grid.name, building=f"{grid.name}{n // len(TITLES) + 1}号楼")
            posts.append(
                Post(
                    kind=kinds[kind_name], title=title, area=grid, schedule=rng.choice(SCHEDULES), capacity=capacity,
                    eligibility=Eligibility.ANYONE if kind_name == "助老" and n % 3 == 0 else Eligibility.PARTY,
                    created_by_id=creator, description="",
                )
            )  # fmt: skip
            capacity_sum += capacity
            n += 1
    Post.objects.bulk_create(posts, batch_size=BATCH)
    by_community: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_community[post.area.code[:12]].append(post)

    claims: list[Claim] = []
    taken: dict[int, int] = defaultdict(int)

    def place_for(community_code: str, exclude: set[int]) -> Post | None:
        free = [p for p in by_community[community_code] if taken[p.pk] < p.capacity and p.pk not in exclude]
        return rng.choice(free) if free else None

    for community_code, claimants in wanted.items():
        for person_id in claimants:
            held: set[int] = set()
            for _round in range(2 if rng.random() < TWO_POSTS_SHARE else 1):
                chosen = place_for(community_code, held)
                if chosen is None:
                    break
                held.add(chosen.pk)
                taken[chosen.pk] += 1
                claimed = now - timedelta(days=rng.randint(20, 330), hours=rng.randint(0, 10))
                claims.append(Claim(post=chosen, person_id=person_id, claimed_at=claimed))
            if rng.random() < GAVE_UP_SHARE:  # an earlier post given up
                earlier = place_for(community_code, held)
                if earlier is not None:
                    claimed = now - timedelta(days=rng.randint(200, 360))
                    claims.append(
                        Claim(post=earlier, person_id=person_id, claimed_at=claimed, status=ClaimStatus.GIVEN_UP,
                              ended_at=claimed + timedelta(days=rng.randint(30, 150)))
                    )  # fmt: skip
    Claim.objects.bulk_create(claims, batch_size=BATCH)

    services: list[Service] = []
    for claim in claims:
        if claim.status != ClaimStatus.ACTIVE:
            continue
        for _i in range(rng.randint(0, 6)):
            served = today - timedelta(days=rng.randint(1, 90))
            if served < claim.claimed_at.date():
                continue
            confirmed = served < today - timedelta(days=3) and rng.random() < CONFIRMED_SHARE
            services.append(
                Service(
                    claim=claim, served_on=served, hours=Decimal(rng.choice((1, 1.5, 2, 2, 3, 4))),
                    note=rng.choice(WORK), confirmed_by_id=claim.post.created_by_id if confirmed else None,
                    confirmed_at=now - timedelta(days=rng.randint(0, 2)) if confirmed else None,
                )
            )  # fmt: skip
    Service.objects.bulk_create(services, batch_size=BATCH)

    if keep_free is not None and fudong is not None:
        member = PartyMember.objects.select_related("person").get(person_id=keep_free)
        user = User.objects.create(
            username=DEMO_USERNAME, password=ctx.password_hash, display_name=member.person.name,
            phone=member.person.phone, date_joined=now,
        )  # fmt: skip
        RoleAssignment.objects.create(user=user, role=Role.RESIDENT, node=fudong)
        PersonAccount.objects.create(user=user, person=member.person)
    reported = sum(len(v) for v in members.values())
    claiming = len({c.person_id for c in claims if c.status == ClaimStatus.ACTIVE})
    ctx.out(f"    {len(posts)} posts; {claiming:,} of {reported:,} reported-in party members claim one")
    return len(claims)


def reset_service(code: str, bodies: list[int], out: Out) -> int:
    """The copy's posts (their claims and service go with them), its volunteers, teams and activities (sign-ups and
    people served go with them) and the accounts linked to its residents."""
    total = PersonServed.objects.filter(person__household__code__startswith=code).delete()[0]
    total += Activity.objects.filter(area__code__startswith=code).delete()[0]
    total += SignUp.objects.filter(volunteer__person__household__code__startswith=code).delete()[0]
    total += Volunteer.objects.filter(person__household__code__startswith=code).delete()[0]
    total += VolunteerTeam.objects.filter(area__code__startswith=code).delete()[0]
    total += PersonAccount.objects.filter(person__household__code__startswith=code).delete()[0]
    total += Service.objects.filter(claim__post__area__code__startswith=code).delete()[0]
    total += Claim.objects.filter(post__area__code__startswith=code).delete()[0]
    total += Claim.objects.filter(person__household__code__startswith=code).delete()[0]
    total += Post.objects.filter(area__code__startswith=code).delete()[0]
    return int(total)


# --- volunteers (志愿服务, issue 21) ---------------------------------------------------------------------------------

VOLUNTEERS_PER_COMMUNITY = 11  # seed 004: 250 volunteers over 23 communities and villages
ACTIVITIES_PER_MONTH = 2
CONFIRMED_HOURS_SHARE = 0.9
QR_SHARE = 0.7
SKILLS = ("理发", "急救", "维修家电", "辅导功课", "法律咨询", "陪伴聊天", "测血压", "书法", "摄影", "垃圾分类宣传")
AVAILABILITY = ("周末", "工作日晚上", "周六上午", "随时", "每月一次")
ACTIVITIES = (
    ("敬老助老上门服务", "独居老人家中", True),
    ("义务理发进社区", "社区党群服务中心", True),
    ("垃圾分类宣传", "小区广场", False),
    ("文明劝导", "社区主干道", False),
    ("环境整治清洁家园", "小区楼道", False),
    ("健康义诊测血压", "社区卫生服务站", True),
    ("反诈宣传", "社区活动室", False),
    ("关爱独居老人陪伴", "独居老人家中", True),
)


def create_volunteers(ctx: BuildContext) -> int:
    """A volunteer team in every community, about eleven volunteers each (a share of them party members), a year
    of activities (two a month, and two coming), sign-ups checked in by QR or ticked, hours mostly confirmed, and
    the elderly living alone served by the care activities. In the main copy the ``partymember`` log-in is also a
    volunteer of 府东's team with a few confirmed hours. Written in bulk. Returns the sign-ups made."""
    rng = random.Random(f"volunteers:{ctx.k}")
    code = ctx.code
    communities = list(
        Node.objects.filter(code__startswith=code, kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE]).order_by("code")
    )
    staff = dict(
        RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, node__in=communities)
        .order_by("user_id")
        .values_list("node__code", "user_id")
    )
    communities = [c for c in communities if c.code in staff]
    if not communities:
        return 0
    now = ctx.now
    today = now.date()
    teams = [
        VolunteerTeam(name=f"{c.name}志愿服务队", area=c, created_by_id=staff[c.code], description="")
        for c in communities
    ]
    VolunteerTeam.objects.bulk_create(teams, batch_size=BATCH)
    team_of = {t.area.code: t for t in teams}

    # Volunteers: residents 18–75, about a third of them party members.
    demo = PersonAccount.objects.filter(user__username=DEMO_USERNAME, person__household__code__startswith=code)
    demo_person, demo_home = next(iter(demo.values_list("person_id", "person__household__code")), (None, ""))
    adults: dict[str, list[int]] = defaultdict(list)
    youngest, oldest = today.replace(year=today.year - 18), today.replace(year=today.year - 75)
    people = Person.objects.filter(
        household__code__startswith=code, is_active=True, birth_date__lte=youngest, birth_date__gte=oldest
    )
    for person_id, hcode in people.order_by("pk").values_list("pk", "household__code"):
        adults[hcode[:12]].append(person_id)
    members = set(
        PartyMember.objects.filter(person__household__code__startswith=code).values_list("person_id", flat=True)
    )
    accounts = dict(
        PersonAccount.objects.filter(person__household__code__startswith=code).values_list("person_id", "user_id")
    )
    volunteers: list[Volunteer] = []
    for c in communities:
        pool = adults.get(c.code, [])
        party = [p for p in pool if p in members]
        others = [p for p in pool if p not in members]
        chosen = rng.sample(party, min(len(party), VOLUNTEERS_PER_COMMUNITY // 3))
        chosen += rng.sample(others, min(len(others), VOLUNTEERS_PER_COMMUNITY - len(chosen)))
        if demo_person is not None and demo_home.startswith(c.code) and demo_person not in chosen:
            chosen.append(demo_person)
        for person_id in chosen:
            volunteers.append(
                Volunteer(
                    person_id=person_id, team=team_of[c.code], skills="、".join(rng.sample(SKILLS, 2)),
                    availability=rng.choice(AVAILABILITY), joined_on=today - timedelta(days=rng.randint(380, 1500)),
                    user_id=accounts.get(person_id), registered_by_id=staff[c.code],
                )
            )  # fmt: skip
    Volunteer.objects.bulk_create(volunteers, batch_size=BATCH)
    by_team: dict[int, list[Volunteer]] = defaultdict(list)
    for v in volunteers:
        assert v.team is not None
        by_team[v.team.pk].append(v)

    # The elderly living alone of each community, the people the care activities serve.
    alone: dict[str, list[int]] = defaultdict(list)
    tags = PersonTag.objects.filter(
        person__household__code__startswith=code, tag=TagKind.ELDERLY_ALONE, until__isnull=True
    )
    for person_id, hcode in tags.order_by("person_id").values_list("person_id", "person__household__code"):
        alone[hcode[:12]].append(person_id)

    activities: list[Activity] = []
    for c in communities:
        for months_ago in range(12, -1, -1):
            for n in range(ACTIVITIES_PER_MONTH):
                day = today - timedelta(days=30 * months_ago + rng.randint(0, 27))
                if months_ago == 0:  # the coming ones
                    day = today + timedelta(days=2 + 5 * n)
                title, venue, _care = ACTIVITIES[rng.randrange(len(ACTIVITIES))]
                start = timezone.make_aware(datetime.combine(day, time(rng.choice((8, 9, 14)))))
                activities.append(
                    Activity(
                        title=f"{c.name}{title}", team=team_of[c.code], area=c, venue=venue, starts_at=start,
                        ends_at=start + timedelta(hours=rng.choice((2, 2, 3, 4))), capacity=rng.randint(8, 20),
                        created_by_id=staff[c.code], description="",
                    )
                )  # fmt: skip
    Activity.objects.bulk_create(activities, batch_size=BATCH)

    signups: list[SignUp] = []
    served: list[PersonServed] = []
    for a in activities:
        team = by_team.get(a.team.pk if a.team else 0, [])
        if not team:
            continue
        past = a.ends_at < now
        if not past and demo_person is not None:  # the demo volunteer leaves the coming ones to sign up for
            team = [v for v in team if v.person_id != demo_person]
        picked = rng.sample(team, min(len(team), rng.randint(3, min(a.capacity, 9))))
        for v in picked:
            row = SignUp(activity=a, volunteer=v, user_id=v.user_id, signed_up_at=a.starts_at - timedelta(days=3))
            if past:
                late = timedelta(minutes=rng.choice((0, 5, 10, 20)))
                early = timedelta(minutes=rng.choice((0, 0, 10, 30)))
                row.checked_in_at, row.checked_out_at = a.starts_at + late, a.ends_at - early
                row.check_method = CheckMethod.QR if rng.random() < QR_SHARE else CheckMethod.TICKED
                hours = Decimal((row.checked_out_at - row.checked_in_at).total_seconds() / 3600)
                row.hours = hours.quantize(Decimal("0.1"))
                if a.ends_at < now - timedelta(days=3) and rng.random() < CONFIRMED_HOURS_SHARE:
                    row.confirmed_by_id = a.created_by_id
                    row.confirmed_at = a.ends_at + timedelta(days=1)
            signups.append(row)
        title_care = any(a.title.endswith(t) for t, _venue, care in ACTIVITIES if care)
        elders = alone.get(a.area.code, [])
        if past and title_care and elders:
            for person_id in rng.sample(elders, min(len(elders), rng.randint(2, 5))):
                served.append(
                    PersonServed(
                        person_id=person_id, activity=a, volunteer=rng.choice(picked), served_on=a.starts_at.date(),
                        note=rng.choice(("上门理发", "陪伴聊天", "测量血压", "打扫卫生", "代购生活用品")),
                        recorded_by_id=a.created_by_id,
                    )
                )  # fmt: skip
    SignUp.objects.bulk_create(signups, batch_size=BATCH)
    PersonServed.objects.bulk_create(served, batch_size=BATCH)
    if ctx.is_main:
        unit_offers(ctx)
    confirmed = sum(1 for s in signups if s.confirmed_at)
    ctx.out(
        f"    {len(volunteers)} volunteers in {len(teams)} teams; {len(activities)} activities, {len(signups):,} "
        f"sign-ups ({confirmed:,} with confirmed hours); {len({p.person_id for p in served})} people served"
    )
    return len(signups)


UNIT_USERNAME = "cobuild"


def unit_offers(ctx: BuildContext) -> int:
    """The ``cobuild`` log-in's company offers on the community of its co-building agreement, through the services
    as the unit would from its pages: a post, a volunteer team and a coming activity of its own. Returns how many."""
    from gongzhi.registry.models import CoBuildingAgreement
    from gongzhi.service import services as offers

    grant = (
        RoleAssignment.objects.filter(role=Role.CO_BUILDING_UNIT, user__username=UNIT_USERNAME, body__isnull=False)
        .select_related("user", "body")
        .first()
    )
    if grant is None or grant.body is None:
        return 0
    company = grant.body.name
    agreement = (
        CoBuildingAgreement.objects.filter(unit=grant.body, is_active=True, partner__code__startswith=ctx.code)
        .select_related("partner")
        .order_by("-starts")
        .first()
    )
    if agreement is None:
        return 0
    unit, community = grant.user, agreement.partner
    kind = PostKind.objects.filter(name="平安巡逻").first() or PostKind.objects.first()
    if kind is None:
        return 0
    offers.publish_post(
        actor=unit, kind_id=kind.pk, title=f"{company}商圈安全巡逻岗", area_id=community.pk,
        schedule="每周五晚 19:00–21:00", capacity=6, eligibility=Eligibility.ANYONE,
        description="商场员工与社区党员一起巡查商圈周边的消防通道和电动车停放。",
    )  # fmt: skip
    team = offers.create_team(actor=unit, name=f"{company}志愿服务队", area_id=community.pk,
                              description="公司党支部和员工志愿者。")  # fmt: skip
    starts = timezone.make_aware(datetime.combine(ctx.now.date() + timedelta(days=9), time(9, 30)))
    offers.create_activity(
        actor=unit, title="商圈消防安全宣传日", area_id=community.pk, venue=f"{company}门前广场",
        starts_at=starts, ends_at=starts + timedelta(hours=3), capacity=20, team_id=team.pk,
        description="发放消防宣传资料，演示灭火器使用，为周边老人检查电动车充电线。",
    )  # fmt: skip
    return 3
