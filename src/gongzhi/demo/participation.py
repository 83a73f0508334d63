"""The demo's three lists (三张清单, seed 002's 北街 model, issue 20): a dozen co-building units with their resources,
each community's needs from visits, meetings, grid workers and residents, and projects in every state — planned,
in progress, completed awaiting the community's confirmation, confirmed (the need closed, residents' satisfaction),
called off. Written in bulk (``bulk_create``), with its own random stream; the co-building unit ``cobuild``
(沈阳西大商业管理有限公司) has projects in every state and open needs on its ground to take on.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q

from gongzhi.participation.choices import MatchState, NeedSource, NeedStatus, ProjectState
from gongzhi.participation.models import Match, Milestone, Need, NeedCategory, ProgressReport, Project, Resource
from gongzhi.participation.services import ensure_categories
from gongzhi.registry.models import CoBuildingAgreement
from gongzhi.territory.models import Body

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext

SEED_TAG = "participation"
BATCH = 2000

# (unit key, title, kind, category code, capacity, slots, description)
RESOURCES: list[tuple[str, str, str, str, int, list[str], str]] = [
    (
        "hospital",
        "家庭医生上门服务",
        "services",
        "elderly",
        40,
        ["weekdays"],
        "为高龄、独居、失能老人上门量血压、测血糖、送药、陪诊",
    ),
    ("hospital", "社区义诊和健康讲座", "services", "health", 120, ["weekends"], "每月一次义诊，讲解慢病管理和冬季防护"),
    (
        "school1",
        "四点半课堂作业辅导",
        "skills",
        "children",
        30,
        ["weekdays", "evenings"],
        "教师志愿者为双职工家庭的孩子课后辅导作业",
    ),
    ("school1", "学校操场周末开放", "venue", "culture", 200, ["weekends"], "周末向社区居民开放操场和篮球场"),
    (
        "school2",
        "中学生志愿者环境整治",
        "services",
        "environment",
        60,
        ["weekends"],
        "中学生志愿者清理楼道杂物、捡拾垃圾、宣传垃圾分类",
    ),
    (
        "xida",
        "商场多功能厅借用",
        "venue",
        "culture",
        150,
        ["weekdays", "evenings"],
        "西大商城三楼多功能厅，可办文艺演出、宣讲和议事会",
    ),
    ("xida", "助老餐补资金", "funds", "elderly", 50, ["weekdays"], "为社区老年食堂的高龄独居老人提供每餐补贴"),
    ("xida", "企业员工志愿服务队", "services", "environment", 40, ["weekends"], "员工志愿者参与小区环境整治和助老服务"),
    (
        "bank",
        "金融进万家防诈骗宣讲",
        "skills",
        "safety",
        100,
        ["weekdays"],
        "讲解电信诈骗、养老诈骗的常见手法，教老人守住钱袋子",
    ),
    ("gas", "燃气安全入户检查", "services", "safety", 80, ["weekdays"], "免费入户检查燃气管线、报警器，讲解燃气安全"),
    (
        "logistics",
        "爱心物资配送",
        "goods",
        "elderly",
        60,
        ["weekdays", "weekends"],
        "为困难家庭和独居老人配送米面油等生活物资",
    ),
    ("tax", "个税与社保政策咨询", "skills", "employment", 50, ["weekdays"], "税务干部讲解个税、灵活就业社保政策"),
    (
        "college",
        "大学生技能培训",
        "skills",
        "employment",
        40,
        ["weekends", "evenings"],
        "面向待业青年的电脑、电商和直播技能培训",
    ),
    (
        "college",
        "大学生志愿者陪伴儿童",
        "services",
        "children",
        25,
        ["weekends"],
        "大学生志愿者周末陪伴留守儿童读书、做手工",
    ),
    (
        "telecom",
        "老年人智能手机培训",
        "skills",
        "elderly",
        60,
        ["weekdays"],
        "教老人使用智能手机：视频通话、健康码、网上缴费",
    ),
    (
        "pharmacy",
        "药品送上门",
        "services",
        "health",
        40,
        ["weekdays", "evenings"],
        "为行动不便的老人送药上门，提供用药咨询",
    ),
    ("kindergarten", "幼儿家庭教育讲座", "skills", "children", 80, ["weekends"], "幼儿园老师讲解亲子教育和儿童安全"),
    ("lawfirm", "律师进社区法律咨询", "skills", "legal", 60, ["weekends"], "律师每月驻社区，提供法律咨询和纠纷调解"),
]
UNIT_KEYS = ("hospital", "school1", "school2", "xida", "bank", "gas", "logistics", "tax", "college", "telecom",
             "pharmacy", "kindergarten", "lawfirm")  # fmt: skip

# (title, category code, beneficiaries, count range, slots, description)
NEEDS: list[tuple[str, str, str, tuple[int, int], list[str], str]] = [
    (
        "独居老人需要上门量血压和陪诊",
        "elderly",
        "高龄独居老人",
        (3, 12),
        ["weekdays"],
        "几位80岁以上独居老人行动不便，看病难，希望有人上门量血压、陪同就医",
    ),
    (
        "老年食堂需要助餐补贴",
        "elderly",
        "高龄、空巢老人",
        (20, 60),
        ["weekdays"],
        "社区老年食堂就餐老人增多，希望有单位资助高龄老人餐费",
    ),
    (
        "老人不会用智能手机",
        "elderly",
        "60岁以上老人",
        (15, 40),
        ["weekdays"],
        "老人不会视频通话、网上缴费，希望有人教用智能手机",
    ),
    ("困难家庭冬季生活物资", "elderly", "困难家庭", (5, 20), [], "入冬后几户困难家庭缺米面油，希望有爱心物资送上门"),
    (
        "双职工家庭孩子放学后无人看管",
        "children",
        "小学生",
        (10, 30),
        ["weekdays", "evenings"],
        "孩子下午四点放学，家长下班晚，希望有课后托管和作业辅导",
    ),
    (
        "留守儿童周末需要陪伴",
        "children",
        "留守儿童",
        (5, 15),
        ["weekends"],
        "几个留守儿童周末没人陪，希望有志愿者陪伴读书",
    ),
    ("家长需要亲子教育指导", "children", "幼儿家长", (20, 50), ["weekends"], "年轻家长希望学习亲子教育、儿童安全知识"),
    ("楼道门口需要无障碍坡道", "accessibility", "轮椅老人和残疾人", (2, 6), [], "单元门口台阶高，坐轮椅的老人出不了门"),
    (
        "楼道杂物堆积需要集中清理",
        "environment",
        "全楼住户",
        (40, 120),
        ["weekends"],
        "楼道里堆满纸箱和旧家具，既脏乱又有消防隐患",
    ),
    (
        "小区绿化带乱晾晒整治",
        "environment",
        "小区居民",
        (50, 200),
        ["weekends"],
        "居民在绿化带和健身器材上晾被子，需要志愿者劝导和整治",
    ),
    ("垃圾分类宣传", "environment", "小区居民", (100, 300), ["weekends"], "垃圾分类新规实施，很多居民还不会分"),
    (
        "老人屡遭电信诈骗",
        "safety",
        "老年居民",
        (20, 80),
        ["weekdays"],
        "最近有老人接到冒充公检法的电话被骗，希望银行来讲防诈骗",
    ),
    ("老旧小区燃气安全隐患", "safety", "老旧小区住户", (30, 100), ["weekdays"], "燃气管线老化，希望入户检查燃气安全"),
    (
        "电动车飞线充电隐患宣传",
        "safety",
        "电动车车主",
        (20, 60),
        ["evenings"],
        "夜里有人从楼上拉线给电动车充电，需要宣传和劝导",
    ),
    (
        "待业青年需要技能培训",
        "employment",
        "待业青年",
        (10, 30),
        ["weekends", "evenings"],
        "社区有一批待业青年，希望学电脑和电商技能",
    ),
    (
        "灵活就业人员社保政策咨询",
        "employment",
        "灵活就业人员",
        (10, 40),
        ["weekdays"],
        "外卖小哥、快递员想了解社保怎么交",
    ),
    (
        "社区文艺演出需要场地",
        "culture",
        "社区文艺队",
        (30, 120),
        ["evenings"],
        "社区文艺队排了节目，缺一个能坐一百人的场地",
    ),
    ("居民需要周末运动场地", "culture", "社区居民", (50, 200), ["weekends"], "小区没有篮球场，年轻人周末没处运动"),
    (
        "慢病老人需要健康讲座",
        "health",
        "慢病老人",
        (20, 60),
        ["weekends"],
        "高血压、糖尿病老人多，希望有医生讲慢病管理",
    ),
    ("行动不便老人需要送药", "health", "行动不便老人", (3, 10), ["weekdays"], "几位卧床老人取药难，希望有人送药上门"),
    ("邻里纠纷需要法律咨询", "legal", "居民", (5, 20), ["weekends"], "漏水、噪音纠纷多，居民希望有律师讲讲怎么维权"),
]
SOURCES = (NeedSource.VISIT, NeedSource.MEETING, NeedSource.GRID_WORKER, NeedSource.RESIDENT)
# Project states and their share (of the needs taken on), with their progress.
STATES = (
    (ProjectState.PLANNED, 0.18),
    (ProjectState.IN_PROGRESS, 0.34),
    (ProjectState.COMPLETED, 0.13),
    (ProjectState.ACCEPTED, 0.28),
    (ProjectState.CANCELLED, 0.07),
)
MILESTONES = ("与社区商定方案", "服务实施", "收集居民评价")
NOTES = (
    "已与社区对接，确定服务时间",
    "第一次服务完成，居民反响好",
    "按计划推进，下周继续",
    "服务全部完成，收集了居民意见",
)


@dataclass
class _Unit:
    body: Body
    community: int | None  # the node id of its (first active) agreement's community


def create_participation(ctx: BuildContext) -> int:
    rng = random.Random(f"{SEED_TAG}:{ctx.k}")
    communities = [c for c in ctx.communities if c.node is not None]
    if not communities:
        return 0
    ensure_categories()
    cats = {c.code: c for c in NeedCategory.objects.all()}
    units = {key: ctx.bodies[key] for key in UNIT_KEYS if key in ctx.bodies}
    signed: dict[int, list[CoBuildingAgreement]] = {}
    active = CoBuildingAgreement.objects.filter(unit_id__in=[u.pk for u in units.values()], is_active=True)
    for a in active.select_related("partner").order_by("id"):
        signed.setdefault(a.unit_id, []).append(a)
    grids_of = {c.node.pk: [g.node for g in c.grids if g.node is not None] for c in communities if c.node is not None}

    # Resources: each unit's offers, at the community it signed with (or where it stands).
    resources: list[Resource] = []
    for key, title, kind, cat, capacity, slots, text in RESOURCES:
        unit = units.get(key)
        if unit is None or cat not in cats:
            continue
        agreements = signed.get(unit.pk)
        agreement = agreements[0] if agreements else None
        place = agreement.partner if agreement is not None else rng.choice(communities).node
        assert place is not None
        grid = rng.choice(grids_of.get(place.pk) or [place])
        resources.append(
            Resource(
                unit=unit, title=title, description=text, kind=kind, category=cats[cat], capacity=capacity,
                capacity_left=capacity, slots=slots, place=place, lat=grid.centroid_lat, lng=grid.centroid_lng,
                contact_name=unit.contact_name, contact_phone=unit.contact_phone, agreement=agreement,
            )
        )  # fmt: skip
    Resource.objects.bulk_create(resources, batch_size=BATCH)

    # Needs: 5–9 per community (more in the demo's own 府东社区), from visits, meetings, grid workers, residents.
    needs: list[Need] = []
    for community in communities:
        assert community.node is not None
        grids = grids_of.get(community.node.pk) or []
        if not grids:
            continue
        count = rng.randint(5, 9) + (6 if ctx.is_main and community.name == "府东社区" else 0)
        for title, cat, who, (lo, hi), slots, text in rng.sample(NEEDS, min(count, len(NEEDS))):
            grid = rng.choice(grids)
            needs.append(
                Need(
                    title=title, description=text, category=cats[cat], place=grid, place_code=grid.code,
                    lat=grid.centroid_lat, lng=grid.centroid_lng, beneficiaries=who,
                    beneficiary_count=rng.randint(lo, hi), urgency=rng.choice(("low", "normal", "normal", "high")),
                    slots=slots, source=rng.choice(SOURCES), source_note=f"{grid.name}",
                )
            )  # fmt: skip
    Need.objects.bulk_create(needs, batch_size=BATCH)

    # Projects: about half of the needs are taken on, by the unit whose resource fits best (same category first).
    by_cat: dict[int, list[Resource]] = {}
    for r in resources:
        if r.category_id is not None:
            by_cat.setdefault(r.category_id, []).append(r)
    xida = units.get("xida")
    taken: list[tuple[Need, Resource | None, Body, str]] = []
    for need in needs:
        offers = by_cat.get(need.category_id, [])
        mine = [r for r in offers if xida is not None and r.unit_id == xida.pk]
        if not (offers and rng.random() < 0.5):
            continue
        res = rng.choice(mine if mine and rng.random() < 0.5 else offers)
        state = _pick_state(rng)
        taken.append((need, res, res.unit, state))
    if ctx.is_main and xida is not None:  # cobuild's own year: a project in every state
        have = {s for _, _, u, s in taken if u.pk == xida.pk}
        spare = [n for n in needs if all(n is not t[0] for t in taken)]
        xida_res = [r for r in resources if r.unit_id == xida.pk]
        for state, _share in STATES:
            if state not in have and spare and xida_res:
                taken.append((spare.pop(rng.randrange(len(spare))), rng.choice(xida_res), xida, state))

    matches: list[Match] = []
    for need, offer, unit, state in taken:
        matches.append(
            Match(
                need=need, resource=offer, unit=unit,
                state=MatchState.WITHDRAWN if state == ProjectState.CANCELLED
                else rng.choice((MatchState.CLAIMED, MatchState.CONFIRMED)),
                score=round(rng.uniform(0.55, 0.9), 3),
            )
        )  # fmt: skip
    Match.objects.bulk_create(matches, batch_size=BATCH)

    projects: list[Project] = []
    now = ctx.now
    for (need, offer, unit, state), match in zip(taken, matches, strict=True):
        progress = {
            ProjectState.PLANNED: 0,
            ProjectState.IN_PROGRESS: rng.choice((20, 40, 50, 60, 80)),
            ProjectState.COMPLETED: 100,
            ProjectState.ACCEPTED: 100,
            ProjectState.CANCELLED: rng.choice((0, 20)),
        }[ProjectState(state)]
        reached = need.beneficiary_count * progress // 100
        started = now - timedelta(days=rng.randint(20, 150)) if progress else None
        surveyed = min(reached, rng.randint(5, 20)) if state == ProjectState.ACCEPTED else 0
        projects.append(
            Project(
                title=need.title, need=need, match=match, unit=unit, place=need.place, place_code=need.place_code,
                agreement=offer.agreement if offer is not None else None, state=state, progress=progress,
                budget=Decimal(rng.choice((0, 2000, 5000, 10000))),
                funds=Decimal(rng.choice((0, 500, 1200, 3000))) * progress // 100,
                hours=Decimal(rng.randint(4, 60) * progress // 100), people_served=reached, started_at=started,
                completed_at=now - timedelta(days=rng.randint(1, 15)) if progress == 100 else None,
                accepted_at=now - timedelta(days=rng.randint(0, 5)) if state == ProjectState.ACCEPTED else None,
                surveyed=surveyed, satisfied=surveyed - (rng.random() < 0.3) if surveyed else 0,
            )
        )  # fmt: skip
        if offer is not None and state != ProjectState.CANCELLED:
            offer.capacity_left = max(0, offer.capacity_left - need.beneficiary_count)
        if state == ProjectState.ACCEPTED:
            need.status, need.unit, need.closed_at = NeedStatus.CLOSED, unit, now
        elif state != ProjectState.CANCELLED:
            need.status, need.unit = NeedStatus.MATCHED, unit
    Project.objects.bulk_create(projects, batch_size=BATCH)
    Need.objects.bulk_update([t[0] for t in taken], ["status", "unit", "closed_at"], batch_size=BATCH)
    Resource.objects.bulk_update(resources, ["capacity_left"], batch_size=BATCH)

    milestones: list[Milestone] = []
    reports: list[ProgressReport] = []
    for p in projects:
        for i, title in enumerate(MILESTONES, start=1):
            done = p.progress >= i * 33
            milestones.append(Milestone(project=p, title=title, order=i, done_at=now if done else None))
        if p.progress:
            steps = sorted({rng.choice((20, 40, 60)), p.progress}) if p.progress > 20 else [p.progress]
            share = len(steps)
            for n, step in enumerate(steps):
                reports.append(
                    ProgressReport(
                        project=p, progress=step, note=NOTES[min(n + (step == 100) * 3, 3)],
                        hours=(p.hours / share).quantize(Decimal("0.1")),
                        funds=(p.funds / share).quantize(Decimal("0.01")),
                        people_served=p.people_served // share,
                    )
                )  # fmt: skip
    Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    ProgressReport.objects.bulk_create(reports, batch_size=BATCH)
    ctx.counts["resources"] += len(resources)
    ctx.counts["projects"] += len(projects)
    ctx.counts["wishes"] += create_wishes(ctx.code, ctx.k, ctx.now)
    return len(needs)


# 微心愿 (点亮心愿, seed 004): (wish, category code, the wall's words — no personal data)
WISHES: list[tuple[str, str, str]] = [
    ("一台轮椅", "accessibility", "腿脚不便，想要一台轮椅，天气好时能下楼晒晒太阳"),
    ("孙子的数学辅导", "children", "孩子上初二，数学跟不上，家里没人会辅导"),
    ("修一修漏水的水龙头", "environment", "厨房水龙头漏水好几天了，自己修不好"),
    ("有人陪我聊聊天", "elderly", "老伴走了以后一个人住，希望有人常来坐坐"),
    ("一副老花镜", "health", "眼睛花了，看不清药盒上的字"),
    ("学会用手机视频", "elderly", "想和外地的女儿视频通话"),
    ("冬天的一床厚棉被", "elderly", "家里的被子太薄，冬天夜里冷"),
    ("换一个亮一点的灯泡", "safety", "楼道和家里灯太暗，晚上怕摔跤"),
    ("一套课外书", "children", "孩子爱看书，想要一套适合三年级的课外书"),
    ("去一次图书馆", "culture", "行动不便，想有人陪着去区图书馆看看"),
    ("安装卫生间扶手", "accessibility", "卫生间地滑，起身困难，想装个扶手"),
    ("理一次发", "elderly", "出门不方便，希望有人上门理发"),
]
# The states a community's wall shows, in this order (each community gets every state).
WISH_STATES = ("published", "published", "claimed", "claimed", "fulfilled", "confirmed", "confirmed", "withdrawn")
WISH_UNIT_KEYS = ("xida", "hospital", "school1", "college", "telecom")


def create_wishes(code: str, k: int, now: datetime.datetime) -> int:
    """A wish wall per community of the copy: wishes of residents of its grids in every state, recorded by the grid's
    worker, claimed by co-building units (``cobuild``'s 西大 first), the grids' volunteers and party members."""
    from gongzhi.accounts.choices import Post, Role
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.participation.models import Wish
    from gongzhi.participation.services import _public_name, age_band
    from gongzhi.registry.models import Person
    from gongzhi.territory.choices import NodeKind
    from gongzhi.territory.models import Node

    rng = random.Random(f"{SEED_TAG}:wishes:{k}")
    ensure_categories()
    cats = {c.code: c for c in NeedCategory.objects.all()}
    signed = CoBuildingAgreement.objects.filter(partner__code__startswith=code, is_active=True).values("unit_id")
    offering = Resource.objects.filter(place__code__startswith=code).values("unit_id")
    units = list(Body.objects.filter(Q(pk__in=signed) | Q(pk__in=offering)).order_by("name"))
    units.sort(key=lambda u: "西大" not in u.name)  # cobuild's unit claims first
    workers: dict[str, int] = {}
    volunteers: dict[str, int] = {}
    posts = RoleAssignment.objects.filter(
        role=Role.GRID_WORKER, node__code__startswith=code, node__kind=NodeKind.GRID, is_active=True
    ).order_by("id")
    for grid_code, user_id, post in posts.values_list("node__code", "user_id", "post"):
        if post == Post.VOLUNTEER:
            volunteers.setdefault(grid_code, user_id)
        else:
            workers.setdefault(grid_code, user_id)
    wishes: list[Wish] = []
    unit_claims = 0  # the units take turns, cobuild's first
    communities = Node.objects.filter(code__startswith=code, kind__in=(NodeKind.COMMUNITY, NodeKind.VILLAGE))
    for community in communities.order_by("code"):
        grids = list(Node.objects.filter(code__startswith=community.code, kind=NodeKind.GRID).order_by("code"))
        if not grids:
            continue
        picked = rng.sample(WISHES, len(WISH_STATES))
        for n, (state, (title, cat, text)) in enumerate(zip(WISH_STATES, picked, strict=True)):
            grid = grids[n % len(grids)] if n else grids[0]
            people = Person.objects.filter(household__code__startswith=grid.code, is_active=True).order_by("id")
            count = people.count()
            if not count:
                continue
            person = people[rng.randrange(min(count, 200))]
            created = now - timedelta(days=rng.randint(10, 90), hours=rng.randint(0, 12))
            wish = Wish(
                title=title, description=text, category=cats.get(cat), person=person,
                consent_note="入户走访时本人当面同意", consent_at=created, public_name=_public_name(person),
                age_band=age_band(person.birth_date, now.date()), place=grid, place_code=grid.code,
                community_code=community.code[:12], state=state, recorded_by_id=workers.get(grid.code),
            )  # fmt: skip
            if state in ("claimed", "fulfilled", "confirmed"):
                kind = ("unit", "unit", "volunteer", "party_member")[n % 4]
                if kind == "volunteer" and grid.code not in volunteers:
                    kind = "party_member"
                if kind == "unit" and units:
                    wish.claimant_kind, wish.claimant_unit = "unit", units[unit_claims % len(units)]
                    unit_claims += 1
                elif kind == "volunteer":
                    wish.claimant_kind, wish.claimant_id = "volunteer", volunteers[grid.code]
                else:
                    wish.claimant_kind = "party_member"
                wish.claimed_at = created + timedelta(days=rng.randint(1, 5))
            if state in ("fulfilled", "confirmed"):
                assert wish.claimed_at is not None
                wish.fulfilled_at = wish.claimed_at + timedelta(days=rng.randint(2, 14))
                wish.evidence_note = "已送到居民家中，老人很高兴"
            if state == "confirmed":
                assert wish.fulfilled_at is not None
                wish.confirmed_at = wish.fulfilled_at + timedelta(days=1)
            wishes.append(wish)
    Wish.objects.bulk_create(wishes, batch_size=BATCH)
    # created_at is auto_now_add: put the recording back to the day consent was given
    for wish in wishes:
        Wish.objects.filter(pk=wish.pk).update(created_at=wish.consent_at)
    return len(wishes)


def _pick_state(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for state, share in STATES:
        acc += share
        if x < acc:
            return state
    return ProjectState.ACCEPTED


def reset_participation(code: str, bodies: list[int], out: object) -> int:
    """The copy's three lists and wish walls (they point at its places, units and people)."""
    from gongzhi.participation.models import Wish

    total = Wish.objects.filter(place_code__startswith=code).delete()[0]
    total += ProgressReport.objects.filter(project__place_code__startswith=code).delete()[0]
    total += Milestone.objects.filter(project__place_code__startswith=code).delete()[0]
    total += Project.objects.filter(place_code__startswith=code).delete()[0]
    total += Match.objects.filter(need__place_code__startswith=code).delete()[0]
    total += Need.objects.filter(place_code__startswith=code).delete()[0]
    total += Resource.objects.filter(place__code__startswith=code).delete()[0]
    total += Resource.objects.filter(unit_id__in=bodies).delete()[0]
    return int(total)
