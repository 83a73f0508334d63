"""Demo service posts (岗位认领, issue 21): posts across the copy's communities, published by each community's staff
on its grids; about seven in ten reported-in party members (双报到) claim one (some two, a few gave one up); the last
three months of their service, most of it confirmed by the post's owner. In the main copy, the ``partymember``
log-in: a resident of 府东社区, an on-duty member reported in there who has not claimed a post yet (the browser
journey claims one). Written in bulk (the claim rate is the figure the dashboard reads)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.demo import names
from gongzhi.registry.choices import PartyMemberType
from gongzhi.registry.models import PartyMember
from gongzhi.service.choices import ClaimStatus, Eligibility
from gongzhi.service.models import Claim, PersonAccount, Post, PostKind, Service
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
    """The copy's posts (their claims and service go with them) and the accounts linked to its residents."""
    total = PersonAccount.objects.filter(person__household__code__startswith=code).delete()[0]
    total += Service.objects.filter(claim__post__area__code__startswith=code).delete()[0]
    total += Claim.objects.filter(post__area__code__startswith=code).delete()[0]
    total += Claim.objects.filter(person__household__code__startswith=code).delete()[0]
    total += Post.objects.filter(area__code__startswith=code).delete()[0]
    return int(total)
