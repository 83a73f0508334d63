"""The demo's notices (通知, issue 16: the 通知 page was empty): what a subdistrict's offices and communities send in
a few weeks — a cold-wave warning to the elderly living alone, a community's new charging shed, a grid's corridor
clean-up, a water cut sent by the village to the grid it shares with a community and co-sent by that community (one
delivery per household: 重复通知), a service centre's hours for the elderly, a meeting invitation sent this morning.

Everything is written through ``notices.services`` as the senders would: ``deliver_notice`` (scope, once per
household, audit) and, for the households that read it, ``mark_read`` (the link) or ``confirm_read`` (the grid
worker, in person or by phone). Then the notice is dated back to the day it was sent in the demo's story — the
services stamp "now"; the demo is a history, as its cases are — and its reads spread over the days since.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.errors import Forbidden, NotFound, ValidationFailed
from gongzhi.demo import names
from gongzhi.notices import services as notices
from gongzhi.notices.choices import ReadVia
from gongzhi.notices.models import Notice, NoticeDelivery, NoticeSender
from gongzhi.registry.choices import TagKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext

SEED_TAG = "notices"
GRID_CODE_LENGTH = 15  # subdistrict 9 + community 3 + grid 3: a household's code starts with its grid's


@dataclass(frozen=True)
class DemoNotice:
    sender: str  # "operator", or the community (or village) whose secretary sends it
    area: str  # "subdistrict", "community", "grid" (the sender's community's first grid) or "overlap" (村居融合网格)
    title: str
    body: str
    days_ago: int
    read_share: float  # of the households it reached
    tags: tuple[str, ...] = ()
    # A community whose secretary sends the same text afterwards to the village grid it co-manages (村居融合网格), which
    # the village sent it to: it joins the village's notice as a co-sender, and no household there gets it twice.
    co_sender: str = ""
    confirm_share: float = 0.0  # of the reads, confirmed by the grid worker (the rest opened the link)


NOTICES: list[DemoNotice] = [
    DemoNotice(
        "道义社区",
        "community",
        "道义社区老年食堂和党群服务中心冬季开放时间调整",
        "自12月1日起，道义社区党群服务中心开放时间调整为：周一至周五 8:30—17:00，周六 9:00—12:00。"
        "老年食堂午餐供应时间为 11:00—12:30，80岁以上老人可电话预约送餐上门。如有急事，请拨打社区值班电话。",
        20,
        0.78,
        tags=(TagKind.ELDERLY, TagKind.ELDERLY_ALONE),
    ),
    DemoNotice(
        "大干村",
        "overlap",
        "大干片区计划停水通知",
        "因供水管网维修，本周四 8:00—18:00 大干社区及大干村部分区域将暂停供水。请居民提前储水，关好水龙头；"
        "恢复供水初期水质可能浑浊，放水片刻即可。给您带来不便，敬请谅解。",
        9,
        0.46,
        co_sender="大干社区",
    ),
    DemoNotice(
        "府东社区",
        "community",
        "关于府东小区电动自行车集中充电棚启用的通知",
        "府东小区3号楼东侧电动自行车集中充电棚已建成启用，共40个充电位，扫码充电，每小时0.4元。"
        "为消除火灾隐患，即日起严禁电动自行车进楼入户、飞线充电。网格员将逐楼宣传，请大家相互转告。",
        6,
        0.36,
        confirm_share=0.15,
    ),
    DemoNotice(
        "operator",
        "subdistrict",
        "寒潮来袭，独居老人请注意防寒保暖",
        "据气象部门预报，本周将有强冷空气过境，最低气温降至零下18℃。请独居老人减少外出，注意室内取暖和燃气安全；"
        "如遇困难，请拨打社区电话或联系您的网格员，我们将上门帮助。",
        3,
        0.55,
        tags=(TagKind.ELDERLY_ALONE,),
        confirm_share=0.4,
    ),
    DemoNotice(
        "府东社区",
        "grid",
        "第1网格楼道杂物集中清理通知",
        "本周六上午 9:00—11:00，网格员和志愿者将对第1网格各楼栋楼道进行集中清理。"
        "请住户于周五前自行清理楼道内堆放的杂物、纸箱；无人认领的物品将统一清运。",
        1,
        0.34,
        confirm_share=0.5,
    ),
    DemoNotice(
        "正良社区",
        "community",
        "正良社区垃圾分类新规宣讲会邀请",
        "本周五下午 2:30 在社区活动室举行垃圾分类新规宣讲会，讲解厨余垃圾、可回收物的投放时间和方法，"
        "现场发放分类垃圾袋。欢迎居民参加。",
        0,
        0.07,
    ),
]


def _staff(role: str, node_id: int) -> User | None:
    rows = RoleAssignment.objects.filter(role=role, node_id=node_id, is_active=True, user__is_active=True)
    row = rows.filter(post=Post.SECRETARY).order_by("id").first() or rows.order_by("id").first()
    return User.objects.get(pk=row.user_id) if row else None


def create_notices(ctx: BuildContext) -> int:
    """Send the demo's notices through ``notices.services``; mark some households read. Returns notices sent."""
    if ctx.subdistrict is None:
        return 0
    rng = random.Random(f"{SEED_TAG}:{ctx.k}")
    made = 0
    for spec in NOTICES:
        sent = _send(ctx, spec, rng)
        if sent is not None:
            made += 1
            ctx.counts["notice deliveries"] += sent[1]
            ctx.counts["notices read"] += sent[2]
    return made


