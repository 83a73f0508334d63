"""Demo recognition (评选, issue 21), in the main copy only and through the recognition services (so every step is
audited and told as in real use): the subdistrict's 五星文明户 campaign run by the ``operator`` — households put
forward by grid workers, candidates accepted, a public vote (signed-in residents and staff, a few phone-verified
visitors from outside the area's prefixes, a burst from one address: flagged, not dropped), the panel (``fudong``,
``dagan`` and one more community secretary) reviews, five households awarded with citations, results published —
and 府东社区's 四最 campaign (people), still taking nominations."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.demo import names
from gongzhi.recognition import services
from gongzhi.recognition.choices import NominationStatus
from gongzhi.recognition.models import Campaign, Nomination, PhoneCheck
from gongzhi.registry.models import Person
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext, Out

SEED_TAG = "recognition"
STARS = ("爱党爱国星", "遵纪守法星", "邻里和睦星", "家庭美德星", "环境整洁星")
REASONS = {
    "爱党爱国星": ("积极参加社区党课和志愿活动", "家中两代党员，带头宣传政策"),
    "遵纪守法星": ("全家遵纪守法，从未有违章记录", "主动配合消防隐患排查"),
    "邻里和睦星": ("多年照顾楼里独居老人", "主动调解楼道邻里纠纷"),
    "家庭美德星": ("三代同堂，孝老爱亲", "夫妻和睦，教子有方"),
    "环境整洁星": ("坚持垃圾分类，楼道从不堆物", "自费美化楼栋绿地"),
}
CITATIONS = (
    "孝老爱亲、邻里和睦，用点滴善行温暖了整栋楼。",
    "垃圾分类做表率，楼道整洁靠大家，带动邻里共建美好家园。",
    "全家热心公益，常年照顾独居老人，彰显文明家风。",
    "遵纪守法、崇德向善，是社区文明新风的践行者。",
    "以家风促民风，以小家带大家，堪称五星文明户的榜样。",
)
FOUR_BESTS = ("最美楼道长", "最美党员中心户", "最美志愿者", "最美网格员")
LOCAL_PREFIXES = "1390240,1382400,1860240"
NOMINEES = 10
WINNERS = 5


def _users(role: str, code: str) -> list[User]:
    ids = (
        RoleAssignment.objects.filter(role=role, node__code__startswith=code)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=list(ids), is_active=True).order_by("pk"))


def _household_with_residents(grid: Node) -> int | None:
    return (
        Person.objects.filter(household__code__startswith=grid.code, household__kind=NodeKind.HOUSEHOLD, is_active=True)
        .order_by("household__code")
        .values_list("household_id", flat=True)
        .first()
    )


def create_recognition(ctx: BuildContext) -> int:
    """The two campaigns of the main copy. Returns the votes cast."""
    if not ctx.is_main:
        return 0
    rng = random.Random(f"{SEED_TAG}:{ctx.k}")
    operator = User.objects.filter(username="operator").first()
    fudong_staff = User.objects.filter(username="fudong").first()
    if operator is None or fudong_staff is None:
        return 0
    subdistrict = Node.objects.get(code=ctx.code)
    staff = _users(Role.COMMUNITY_STAFF, ctx.code)
    panel = [u for u in staff if u.username in ("fudong", "dagan")]
    panel += [u for u in staff if u not in panel][:1]
    year = timezone.localdate().year
    now = timezone.now()

    # 五星文明户: the subdistrict's, with public voting.
    campaign = services.create_campaign(
        actor=operator,
        title=f"{year}年度{ctx.short}街道五星文明户评选",
        subject="household",
        area_id=subdistrict.pk,
        criteria=[{"name": s, "max_score": 20} for s in STARS],
        quota=WINNERS,
        public_voting=True,
        description="按照“爱党爱国、遵纪守法、邻里和睦、家庭美德、环境整洁”五星标准，评选年度五星文明户。",
        nominations_open=now - timedelta(days=30),
        nominations_close=now + timedelta(hours=1),
        phone_prefixes=LOCAL_PREFIXES,
        panel_ids=[u.pk for u in panel],
    )
    workers = [
        (ra.user, ra.node)
        for ra in RoleAssignment.objects.filter(role=Role.GRID_WORKER, node__code__startswith=ctx.code)
        .select_related("user", "node")
        .order_by("node__code")
    ]
    rng.shuffle(workers)
    nominations: list[Nomination] = []
    seen: set[int] = set()
    for worker, grid in workers:
        if len(nominations) >= NOMINEES or grid is None:
            break
        household_id = _household_with_residents(grid)
        if household_id is None or household_id in seen:
            continue
        seen.add(household_id)
        stars = rng.sample(STARS, 3)
        nominations.append(
            services.nominate(
                actor=worker,
                campaign_id=campaign.pk,
                household_id=household_id,
                reasons={s: rng.choice(REASONS[s]) for s in stars},
            )
        )
    if len(nominations) < 3:
        return 0
    services.withdraw(actor=operator, nomination_id=nominations[-1].pk, note="户主本人申请不参评")
    for nomination in nominations[:-2]:  # the second last stays a nomination not taken into the list
        services.accept(actor=operator, nomination_id=nomination.pk)
    candidates = nominations[:-2]
    services.open_voting(actor=operator, campaign_id=campaign.pk, closes_at=now + timedelta(days=7))

    # The vote: residents and staff of the subdistrict, each for one to three candidates (the earlier ones favoured).
    voters = list(
        User.objects.filter(role_assignments__node__code__startswith=ctx.code, is_active=True)
        .distinct()
        .order_by("pk")[:160]
    )
    weights = [len(candidates) - i + 2 for i in range(len(candidates))]
    votes = 0
    for i, voter in enumerate(voters):
        picks = {rng.choices(candidates, weights=weights)[0] for _ in range(rng.randint(1, 3))}
        for nomination in picks:
            services.cast_vote(
                campaign_id=campaign.pk,
                nomination_id=nomination.pk,
                user=voter,
                ip=f"10.{20 + i // 250}.{i % 250}.{rng.randint(1, 250)}",
            )
            votes += 1
    # Phone-verified visitors: three from outside the area's prefixes (flagged).
    for n, phone in enumerate(("13700001111", "13800002222", "15900003333")):
        token = f"demo-recognition-{n}"
        PhoneCheck.objects.create(
            campaign=campaign,
            phone_hash=services.phone_hash(phone),
            code_hash="-",
            outside_prefix=True,
            attempts=1,
            created_at=timezone.now(),
            expires_at=timezone.now() + services.CODE_TTL,
            verified_at=timezone.now(),
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
        )
        services.cast_vote(
            campaign_id=campaign.pk, nomination_id=candidates[-1].pk, phone_token=token, ip=f"10.99.{n}.1"
        )
        votes += 1
    # A burst from one address and one device for the last candidate: the fifth vote on is flagged.
    burst_voters = User.objects.exclude(pk__in=[v.pk for v in voters]).filter(is_active=True).order_by("pk")[:7]
    for voter in burst_voters:
        services.cast_vote(
            campaign_id=campaign.pk, nomination_id=candidates[-1].pk, user=voter, ip="10.88.8.8", device="demo-burst"
        )
        votes += 1

    # The panel reviews; the five most voted, approved, are awarded with their citations; published.
    services.open_review(actor=operator, campaign_id=campaign.pk)
    ranked = sorted(candidates, key=lambda n: (-n.votes.count(), n.pk))
    winners = ranked[:WINNERS]
    for member in panel:
        for nomination in candidates:
            approve = nomination in winners or rng.random() < 0.2
            score = rng.randint(84, 98) if approve else rng.randint(60, 83)
            services.review(actor=member, nomination_id=nomination.pk, approve=approve, score=Decimal(score))
    for nomination, citation in zip(winners, CITATIONS, strict=False):
        services.decide(actor=operator, nomination_id=nomination.pk, award=True, citation=citation)
    services.publish(actor=operator, campaign_id=campaign.pk)

    # 四最 in 府东社区: people, still taking nominations.
    fudong = Node.objects.filter(code__startswith=ctx.code, name=names.JINHE_COMMUNITY).first()
    if fudong is not None:
        four = services.create_campaign(
            actor=fudong_staff,
            title=f"{year}年度{names.JINHE_COMMUNITY}“四最”评选",
            subject="person",
            area_id=fudong.pk,
            criteria=list(FOUR_BESTS),
            quota=4,
            public_voting=True,
            description="评选最美楼道长、最美党员中心户、最美志愿者、最美网格员。",
            phone_prefixes=LOCAL_PREFIXES,
            panel_ids=[fudong_staff.pk],
        )
        people = list(
            Person.objects.filter(household__code__startswith=fudong.code, is_active=True).order_by("id")[:200]
        )
        for best, person in zip(FOUR_BESTS, rng.sample(people, min(len(FOUR_BESTS), len(people))), strict=False):
            services.nominate(
                actor=fudong_staff,
                campaign_id=four.pk,
                person_id=person.pk,
                reasons={best: "热心服务邻里，群众口碑好"},
            )
    ctx.counts["recognition campaigns"] += 2
    ctx.counts["recognition votes"] += votes
    ctx.counts["recognition awards"] += Nomination.objects.filter(
        campaign=campaign, status=NominationStatus.AWARDED
    ).count()
    return votes


def reset_recognition(code: str, bodies: list[int], out: Out) -> int:
    """The copy's campaigns (their panel, nominations, votes, phone checks and reviews go with them)."""
    total = Nomination.objects.filter(place__code__startswith=code).delete()[0]
    total += Campaign.objects.filter(area__code__startswith=code).delete()[0]
    return int(total)
