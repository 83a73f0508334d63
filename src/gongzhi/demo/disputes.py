"""The demo's disputes (issue 18): two years of 矛盾纠纷 of 道义 through the disputes services and workflow — the
year before at the old rate and pace, the last twelve months 12.3 % fewer and solved faster (seed 001: "矛盾纠纷同比
下降12.3%，化解周期由4至5天缩短到1至2天") — spread over kinds, places, tiers and outcomes, with sessions, agreements
and follow-ups; the police station's notices (警情通报 + 社区回访) with the grid's feedback; and the 平安小苑 story of
seed 000 end to end (a 警情, on-site mediation by the joint team fails, the station's professional mediators hold
face-to-face and separate sessions, an agreement is signed).

Every step is a real service or workflow call, dated back with the workflow's ``now`` (what a service dates itself,
the timeline rows it writes, is set to the step's time afterwards: the demo is a history). What the steps told people
is kept only for the last days, as the cases' inbox replay does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.demo import names
from gongzhi.disputes import services, workflow
from gongzhi.disputes.choices import TierKind
from gongzhi.disputes.models import Dispute, DisputeEvent, DisputeKind, LadderTier, Party, PoliceNotice
from gongzhi.disputes.services import PartyIn

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext

SEED = 123  # seed 001: 12.3 %
LAST_YEAR = 240  # disputes received in the twelve months before the last twelve
THIS_YEAR = 184  # the last twelve months, with the police notices' disputes: about 12 % fewer
NOTICES = 110  # police notices of the last twelve months
RECENT_DAYS = 5  # what happened in these days stays in the inbox
UNTOLD_BEFORE = timedelta(days=60)  # disputes received before this have a life long over: told nobody
KIND_WEIGHTS = {"neighbour": 34, "property": 20, "family": 14, "labour": 12, "consumer": 8, "land": 5, "other": 7}
SUMMARIES = {
    "neighbour": [
        "楼上漏水致楼下房屋受损",
        "装修噪音扰民",
        "楼道堆放杂物引发争吵",
        "宠物狗伤人赔偿",
        "空调外机噪音",
        "占用公共车位纠纷",
        "邻里采光遮挡争议",
        "高空抛物损坏车辆",
    ],
    "property": [
        "物业费收缴争议",
        "电梯停运维修费用分摊",
        "小区停车收费纠纷",
        "绿地改菜地与物业冲突",
        "车库渗水维修责任",
    ],
    "family": ["赡养老人费用分担", "离婚后子女探视", "房屋继承份额争议", "夫妻矛盾家暴报警"],
    "labour": ["装修工人欠薪", "外卖骑手工伤赔偿", "保洁员工资拖欠", "务工人员安全事故赔偿"],
    "consumer": ["预付卡退费纠纷", "装修质量纠纷", "二手车交易纠纷"],
    "land": ["征迁补偿标准争议", "宅基地界址纠纷", "临时用地青苗补偿"],
    "other": ["广场舞噪音纠纷", "共用水井使用纠纷", "彩钢房搭建纠纷"],
}
NOTICE_TITLES = [
    "邻里因噪音发生口角报警",
    "夫妻争吵一方报警",
    "楼道杂物起火隐患报警",
    "醉酒滋事",
    "租户与房东押金争执",
    "车辆剐蹭双方争执",
    "老人走失后找回",
    "装修纠纷双方推搡",
    "欠薪工人聚集讨薪",
    "宠物狗咬伤儿童",
]


@dataclass
class Actors:
    operator: User
    mediators: list[User]  # the station's team (老娘舅调解队), ``mediator`` first
    police: User
    court_handler: User | None
    workers: dict[str, User]  # grid code → its full-time grid worker


def _actors(ctx: BuildContext) -> Actors | None:
    roles = RoleAssignment.objects.filter(is_active=True).select_related("user", "node")
    team = ctx.bodies.get("mediators")
    police = ctx.bodies.get("police")
    court = ctx.bodies.get("court")
    sub = ctx.subdistrict
    if team is None or police is None or sub is None:
        return None
    mediators = [r.user for r in roles.filter(role=Role.MEDIATOR, body=team).order_by("user__username")]
    mediators.sort(key=lambda u: u.username != "mediator")
    police_users = [r.user for r in roles.filter(role=Role.DEPARTMENT_HANDLER, body=police).order_by("user__pk")]
    police_users.sort(key=lambda u: u.username != "police")
    court_users = [r.user for r in roles.filter(role=Role.DEPARTMENT_HANDLER, body=court)] if court else []
    operator = roles.filter(role=Role.SUBDISTRICT_OPERATOR, node=sub).order_by("user__pk").first()
    workers: dict[str, User] = {}
    for r in roles.filter(role=Role.GRID_WORKER, node__code__startswith=ctx.code).order_by("pk"):
        assert r.node is not None
        workers.setdefault(r.node.code, r.user)
    if not mediators or not police_users or operator is None or not workers:
        return None
    return Actors(operator.user, mediators, police_users[0], court_users[0] if court_users else None, workers)


def _ladder(ctx: BuildContext) -> None:
    sub = ctx.subdistrict
    assert sub is not None
    LadderTier.objects.bulk_create(
        [
            LadderTier(subdistrict=sub, level=1, kind=TierKind.ON_SITE, name="网格/联勤处置分队现场调处"),
            LadderTier(
                subdistrict=sub,
                level=2,
                kind=TierKind.STATION,
                name="综合治理站专职调解（老娘舅调解队）",
                body=ctx.bodies["mediators"],
            ),
            LadderTier(subdistrict=sub, level=3, kind=TierKind.REFERRAL, name="诉调对接（派出所/司法所/巡回审判庭）"),
        ]
    )


@contextmanager
def _untold(quiet: bool) -> Iterator[None]:
    """History long over is told nobody (as the cases' year, written in bulk): ``messaging.services.notify`` does
    nothing inside (the inbox would drop it anyway, and telling costs a third of the step's time)."""
    if not quiet:
        yield
        return
    from gongzhi.messaging import services as messaging

    real = messaging.notify
    messaging.notify = lambda **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        messaging.notify = real


class History:
    """Dates the rows a service wrote "now" back to the step's time."""

    def __init__(self, started: datetime) -> None:
        self.started = started
        self.past: list[tuple[datetime, list[PartyIn]]] = []  # earlier disputes' parties (for repeats)

    def settle(self, dispute_id: int, at: datetime) -> None:
        DisputeEvent._default_manager.filter(dispute_id=dispute_id, at__gte=self.started).update(at=at)


def _party(rng: random.Random, role: str = "applicant", org: str = "") -> PartyIn:
    if org:
        return PartyIn(role=role, name=org, phone=names.phone_number(rng), is_organisation=True)
    return PartyIn(role=role, name=names.person_name(rng), phone=names.phone_number(rng))


def _kind(rng: random.Random, kinds: dict[str, DisputeKind]) -> DisputeKind:
    codes = [c for c in KIND_WEIGHTS if c in kinds]
    return kinds[rng.choices(codes, weights=[KIND_WEIGHTS[c] for c in codes])[0]]


def _session(
    a: Actors,
    d: Dispute,
    at: datetime,
    mode: str,
    result: str,
    by: User,
    h: History,
    *,
    summary: str = "",
    notes: str = "",
    where: str = "",
) -> None:
    parties = list(Party.objects.filter(dispute=d).values_list("pk", flat=True))
    attendees = parties if mode != "separate" else parties[:1]
    services.record_session(
        actor=by,
        dispute_id=d.pk,
        held_at=at,
        mode=mode,
        where=where,
        attendee_ids=attendees,
        summary=summary,
        result=result,
        private_notes=notes,
    )
    h.settle(d.pk, at)


def _agree(
    d: Dispute, by: User, at: datetime, terms: list[dict[str, str]], h: History, *, performance: str = ""
) -> None:
    services.draft_agreement(actor=by, dispute_id=d.pk, terms=terms, performance=performance)
    h.settle(d.pk, at)
    workflow.perform(actor=by, dispute_id=d.pk, action="agree", now=at, payload={"signed_on": at.date().isoformat()})


TERMS = {
    "neighbour": [
        {"text": "被申请人于七日内修复渗漏并赔偿申请人损失人民币三千元", "how": "现金当面交付"},
        {"text": "双方今后互谅互让，不再因此事发生争执", "how": ""},
    ],
    "property": [{"text": "物业公司于十五日内完成维修，申请人补交物业费", "how": "银行转账"}],
    "family": [{"text": "子女每人每月支付赡养费五百元", "how": "每月五日前转账"}],
    "labour": [{"text": "用人单位一次性支付拖欠工资及赔偿款", "how": "银行转账"}],
    "consumer": [{"text": "商家退还预付款余额", "how": "原路退回"}],
    "land": [{"text": "按征迁补偿标准补足差额", "how": "银行转账"}],
    "other": [{"text": "双方约定使用时间，互不干扰", "how": ""}],
}


def _terms(kind: DisputeKind, at: datetime) -> list[dict[str, str]]:
    by = (at + timedelta(days=7)).date().isoformat()
    return [{**t, "by": by} for t in TERMS.get(kind.code, TERMS["other"])]


def _one(
    ctx: BuildContext,
    a: Actors,
    rng: random.Random,
    kinds: dict[str, DisputeKind],
    h: History,
    received: datetime,
    *,
    faster: bool,
    grid_codes: list[str],
    notice: PoliceNotice | None = None,
) -> Dispute:
    """One dispute's life from ``received`` on, as far as the clock allows."""
    now = ctx.now
    kind = _kind(rng, kinds)
    grid = rng.choice(grid_codes)
    worker = a.workers[grid]
    risk = rng.choices(["green", "yellow", "red"], weights=[70, 23, 7])[0]
    source = rng.choices(["walk_in", "visit", "hotline", "other"], weights=[40, 30, 20, 10])[0]
    from gongzhi.territory.models import Node

    node = Node.objects.get(code=grid)
    summary = rng.choice(SUMMARIES[kind.code])
    parties = [_party(rng), _party(rng, "respondent")]
    earlier = [p for at, p in h.past if timedelta(days=20) < received - at < timedelta(days=330)]
    if earlier and rng.random() < 0.06:  # the same neighbours again within the year: a repeat dispute
        parties = rng.choice(earlier)
    h.past.append((received, parties))
    if notice is not None:
        services.answer_police_notice(
            actor=worker,
            notice_id=notice.pk,
            result="dispute",
            feedback="入户走访，双方同意调解",
            dispute_kind_id=kind.pk,
            dispute_summary=summary,
            dispute_risk=risk,
            parties=parties,
        )
        d = Dispute.objects.filter(source_notice=notice).order_by("-pk").first()
        assert d is not None
        Dispute.objects.filter(pk=d.pk).update(received_at=received)
        d.received_at = received
    else:
        d = services.register_dispute(
            actor=worker,
            kind_id=kind.pk,
            summary=summary,
            node_id=node.pk,
            risk=risk,
            source=source,
            parties=parties,
            received_at=received,
        )
    h.settle(d.pk, received)
    pace = 1.0 if faster else 2.6  # days: the last year's cycle time is shorter
    lead = rng.choice(a.mediators[:2]) if rng.random() < 0.7 else rng.choice(a.mediators)
    path = rng.choices(["site", "station", "referral", "fail", "withdraw"], weights=[52, 30, 6, 7, 5])[0]
    if risk == "red" and path == "site":
        path = "station"
    on_site = d.tier_kind == TierKind.ON_SITE
    t = received + timedelta(hours=rng.uniform(2, 20))
    if t > now:
        return d
    by = worker if on_site else lead
    workflow.perform(actor=by, dispute_id=d.pk, action="start", now=t)
    h.settle(d.pk, t)
    if on_site:
        result = "agreement" if path == "site" else "no_agreement"
        _session(
            a,
            d,
            t,
            "face_to_face",
            result,
            worker,
            h,
            where=f"{node.name}网格工作站",
            summary="网格员会同联勤处置分队现场调处",
        )
        if path == "site":
            t2 = t + timedelta(days=rng.uniform(0.2, 1.2) * pace)
            if t2 > now:
                return d
            _agree(d, worker, t2, _terms(kind, t2), h)
            return _follow_up(d, worker, t2, now, rng, h)
        t = t + timedelta(days=rng.uniform(0.3, 1.0) * pace)
        if t > now:
            return d
        workflow.perform(actor=worker, dispute_id=d.pk, action="escalate", now=t, note="现场调处未果，引导至综合治理站")
        h.settle(d.pk, t)
        services.assign_mediators(actor=a.operator, dispute_id=d.pk, user_ids=[lead.pk], lead_id=lead.pk)
        h.settle(d.pk, t)
        t = t + timedelta(hours=rng.uniform(3, 20))
        if t > now:
            return d
        workflow.perform(actor=lead, dispute_id=d.pk, action="start", now=t)
    else:
        services.assign_mediators(actor=a.operator, dispute_id=d.pk, user_ids=[lead.pk], lead_id=lead.pk)
        h.settle(d.pk, t)
    d = Dispute.objects.get(pk=d.pk)
    rounds = rng.choice([1, 2, 2, 3])
    for i in range(rounds):
        mode = "face_to_face" if i % 2 == 0 else "separate"
        last = i == rounds - 1
        result = ("agreement" if path == "station" else "no_agreement") if last else "progress"
        _session(
            a,
            d,
            t,
            mode,
            result,
            lead,
            h,
            where="综合治理站调解室",
            summary="听取双方意见，释法明理",
            notes="双方分歧在于赔偿金额" if mode == "separate" else "",
        )
        t = t + timedelta(days=rng.uniform(0.4, 1.2) * pace)
        if t > now:
            return d
    if path == "station":
        _agree(d, lead, t, _terms(kind, t), h)
        return _follow_up(d, lead, t, now, rng, h)
    if path == "withdraw":
        workflow.perform(actor=lead, dispute_id=d.pk, action="withdraw", now=t, note="当事人自行和解，申请撤回")
        h.settle(d.pk, t)
        return d
    if path == "fail" or a.court_handler is None:
        workflow.perform(actor=lead, dispute_id=d.pk, action="fail", now=t, note="双方分歧较大，告知诉讼途径")
        h.settle(d.pk, t)
        return d
    court = ctx.bodies["court"]
    workflow.perform(
        actor=lead,
        dispute_id=d.pk,
        action="escalate",
        now=t,
        note="调解不成，诉调对接",
        payload={"body_id": court.pk, "referral_kind": "court"},
    )
    h.settle(d.pk, t)
    t = t + timedelta(days=rng.uniform(2, 6))
    if t > now:
        return d
    workflow.perform(actor=a.court_handler, dispute_id=d.pk, action="start", now=t)
    if rng.random() < 0.6:
        _session(a, d, t, "face_to_face", "agreement", a.court_handler, h, where="巡回审判庭")
        _agree(d, a.court_handler, t, _terms(kind, t), h)
        return _follow_up(d, a.court_handler, t, now, rng, h)
    workflow.perform(actor=a.court_handler, dispute_id=d.pk, action="fail", now=t, note="转入诉讼程序")
    h.settle(d.pk, t)
    return d


def _follow_up(d: Dispute, by: User, signed: datetime, now: datetime, rng: random.Random, h: History) -> Dispute:
    d = Dispute.objects.get(pk=d.pk)
    due = signed + timedelta(days=d.kind.follow_up_days)
    if due > now:
        return d
    at = due + timedelta(hours=rng.uniform(1, 30))
    if at > now:
        return d
    performance = rng.choices(["performed", "partly", "not_performed"], weights=[88, 8, 4])[0]
    if performance == "not_performed":
        workflow.perform(
            actor=by,
            dispute_id=d.pk,
            action="reopen",
            now=at,
            note="回访发现未按约履行，重新调解",
            payload={"performance": performance},
        )
        h.settle(d.pk, at)
        again = at + timedelta(days=rng.uniform(2, 6))
        if again > now:
            return d
        d = Dispute.objects.get(pk=d.pk)
        terms = [{"text": "被申请人于十日内履行原协议剩余部分", "how": "当面交付", "by": ""}]
        _session(Actors(by, [by], by, None, {}), d, again, "face_to_face", "agreement", by, h, summary="督促履行")
        _agree(d, by, again, terms, h)
        return _follow_up(d, by, again, now, random.Random(d.pk), h)
    else:
        workflow.perform(
            actor=by,
            dispute_id=d.pk,
            action="close",
            now=at,
            payload={"performance": performance},
            note="履行回访：已按协议履行",
        )
    h.settle(d.pk, at)
    return d


def _notice(
    ctx: BuildContext, a: Actors, rng: random.Random, at: datetime, grid_codes: list[str], title: str, **kw: Any
) -> PoliceNotice:
    from gongzhi.territory.models import Node

    grid = Node.objects.get(code=rng.choice(grid_codes))
    n = services.file_police_notice(
        actor=a.police,
        title=title,
        ask=kw.pop("ask", "请网格员入户走访，了解情况并调解"),
        node_id=grid.pk,
        people=kw.pop("people", f"{names.person_name(rng)}、{names.person_name(rng)}"),
        description=kw.pop("description", ""),
        due_at=ctx.now + timedelta(days=3),
    )
    PoliceNotice.objects.filter(pk=n.pk).update(happened_at=at - timedelta(hours=2), due_at=at + timedelta(days=3))
    n.refresh_from_db()
    return n


def _answer(n: PoliceNotice, worker: User, at: datetime, result: str, feedback: str) -> None:
    services.answer_police_notice(actor=worker, notice_id=n.pk, result=result, feedback=feedback)
    PoliceNotice.objects.filter(pk=n.pk).update(received_at=at, visited_at=at, answered_at=at)


def _story(ctx: BuildContext, a: Actors, kinds: dict[str, DisputeKind], h: History, grid_codes: list[str]) -> None:
    """平安小苑 (seed 000): an accident at work reported to the police; the joint team mediates on site and fails;
    the comprehensive-governance station's head and two mediators hold face-to-face and separate sessions over
    three days; the parties sign the agreement."""
    from gongzhi.territory.models import Node

    now = ctx.now
    day0 = (timezone.localtime(now) - timedelta(days=4)).replace(hour=9, minute=30, second=0, microsecond=0)
    grid = Node.objects.get(code=grid_codes[0])
    worker = a.workers[grid.code]
    n = services.file_police_notice(
        actor=a.police,
        title="务工人员作业时受伤，与雇主就赔偿发生争执",
        node_id=grid.pk,
        people="陈立新（受伤务工人员）、沈北宏达装饰工程有限公司",
        description="新居民陈立新在装修作业中从脚手架跌落受伤，与雇主就医疗费、误工费赔偿争执不下，双方情绪激动。",
        ask="请联勤处置分队就地调处，防止矛盾激化",
        due_at=now + timedelta(days=3),
    )
    PoliceNotice.objects.filter(pk=n.pk).update(happened_at=day0 - timedelta(hours=1), due_at=day0 + timedelta(days=3))
    parties = [
        PartyIn(name="陈立新", phone="13904041234", address="道义街道新居民公寓"),
        PartyIn(role="respondent", name="沈北宏达装饰工程有限公司", phone="02488771234", is_organisation=True),
    ]
    services.answer_police_notice(
        actor=worker,
        notice_id=n.pk,
        result="dispute",
        feedback="已入户走访，双方同意调解，转联勤处置分队现场调处",
        dispute_kind_id=kinds["labour"].pk,
        dispute_summary="务工人员安全事故赔偿纠纷（平安小苑）",
        dispute_risk="yellow",
        parties=parties,
    )
    PoliceNotice.objects.filter(pk=n.pk).update(received_at=day0, visited_at=day0, answered_at=day0)
    d = Dispute.objects.get(source_notice=n)
    Dispute.objects.filter(pk=d.pk).update(
        received_at=day0,
        facts="陈立新受雇于被申请人从事装修作业，作业中从脚手架跌落致左腿骨折，"
        "就医疗费、误工费、护理费的赔偿数额与被申请人发生争议。",
    )
    h.settle(d.pk, day0)
    t = day0 + timedelta(hours=2)
    workflow.perform(actor=worker, dispute_id=d.pk, action="start", now=t)
    _session(
        a,
        d,
        t,
        "face_to_face",
        "no_agreement",
        worker,
        h,
        where="工地现场",
        summary="联勤处置分队就地调处：雇主只同意承担医疗费，受伤方要求赔偿十二万元，未能达成一致",
    )
    t = day0 + timedelta(hours=5)
    workflow.perform(
        actor=worker,
        dispute_id=d.pk,
        action="escalate",
        now=t,
        note="就地调处不成，引导至综合治理站，由专业调解员和人社部门介入",
    )
    h.settle(d.pk, t)
    team = a.mediators[:3]
    services.assign_mediators(actor=a.operator, dispute_id=d.pk, user_ids=[u.pk for u in team], lead_id=team[0].pk)
    h.settle(d.pk, t)
    day1 = day0 + timedelta(days=1)
    workflow.perform(actor=team[0], dispute_id=d.pk, action="start", now=day1)
    d = Dispute.objects.get(pk=d.pk)
    _session(
        a,
        d,
        day1,
        "face_to_face",
        "progress",
        team[0],
        h,
        where="综合治理站调解室",
        summary="首轮面对面调解：释明工伤赔偿相关法律规定，双方各自陈述诉求",
    )
    day2 = day1 + timedelta(days=1)
    _session(
        a,
        d,
        day2,
        "separate",
        "progress",
        team[0],
        h,
        where="综合治理站调解室",
        summary="背对背分别做工作",
        notes="受伤方底线八万元；雇主愿意在医疗费外再承担部分误工费",
    )
    day3 = day2 + timedelta(days=1)
    _session(
        a,
        d,
        day3,
        "face_to_face",
        "agreement",
        team[0],
        h,
        where="综合治理站调解室",
        summary="第三轮面对面调解，双方达成一致",
    )
    terms = [
        {
            "text": "被申请人一次性赔偿申请人医疗费、误工费、护理费等各项损失共计人民币捌万元",
            "how": "银行转账",
            "by": (day3 + timedelta(days=10)).date().isoformat(),
        },
        {"text": "申请人收到赔偿款后不再就此事向被申请人主张任何权利", "how": "", "by": ""},
    ]
    _agree(d, team[0], day3, terms, h, performance="被申请人于十日内一次性付清，双方签字后生效")


def create_disputes(ctx: BuildContext) -> int:
    """Two years of disputes and a year of police notices on this copy; the 平安小苑 story in copy 0. Returns
    the disputes made."""
    if ctx.subdistrict is None:
        return 0
    a = _actors(ctx)
    if a is None:
        return 0
    from gongzhi.messaging.models import Message

    rng = random.Random(SEED * 1000 + ctx.k)
    kinds = {k.code: k for k in DisputeKind.objects.filter(is_active=True)}
    _ladder(ctx)
    started = timezone.now()
    h = History(started)
    message_floor = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    now = ctx.now
    grid_codes = sorted(a.workers)
    # A place's disputes come from a few hot grids more than others.
    hot = grid_codes[:: max(1, len(grid_codes) // 25)]
    weighted = grid_codes + hot * 4
    made = 0
    # The twelve months before the last twelve (slower), then the last twelve; police notices of the last year.
    for count, start, faster in (
        (LAST_YEAR, now - timedelta(days=730), False),
        (THIS_YEAR, now - timedelta(days=365), True),
    ):
        times = sorted(start + timedelta(days=rng.uniform(0, 365), hours=rng.uniform(8, 19)) for _ in range(count))
        for received in times:
            if received > now:
                continue
            with _untold(received < now - UNTOLD_BEFORE):
                _one(ctx, a, rng, kinds, h, received, faster=faster, grid_codes=weighted)
            made += 1
    for i in range(NOTICES):
        at = now - timedelta(days=365) + timedelta(days=365 * i / NOTICES, hours=rng.uniform(0, 12))
        title = rng.choice(NOTICE_TITLES)
        n = _notice(ctx, a, rng, at, weighted, title)
        worker = a.workers.get(n.place_code[:15]) or next(iter(a.workers.values()))
        if at > now - timedelta(days=2):
            if rng.random() < 0.5:
                services.receive_police_notice(actor=worker, notice_id=n.pk)
            continue  # open: the grid still has to visit
        late = rng.random() < 0.12
        answered = at + timedelta(days=rng.uniform(3.2, 5) if late else rng.uniform(0.2, 2.5))
        if answered > now:
            continue
        result = rng.choices(["resolved", "dispute", "nothing"], weights=[45, 30, 25])[0]
        if result == "dispute":
            _one(
                ctx,
                a,
                rng,
                kinds,
                h,
                answered,
                faster=True,
                grid_codes=[n.place_code[:15]] if n.place_code[:15] in a.workers else weighted,
                notice=n,
            )
            PoliceNotice.objects.filter(pk=n.pk).update(received_at=answered, visited_at=answered, answered_at=answered)
            made += 1
        else:
            feedback = {"resolved": "网格员入户走访，双方已和解，情绪稳定", "nothing": "经走访核实，系误会，无需处置"}[
                result
            ]
            _answer(n, worker, answered, result, feedback)
    # A few notices of the last hours still to visit (two on the demo grid), two overdue (the station sees them red);
    # a few planned sessions this week for the mediator.
    for i, title in enumerate(
        ("深夜醉酒敲错门引发争执", "楼上漏水两户争吵报警", "外卖骑手与商户争执", "广场舞音响扰民报警")
    ):
        n = _notice(ctx, a, rng, now - timedelta(hours=3 + 5 * i), grid_codes[:1] if i < 2 else weighted, title)
        if i == 1:
            services.receive_police_notice(actor=a.workers[n.place_code[:15]], notice_id=n.pk)
    for title in ("夜间烧烤噪音扰民报警", "租户与房东因押金发生争执"):
        _notice(ctx, a, rng, now - timedelta(days=4), grid_codes, title)
    if ctx.is_main:
        _story(ctx, a, kinds, h, grid_codes)
        made += 1
        # Yesterday's leak between two floors on the demo grid: the grid worker is to mediate it on site.
        from gongzhi.territory.models import Node

        y = now - timedelta(hours=20)
        leak = services.register_dispute(
            actor=a.workers[grid_codes[0]],
            kind_id=kinds["neighbour"].pk,
            summary="楼上卫生间漏水致楼下天花板受损",
            facts="楼下住户称楼上卫生间防水层老化漏水，天花板霉变；楼上住户认为是公共管道问题，双方多次争吵。",
            node_id=Node.objects.get(code=grid_codes[0]).pk,
            source="visit",
            risk="yellow",
            parties=[_party(rng), _party(rng, "respondent")],
            received_at=y,
        )
        h.settle(leak.pk, y)
        made += 1
        # A red risk of this morning: wage arrears, workers gathering — at the station at once, the subdistrict told.
        m = now - timedelta(hours=6)
        red = services.register_dispute(
            actor=a.operator,
            kind_id=kinds["labour"].pk,
            summary="装修公司拖欠十余名工人工资，工人聚集讨薪",
            node_id=Node.objects.get(code=grid_codes[-1]).pk,
            source="police",
            risk="red",
            parties=[_party(rng), _party(rng, "respondent", org="沈北鑫达装饰有限公司")],
            mediator_ids=[a.mediators[0].pk],
            received_at=m,
        )
        workflow.perform(actor=a.mediators[0], dispute_id=red.pk, action="start", now=m + timedelta(hours=1))
        h.settle(red.pk, m)
        made += 1
    open_station = Dispute.objects.filter(subdistrict_code=ctx.code, status="mediating", tier_kind=TierKind.STATION)
    for d in open_station.order_by("-received_at")[:4]:
        services.assign_mediators(actor=a.operator, dispute_id=d.pk, user_ids=[a.mediators[0].pk])
        day = timezone.localtime(now) + timedelta(days=rng.randint(1, 4))
        at = day.replace(hour=rng.choice([9, 10, 14, 15]), minute=0, second=0, microsecond=0)
        services.record_session(
            actor=a.mediators[0],
            dispute_id=d.pk,
            held_at=at,
            mode=rng.choice(["face_to_face", "separate"]),
            where="综合治理站调解室",
            attendee_ids=list(Party.objects.filter(dispute=d).values_list("pk", flat=True)),
        )
        h.settle(d.pk, now)
    # The inbox keeps what the last days told (as the cases' replay does); older news is history.
    recent = now - timedelta(days=RECENT_DAYS)
    mine = Dispute.objects.filter(subdistrict_code=ctx.code)
    fresh = set(
        mine.filter(
            Q(received_at__gte=recent)
            | Q(agreed_at__gte=recent)
            | Q(closed_at__gte=recent)
            | Q(sessions__held_at__gte=recent)
        ).values_list("pk", flat=True)
    )
    fresh_notices = set(
        PoliceNotice.objects.filter(place_code__startswith=ctx.code)
        .filter(Q(happened_at__gte=recent) | Q(answered_at__gte=recent))
        .values_list("pk", flat=True)
    )
    told = Q(dedupe_key__startswith="dispute:") | Q(dedupe_key__startswith="police_notice:")
    drop = []
    for pk, key in Message.objects.filter(told, pk__gt=message_floor).values_list("pk", "dedupe_key").iterator():
        what, _sep, rest = key.partition(":")
        obj = int(rest.split(":", 1)[0])
        if obj not in (fresh if what == "dispute" else fresh_notices):
            drop.append(pk)
    for i in range(0, len(drop), 2000):
        Message.objects.filter(pk__in=drop[i : i + 2000]).delete()
    return made


def reset_disputes(code: str, bodies: list[int], out: Any) -> int:
    """The copy's disputes (their parties, sessions, agreements), police notices and ladder."""
    from gongzhi.disputes.models import Dispute as D

    total = D.objects.filter(subdistrict_code=code).delete()[0]
    total += PoliceNotice.objects.filter(place_code__startswith=code).delete()[0]
    total += LadderTier.objects.filter(subdistrict__code=code).delete()[0]
    return int(total)