def _place(ctx: BuildContext, name: str) -> Node | None:
    info = next((c for c in ctx.communities if c.name == name), None)  # the same names in every copy
    return info.node if info is not None else None


def _send(ctx: BuildContext, spec: DemoNotice, rng: random.Random) -> tuple[Notice, int, int] | None:
    assert ctx.subdistrict is not None
    if spec.sender == "operator":
        actor = _staff(Role.SUBDISTRICT_OPERATOR, ctx.subdistrict.pk)
        area: Node | None = ctx.subdistrict
    else:
        community = _place(ctx, spec.sender)
        actor = _staff(Role.COMMUNITY_STAFF, community.pk) if community is not None else None
        area = community
        if spec.area == "grid" and community is not None:
            area = Node.objects.filter(parent=community, kind="grid").order_by("code").first()
        elif spec.area == "overlap":
            area = _overlap_grid(ctx)
    if actor is None or area is None:
        ctx.out(f"    no sender or place for “{spec.title}”: not sent")
        return None
    try:
        result = notices.deliver_notice(
            actor=actor, title=spec.title, body=spec.body, area_id=area.pk, tags=list(spec.tags)
        )
    except ValidationFailed:  # nobody lives there (a trimmed test build)
        ctx.out(f"    no households for “{spec.title}”: not sent")
        return None
    notice = result.notice
    if spec.co_sender:
        community = _place(ctx, spec.co_sender)
        co_actor = _staff(Role.COMMUNITY_STAFF, community.pk) if community is not None else None
        grid = _overlap_grid(ctx)
        if co_actor is not None and grid is not None:
            try:
                notices.deliver_notice(actor=co_actor, title=spec.title, body=spec.body, area_id=grid.pk)
            except (ValidationFailed, Forbidden, NotFound) as exc:
                ctx.out(f"    “{spec.title}” not co-sent: {exc.message}")
    sent_at = _office_hours(ctx.now, spec.days_ago, rng)
    _date_back(notice, sent_at)
    read = _read(ctx, notice, spec, rng, sent_at)
    return notice, NoticeDelivery.objects.filter(notice=notice).count(), read


def _office_hours(now: datetime, days_ago: int, rng: random.Random) -> datetime:
    """A morning ``days_ago`` days before ``now`` (local time), never later than half an hour ago."""
    day = timezone.localtime(now).date() - timedelta(days=days_ago)
    at = timezone.make_aware(datetime.combine(day, time(rng.randint(8, 10), rng.choice((0, 15, 30, 45)))))
    return min(at, now - timedelta(minutes=30))


def _overlap_grid(ctx: BuildContext) -> Node | None:
    return Node.objects.filter(name=names.OVERLAP_GRID_NAME, code__startswith=ctx.code).first()


def _date_back(notice: Notice, sent_at: datetime) -> None:
    """The services stamped "now": put the notice on the day it was sent in the demo's story."""
    Notice.objects.filter(pk=notice.pk).update(published_at=sent_at)
    for i, sender in enumerate(NoticeSender.objects.filter(notice=notice).order_by("sent_at", "id")):
        at = sent_at + timedelta(minutes=40 * i)
        NoticeSender.objects.filter(pk=sender.pk).update(sent_at=at)
        NoticeDelivery.objects.filter(notice=notice, delivered_at=sender.sent_at).update(delivered_at=at)


def _read(ctx: BuildContext, notice: Notice, spec: DemoNotice, rng: random.Random, sent_at: datetime) -> int:
    rows = list(
        NoticeDelivery.objects.filter(notice=notice)
        .order_by("household__code")
        .values_list("pk", "token", "household__code")
    )
    chosen = [row for row in rows if rng.random() < spec.read_share]
    workers: dict[str, User | None] = {}
    read_ids: list[int] = []
    for pk, token, code in chosen:
        worker = None
        if spec.confirm_share and rng.random() < spec.confirm_share:
            grid_code = code[:GRID_CODE_LENGTH]
            if grid_code not in workers:
                grid = Node.objects.filter(code=grid_code).first()
                workers[grid_code] = _staff(Role.GRID_WORKER, grid.pk) if grid is not None else None
            worker = workers[grid_code]
        if worker is not None:
            via = ReadVia.IN_PERSON if rng.random() < 0.7 else ReadVia.PHONE
            notices.confirm_read(actor=worker, delivery_id=pk, via=via)
        else:
            notices.mark_read(token=token)
        read_ids.append(pk)
    # Spread the reads over the days since it was sent (most within the first day).
    span = max((ctx.now - sent_at).total_seconds(), 120.0)  # at least 30 minutes (_office_hours)
    batch = []
    for pk in read_ids:
        delay = min(span - 60, rng.expovariate(1 / min(span / 3, 86400.0)))
        batch.append(NoticeDelivery(pk=pk, read_at=sent_at + timedelta(seconds=max(delay, 60))))
    NoticeDelivery.objects.bulk_update(batch, ["read_at"], batch_size=1000)
    return len(read_ids)
