"""A year of cases for each demo subdistrict (seed 001: "over 10,000 cases a year through the grids and 12345").

The year is the 365 days up to the build moment (``ctx.now``), so the newest cases are still open — the to-do
lists, intake queue and overdue board look alive — and a full year lies behind them for the KPIs. Each calendar
month of that window is planned and written on its own (memory stays flat at any ``--scale``) with its own seeded
:class:`random.Random` (and each case with one drawn from it), so a month's cases depend only on the copy, the month
and the day of the build — and, for the newest, on how far their stories have got by the build moment.

A case is planned as a *story*: the desk, the grid, a property company or a department act on it step by step,
each step timed on the work calendar against the deadline of the step it is in (the same limits and arithmetic as
``cases.deadlines``). A step later than its deadline is caught as the deadline task would catch it — the case is
flagged overdue and, where the table allows, escalated by the system — and a story stops at "now", leaving the
case in whatever state it has reached. The status itself is only ever set by ``workflow.replay_history``, which
walks the transition table over the story's steps and returns the timeline events; this module sets everything
else on the case (timestamps, tier, owner, handler, clock, counters, rating) the way the workflow's effects would.

Copy 0 (道义) also gets the seed stories — 府东 quilts on a green belt, 金禾家苑 parking through a joint meeting,
西大商城 standing water reported over the years and fixed this year — and open cases for the demo log-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.cases import tasks, tiers, tracking, workflow
from gongzhi.cases.calendar import DAY_HOURS, WorkCalendar
from gongzhi.cases.choices import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Channel,
    ClosedKind,
    DeadlineUnit,
    Rating,
    Status,
    Step,
    Tier,
    Urgency,
)
from gongzhi.cases.deadlines import DEFAULT_LIMITS
from gongzhi.cases.models import Attachment, Case, CaseEvent, Category, DeadlineRule
from gongzhi.core import bulk
from gongzhi.core.messages import system_note
from gongzhi.demo import names
from gongzhi.demo.tiling import points_inside
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext, BuildingInfo, CommunityInfo, GridInfo, Out

BATCH_SIZE = 2000
CASES_PER_YEAR = 10_400  # reports planned per copy; duplicates of open problems come on top (≈ 3%)
WINDOW_DAYS = 365
DETECT = timedelta(minutes=5)  # the deadline task runs every few minutes
AUTO_ESCALATION_NOTE = system_note(tasks.AUTO_ESCALATION_NOTE)  # as tasks.run_deadline_check writes it
SEED_TAG = "gongzhi-demo-cases"

S = Status
H, D = DeadlineUnit.WORKING_HOURS, DeadlineUnit.WORKING_DAYS
Person = tuple[int | None, str]  # (user id, label on the timeline)
SYSTEM: Person = (None, workflow.SYSTEM)
IdSource = Callable[[], int]

# --- What happens: channels, categories, seasons --------------------------------------------------------------

CHANNEL_WEIGHTS: dict[str, float] = {
    Channel.PATROL: 48,
    Channel.HOTLINE: 23,
    Channel.RESIDENT: 10,
    Channel.BUILDING_HEAD: 8,
    Channel.DESK: 4,
    Channel.VISIT: 3.5,
    Channel.POLICE: 2.5,
    Channel.MEETING: 2,
}
WEEKEND_CHANNEL_FACTOR: dict[str, float] = {
    Channel.PATROL: 0.6,
    Channel.DESK: 0.2,
    Channel.VISIT: 0.3,
    Channel.MEETING: 0.5,
    Channel.HOTLINE: 1.3,
    Channel.RESIDENT: 1.5,
    Channel.POLICE: 1.3,
}
WEEKDAY_FACTOR = (1.12, 1.08, 1.08, 1.08, 1.1, 0.72, 0.62)
MONTH_FACTOR = (0.85, 0.8, 0.95, 1.0, 1.05, 1.1, 1.15, 1.15, 1.05, 1.0, 0.95, 0.9)

FLAT = (1.0,) * 12
SUMMER_RAIN = (0.2, 0.2, 0.4, 0.7, 1.0, 1.6, 3.0, 3.0, 1.4, 0.6, 0.3, 0.2)
HEATING = (2.2, 2.0, 1.5, 0.8, 0.6, 0.6, 0.7, 0.7, 0.8, 1.2, 2.4, 2.4)
SUNNY = (0.5, 0.5, 0.9, 1.3, 1.5, 1.4, 1.2, 1.2, 1.3, 1.2, 0.8, 0.5)
GROWING = (0.1, 0.1, 0.8, 2.0, 2.2, 1.6, 1.2, 1.0, 0.8, 0.5, 0.2, 0.1)
WARM = (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.1, 1.0, 0.8, 0.8)
BUILDING_SEASON = (0.3, 0.3, 0.8, 1.3, 1.4, 1.4, 1.3, 1.3, 1.3, 1.2, 0.6, 0.3)
THAW = (0.8, 0.9, 1.6, 1.6, 1.0, 1.0, 1.2, 1.2, 0.9, 0.8, 0.7, 0.8)
COLD = (1.4, 1.4, 1.1, 1.0, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.2, 1.4)

SPOTS = ("东门", "西门", "南门", "北门", "中心广场", "健身广场", "绿化带", "停车场", "主干道", "小游园", "车棚")
VILLAGE_SPOTS = ("村口", "文化广场", "村道", "河沿", "村委会旁", "健身广场")


@dataclass(frozen=True)
class Kind:
    """How one category of case happens in the demo."""

    code: str
    weight: float
    titles: tuple[str, ...]  # "{p}" is the place
    on_grid: float = 0.0  # share reported on open ground (the grid) rather than at a building
    fix: float = 0.0  # a patrol fixes it on the spot
    prop: float = 0.0  # goes to the compound's property company, where there is one
    dept: str = ""  # department key (names.DEPARTMENTS)
    dept_p: float = 0.0
    hard: float = 0.0  # the grid cannot solve it: escalated to the community
    dup: float = 0.0  # others report the same problem while it is open (merged)
    postpone: float = 0.0
    lift: bool = False  # only in buildings with a lift
    season: tuple[float, ...] = FLAT
    spots: tuple[str, ...] = SPOTS
    done: tuple[str, ...] = ()  # disposal notes


# fmt: off
KINDS: tuple[Kind, ...] = (
    Kind("0101", 7, ("{p}垃圾桶满溢未清运", "{p}暴露垃圾无人清理", "{p}生活垃圾散落"), on_grid=0.5, fix=0.35,
         prop=0.6, hard=0.02, dup=0.04, spots=("垃圾收集点", "车棚", "绿化带", "东门"),
         done=("已清运暴露垃圾并清洗垃圾桶", "已协调环卫加密清运频次")),
    Kind("0102", 3, ("{p}装修垃圾长期堆放", "{p}渣土堆积未清运"), on_grid=0.7, fix=0.1, prop=0.5, dept="urban",
         dept_p=0.15, hard=0.05, dup=0.03, done=("装修垃圾已清运完毕", "已责令施工方清运渣土")),
    Kind("0103", 2, ("{p}路面油污", "{p}路面泥土未清扫"), on_grid=1.0, fix=0.3, prop=0.4, dept="urban", dept_p=0.1,
         hard=0.02, spots=("主干道", "东门", "南门"), done=("已组织保洁清扫冲洗",)),
    Kind("0104", 8, ("{p}晾晒被褥", "{p}健身器材上晾晒衣物", "{p}树木间拉绳晾晒"), on_grid=0.6, fix=0.5, prop=0.6,
         hard=0.03, season=SUNNY, spots=("绿化带", "健身广场", "小游园"),
         done=("已上门劝导，住户已收回晾晒物品", "已引导居民到规范晾晒点晾晒")),
    Kind("0105", 4, ("{p}雨后积水严重", "{p}路面积水影响通行", "{p}地下室进水"), on_grid=0.8, fix=0.05, prop=0.5,
         dept="housing", dept_p=0.25, hard=0.08, dup=0.12, postpone=0.05, season=SUMMER_RAIN,
         spots=("主干道", "东门", "停车场", "地下车库入口"), done=("已抽排积水并疏通雨水篦子", "已清淤排水管道")),
    Kind("0106", 4, ("{p}垃圾未分类投放", "{p}分类垃圾桶混投"), on_grid=0.4, fix=0.45, prop=0.5, hard=0.02,
         spots=("垃圾收集点",), done=("已开展分类投放宣传并现场指导", "已二次分拣并督促整改")),
    Kind("0201", 3, ("{p}张贴小广告", "{p}墙面喷涂办证广告"), on_grid=0.6, fix=0.6, prop=0.3, dept="urban",
         dept_p=0.1, done=("已清除小广告",)),
    Kind("0202", 0.5, ("{p}违规设置广告牌",), on_grid=1.0, dept="urban", dept_p=0.6, done=("违规广告牌已拆除",)),
    Kind("0301", 1.5, ("{p}夜间施工噪音扰民", "{p}装修施工超时作业"), on_grid=0.5, fix=0.1, prop=0.3, dept="urban",
         dept_p=0.45, hard=0.1, dup=0.1, season=BUILDING_SEASON, done=("已责令施工方按规定时段作业",)),
    Kind("0302", 1.5, ("{p}私搭乱建", "{p}楼顶违建", "{p}圈占绿地搭建棚屋"), on_grid=0.4, dept="urban",
         dept_p=0.55, hard=0.2, postpone=0.15, done=("违建已拆除，场地已恢复", "已下达限期拆除通知并拆除")),
    Kind("0303", 3, ("{p}路面坑洼破损", "{p}人行道地砖松动", "{p}井盖破损"), on_grid=1.0, fix=0.05, prop=0.3,
         dept="housing", dept_p=0.45, hard=0.05, dup=0.06, postpone=0.1, season=THAW,
         spots=("主干道", "东门", "南门", "停车场"), done=("路面已修补", "已更换井盖并设置警示")),
    Kind("0401", 0.3, ("{p}路面塌陷",), on_grid=1.0, dept="housing", dept_p=0.8, dup=0.1, season=THAW,
         spots=("主干道",), done=("已设置围挡并完成塌陷回填修复",)),
    Kind("0402", 0.3, ("{p}闻到燃气异味",), dept="fire", dept_p=0.7, done=("燃气公司已排查并修复泄漏点",)),
    Kind("0403", 1.5, ("{p}楼道堆放易燃物", "{p}消防栓损坏", "{p}灭火器过期"), on_grid=0.3, fix=0.3, prop=0.3,
         dept="fire", dept_p=0.3, season=COLD, done=("隐患已整改，消防设施已更换",)),
    Kind("0404", 1, ("{p}高空抛物", "{p}楼上抛掷垃圾"), dept="police", dept_p=0.6, hard=0.15,
         done=("已排查确认抛物住户并教育警示", "已安装高空抛物监控")),
    Kind("0501", 10, ("{p}车辆乱停乱放", "{p}机动车占用绿地停放", "{p}僵尸车长期占用车位"), on_grid=0.7, fix=0.35,
         prop=0.55, dept="police", dept_p=0.06, hard=0.08, dup=0.05, spots=("主干道", "东门", "消防通道", "绿化带"),
         done=("已联系车主挪车", "已张贴挪车通知，车辆已移走")),
    Kind("0502", 2, ("{p}流动摊贩占道经营", "{p}店外占道经营"), on_grid=1.0, fix=0.4, dept="urban", dept_p=0.35,
         spots=("东门", "南门", "主干道"), done=("已劝离摊贩", "已责令商户退店经营")),
    Kind("0503", 3, ("{p}消防通道被车辆占用", "{p}消防通道堆放杂物"), on_grid=0.6, fix=0.4, prop=0.5, dept="fire",
         dept_p=0.08, spots=("消防通道",), done=("消防通道已清理畅通",)),
    Kind("0504", 5, ("{p}私拉电线飞线充电", "{p}窗口吊线给电动车充电"), on_grid=0.1, fix=0.55, prop=0.4,
         dept="power", dept_p=0.03, season=WARM, done=("已拆除飞线并引导到充电桩充电",)),
    Kind("0601", 3, ("{p}电梯停运", "{p}电梯运行异响", "{p}电梯困人"), prop=0.95, hard=0.3, dup=0.08,
         postpone=0.15, lift=True, done=("维保单位已维修，电梯恢复运行", "已更换电梯曳引钢丝绳")),
    Kind("0602", 3, ("{p}遛狗不牵绳", "{p}宠物粪便未清理", "{p}犬只扰民"), on_grid=0.5, fix=0.4, prop=0.3,
         hard=0.03, done=("已上门劝导文明养犬",)),
    Kind("0603", 2, ("{p}毁绿种菜", "{p}绿地被圈占种菜"), on_grid=0.8, fix=0.3, prop=0.4, hard=0.05,
         season=GROWING, spots=("绿化带", "小游园"), done=("已清除菜地并补植绿化",)),
    Kind("0604", 5, ("{p}夜间噪音扰民", "{p}广场舞音响声音过大", "{p}商铺音响扰民"), on_grid=0.2, fix=0.2,
         dept="police", dept_p=0.12, hard=0.08, dup=0.05, season=WARM, done=("已协调降低音量并约定活动时段",)),
    Kind("0701", 10, ("{p}楼道堆放杂物", "{p}楼道堆放纸箱废品", "{p}楼道停放自行车堵塞通道"), fix=0.5, prop=0.5,
         done=("楼道杂物已清理", "已督促住户自行清理楼道")),
    Kind("0702", 5, ("{p}电动车进楼充电", "{p}电动车停放在楼道内充电"), fix=0.5, prop=0.4, dept="fire", dept_p=0.03,
         season=WARM, done=("已劝导住户将电动车移至集中充电点",)),
    # Neighbour disputes: a third are passed to the subdistrict's mediation team (老娘舅调解队), whose mediators act
    # on them like a department's handlers.
    Kind("0703", 6, ("{p}邻里漏水纠纷", "{p}邻里噪音纠纷", "{p}邻里占用公共区域纠纷"), fix=0.15, dept="mediators",
         dept_p=0.35, hard=0.25, done=("经调解双方达成一致", "已组织双方面对面调解并签订协议")),
    Kind("0704", 4, ("{p}物业服务不到位", "{p}物业不及时维修公共设施", "{p}楼道照明损坏未修"), on_grid=0.3, prop=0.8,
         hard=0.15, done=("物业已整改到位", "已督促物业完成维修")),
    Kind("0705", 4, ("{p}暖气不热", "{p}停水", "{p}楼道灯不亮", "{p}自来水水压低"), on_grid=0.1, prop=0.4,
         dept="power", dept_p=0.2, hard=0.05, dup=0.06, postpone=0.1, season=HEATING,
         done=("已协调供热单位排气调试，室温达标", "已协调恢复供水供电")),
    Kind("0706", 2, ("{p}居民求助", "{p}公共设施损坏", "{p}井盖缺失"), on_grid=0.4, fix=0.2, prop=0.2, hard=0.05,
         done=("已协调解决",)),
    # Facilities (部件, GB/T 30428.2): "部件" + the standard's code, whose digits the event classes share.
    Kind("部件0102", 1.5, ("{p}污水井盖破损", "{p}污水井盖松动异响", "{p}井盖缺失"), on_grid=0.9, fix=0.05, prop=0.3,
         dept="housing", dept_p=0.5, dup=0.06, spots=("主干道", "东门", "停车场"),
         done=("已更换井盖并恢复通行", "已设置警示并更换井盖")),
    Kind("部件0118", 2.5, ("{p}路灯不亮", "{p}路灯白天常亮", "{p}路灯灯杆倾斜"), on_grid=0.9, prop=0.3,
         dept="power", dept_p=0.5, dup=0.08, season=HEATING, spots=("主干道", "东门", "南门", "停车场"),
         done=("路灯已维修，恢复照明", "已更换灯具")),
    Kind("部件0305", 1.5, ("{p}垃圾桶破损", "{p}分类垃圾桶缺盖", "{p}垃圾箱倾倒"), on_grid=0.5, fix=0.3, prop=0.6,
         spots=("垃圾收集点", "东门", "车棚"), done=("已更换垃圾桶", "垃圾箱已扶正修复")),
    Kind("部件0126", 1, ("{p}健身器材损坏", "{p}健身器材螺丝松动"), on_grid=0.6, fix=0.1, prop=0.6, dup=0.04,
         spots=("健身广场", "小游园"), done=("健身器材已维修", "已拆除损坏器材并报修")),
)
# fmt: on
KIND_BY_CODE = {k.code: k for k in KINDS}

# Channels that only bring some kinds of case (police notices, meetings, household visits).
CHANNEL_KINDS: dict[str, dict[str, float]] = {
    Channel.POLICE: {"0703": 5, "0604": 3, "0404": 2, "0403": 1, "0501": 1},
    Channel.MEETING: {"0501": 3, "0704": 3, "0603": 1, "0604": 1, "0706": 2, "0106": 1, "0701": 1},
    Channel.VISIT: {"0703": 3, "0705": 3, "0701": 2, "0706": 2, "0702": 1, "0602": 1},
}

OPENERS: dict[str, str] = {
    Channel.PATROL: "网格员巡查发现：",
    Channel.VISIT: "入户走访中居民反映：",
    Channel.BUILDING_HEAD: "楼长反映：",
    Channel.DESK: "居民来电反映：",
    Channel.HOTLINE: "12345热线转办，市民反映：",
    Channel.RESIDENT: "",
    Channel.POLICE: "派出所警情通报：",
    Channel.MEETING: "网格夜谈会上居民提出：",
}
DETAILS = ("影响居民正常生活，请尽快处理。", "已持续多日，希望尽快解决。", "存在安全隐患。", "请核实处理。")

REJECT_P: dict[str, float] = {Channel.HOTLINE: 0.04, Channel.RESIDENT: 0.04, Channel.DESK: 0.02}
CANCEL_P: dict[str, float] = {Channel.HOTLINE: 0.012, Channel.RESIDENT: 0.015, Channel.DESK: 0.012}
FOLLOW_UP_P: dict[str, float] = {
    Channel.HOTLINE: 0.97,
    Channel.RESIDENT: 0.92,
    Channel.BUILDING_HEAD: 0.8,
    Channel.DESK: 0.85,
    Channel.POLICE: 0.7,
    Channel.PATROL: 0.6,
    Channel.VISIT: 0.8,
    Channel.MEETING: 0.9,
}

REJECT_NOTES = (
    "经核实不属于本街道管辖范围",
    "反映问题已由相关部门处理完毕",
    "经现场核实，未发现反映的问题",
    "属于民事纠纷，已告知通过司法途径解决",
)
CANCEL_NOTES = ("居民来电撤回诉求", "问题已自行解决", "居民表示已与对方协商解决")
FIX_NOTES = ("现场劝导，已当场整改", "已现场清理完毕", "现场处置完毕，附整改照片")
DISPATCH_NOTES = ("请按时限处置并反馈", "请尽快核实处置", "")
RETURN_NOTES = ("不属于本单位职责范围，请重新派遣", "非物业管理区域，请重新派遣", "地址有误，请核实后重新派遣")
GRID_RETURN_NOTE = "超出网格处置能力，需社区协调"
POSTPONE_NOTES = ("需采购配件，申请延期", "待天气条件允许后施工", "涉及维修资金使用，需业主表决", "需协调多个产权单位")
REWORK_NOTES = ("现场核查未整改到位", "居民反映问题仍存在", "整改不彻底，请重新处置")
GENERIC_DONE = ("已现场处置完毕", "已协调相关方整改到位")
ESCALATE_NOTES = {
    Tier.BUILDING: "楼内协调未果，提交网格处理",
    Tier.GRID: "涉及多方利益，网格内协调未果，提请社区协调",
    Tier.COMMUNITY: "需街道统筹协调相关部门",
    Tier.SUBDISTRICT: "报请区级部门处理",
}
FOLLOW_UP_NOTES = {
    Rating.SATISFIED: "电话回访：居民对处理结果满意",
    Rating.BASICALLY_SATISFIED: "电话回访：居民基本满意",
    Rating.DISSATISFIED: "电话回访：居民不满意，认为问题未彻底解决",
}

# Routes: who handles a case after intake.
FIX, GRID, PROPERTY, DEPT, COMMUNITY, SUBDISTRICT = "fix", "grid", "property", "dept", "community", "subdistrict"
LATE_P = {FIX: 0.035, GRID: 0.085, PROPERTY: 0.11, DEPT: 0.17, COMMUNITY: 0.15, SUBDISTRICT: 0.17}
LATE_STEPS = (Step.DISPATCH, Step.ACKNOWLEDGE, Step.DISPOSE, Step.VERIFY)
LATE_STEP_WEIGHTS = (15, 25, 50, 10)
ESCALATABLE = frozenset(workflow.TRANSITIONS["escalate"].sources)


# --- The world a copy's cases happen in ------------------------------------------------------------------------


@dataclass(eq=False)
class Place:
    node: Node
    grid: GridInfo
    building: BuildingInfo | None
    lng: float
    lat: float
    label: str  # in titles: 府东小区3号楼 / 府东小区绿化带
    address: str


@dataclass
class People:
    """The demo users who act on cases, by place and body."""

    leader: dict[int, Person] = field(default_factory=dict)  # grid node id →
    workers: dict[int, list[Person]] = field(default_factory=dict)  # grid node id → full-time and part-time
    officer: dict[int, Person] = field(default_factory=dict)  # grid node id → community police officer
    property_staff: dict[int, Person] = field(default_factory=dict)  # grid node id →
    staff: dict[int, list[Person]] = field(default_factory=dict)  # community node id → secretary first
    heads: dict[int, Person] = field(default_factory=dict)  # building node id →
    operators: list[Person] = field(default_factory=list)
    handlers: dict[int, list[Person]] = field(default_factory=dict)  # department body id →
    by_username: dict[str, Person] = field(default_factory=dict)  # the demo log-ins (copy 0)
    phones: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """One calendar month of the window (the first and last are partial)."""

    label: str  # 2026-03
    days: tuple[date, ...]


@dataclass(eq=False)
class World:
    ctx: BuildContext
    now: datetime
    start: datetime
    calendar: WorkCalendar
    categories: dict[str, Category]
    limits: dict[tuple[int, str, str], tuple[int, str]]
    people: People
    lead_body: dict[str, int]  # node code → lead body id
    kinds: list[Kind]
    buildings: list[BuildingInfo]
    building_cum: list[float]
    lift_buildings: list[BuildingInfo]
    lift_cum: list[float]
    grid_points: dict[int, list[tuple[float, float]]]  # grid index → points inside it
    property_of: dict[int, Body]  # grid index → property company covering it
    day_rate: dict[date, float]
    kind_cum: dict[tuple[str, int], tuple[list[Kind], list[float]]] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return self.ctx.k

    @property
    def build_day(self) -> date:
        """The seeds depend on the copy, the month and the day of the build: two builds on one day tell the same
        stories (only how far the newest ones have got differs)."""
        return timezone.localtime(self.now).date()

    # -- people --
    def leader(self, grid: GridInfo) -> Person:
        assert grid.node is not None
        return self.people.leader.get(grid.node.pk) or self.worker(random.Random(0), grid)

    def worker(self, rng: random.Random, grid: GridInfo) -> Person:
        assert grid.node is not None
        workers = self.people.workers.get(grid.node.pk)
        return rng.choice(workers) if workers else (None, f"{grid.name}网格员")

    def staff(self, rng: random.Random, community: CommunityInfo) -> Person:
        assert community.node is not None
        staff = self.people.staff.get(community.node.pk)
        return rng.choice(staff) if staff else (None, f"{community.name}工作人员")

    def secretary(self, community: CommunityInfo) -> Person:
        assert community.node is not None
        staff = self.people.staff.get(community.node.pk)
        return staff[0] if staff else (None, f"{community.name}书记")

    def operator(self, rng: random.Random) -> Person:
        return rng.choice(self.people.operators) if self.people.operators else (None, "街道网格化服务管理中心")

    def handler(self, rng: random.Random, body: Body) -> Person:
        people = self.people.handlers.get(body.pk)
        return rng.choice(people) if people else (None, body.name)

    def property_person(self, grid: GridInfo, body: Body) -> Person:
        assert grid.node is not None
        person = self.people.property_staff.get(grid.node.pk)
        return (person[0], f"{person[1]}（{body.name}）") if person else (None, body.name)

    def dept(self, key: str) -> Body:
        return self.ctx.bodies[key]

    # -- time --
    def local(self, day: date, hour: float) -> datetime:
        seconds = int(hour * 3600)
        tz = timezone.get_current_timezone()
        return datetime.combine(day, clock_time(seconds // 3600, seconds // 60 % 60, seconds % 60), tzinfo=tz)

    def workday_before(self, days_ago: int, hour: float) -> datetime:
        """A working day ``days_ago`` days before today or earlier, at ``hour`` local time."""
        day = timezone.localtime(self.now).date() - timedelta(days=days_ago)
        while not self.calendar.is_workday(day):
            day -= timedelta(days=1)
        return self.local(day, hour)

    def limit(self, category_id: int, urgency: str, step: str) -> tuple[int, str]:
        return self.limits[(category_id, urgency, step)]

    # -- places --
    def building_place(self, building: BuildingInfo) -> Place:
        assert building.node is not None
        return Place(
            building.node, building.grid, building, building.lng, building.lat, building.name, building.node.address
        )

    def grid_place(self, rng: random.Random, grid: GridInfo, kind: Kind | None = None, spot: str = "") -> Place:
        assert grid.node is not None
        if not spot:
            spots = VILLAGE_SPOTS if grid.community.is_village else (kind.spots if kind else SPOTS)
            spot = rng.choice(spots)
        lng, lat = rng.choice(self.grid_points[grid.index])
        prefix = grid.compound or grid.community.name
        return Place(grid.node, grid, None, lng, lat, f"{prefix}{spot}", f"{grid.node.address}{spot}")


def load_world(ctx: BuildContext) -> World:
    """Everything the stories need, read once per copy: categories, deadline limits, calendar, people."""
    assert ctx.subdistrict is not None
    now = ctx.now
    start = now - timedelta(days=WINDOW_DAYS)
    categories = {
        c.code if c.kind == "event" else f"部件{c.code}": c for c in Category.objects.filter(parent__isnull=False)
    }
    kinds = [k for k in KINDS if k.code in categories]

    rules: dict[tuple[int | None, str, str], tuple[int, str]] = {
        (r.category_id, r.urgency, r.step): (r.amount, r.unit) for r in DeadlineRule.objects.all()
    }
    limits: dict[tuple[int, str, str], tuple[int, str]] = {}
    for category in categories.values():  # the lookup order of deadlines.limit_for, once per key
        for urgency in Urgency.values:
            for step in Step.values:
                found = (
                    rules.get((category.pk, urgency, step))
                    or rules.get((category.parent_id, urgency, step))
                    or rules.get((None, urgency, step))
                    or DEFAULT_LIMITS[urgency][step]
                )
                limits[(category.pk, urgency, step)] = found

    lead_body = {ctx.subdistrict.code: ctx.subdistrict.lead_body_id}
    for community in ctx.communities:
        assert community.node is not None
        lead_body[community.node.code] = community.node.lead_body_id
    for grid in ctx.grids:
        assert grid.node is not None
        lead_body[grid.node.code] = grid.node.lead_body_id
    for building in ctx.buildings:
        assert building.node is not None
        lead_body[building.node.code] = building.node.lead_body_id

    def size(b: BuildingInfo) -> float:
        return b.floors * b.units * b.doors

    buildings = list(ctx.buildings)
    lifts = [b for b in buildings if b.floors >= 8 and not b.grid.community.is_village]
    point_rng = random.Random(f"{SEED_TAG}:{ctx.k}:points")
    grid_points = {g.index: points_inside(g.polygon, 16, point_rng) for g in ctx.grids}
    property_of: dict[int, Body] = {}
    _company, wide_community = names.COMMUNITY_WIDE_PROPERTY
    for grid in ctx.grids:
        body = ctx.bodies.get(f"property:{grid.compound}") if grid.compound else None
        if body is None and grid.community.name == wide_community and "property:wide" in ctx.bodies:
            body = ctx.bodies["property:wide"]
        if body is not None:
            property_of[grid.index] = body

    return World(
        ctx=ctx,
        now=now,
        start=start,
        calendar=WorkCalendar.load(code=ctx.subdistrict.code),
        categories=categories,
        limits=limits,
        people=_load_people(ctx),
        lead_body=lead_body,
        kinds=kinds,
        buildings=buildings,
        building_cum=list(accumulate(size(b) for b in buildings)),
        lift_buildings=lifts,
        lift_cum=list(accumulate(size(b) for b in lifts)),
        grid_points=grid_points,
        property_of=property_of,
        day_rate=_day_rates(start, now),
    )


def _load_people(ctx: BuildContext) -> People:
    department_ids = [ctx.bodies[key].pk for key, _ in names.DEPARTMENTS if key in ctx.bodies]
    department_ids += [ctx.bodies["mediators"].pk] if "mediators" in ctx.bodies else []
    rows = (
        RoleAssignment.objects.filter(Q(node__code__startswith=ctx.code) | Q(body_id__in=department_ids))
        .order_by("id")
        .values_list(
            "user_id", "user__username", "user__display_name", "user__phone", "role", "post", "node_id", "body_id"
        )
    )
    people = People()
    for uid, username, display, phone, role, post, node_id, body_id in rows:
        person: Person = (uid, display or username)
        people.phones[uid] = phone
        if ctx.is_main and username in ("gridworker", "gridleader", "fudong", "police", "buildinghead", "operator"):
            people.by_username[username] = person
        if role == Role.GRID_LEADER:
            people.leader.setdefault(node_id, person)
        elif role == Role.GRID_WORKER and post in (Post.FULL_TIME, Post.PART_TIME):
            people.workers.setdefault(node_id, []).append(person)
        elif role == Role.GRID_WORKER and post == Post.POLICE:
            people.officer.setdefault(node_id, person)
        elif role == Role.GRID_WORKER and post == Post.PROPERTY:
            people.property_staff.setdefault(node_id, person)
        elif role == Role.COMMUNITY_STAFF:
            people.staff.setdefault(node_id, []).append(person)
        elif role == Role.BUILDING_HEAD:
            people.heads.setdefault(node_id, person)
        elif role == Role.SUBDISTRICT_OPERATOR:
            people.operators.append(person)
        elif role in (Role.DEPARTMENT_HANDLER, Role.MEDIATOR) and body_id:  # mediators act for their team
            people.handlers.setdefault(body_id, []).append(person)
    if ctx.is_main:
        resident = User.objects.filter(username="resident").values_list("pk", "display_name", "phone").first()
        if resident:
            people.by_username["resident"] = (resident[0], resident[1])
            people.phones[resident[0]] = resident[2]
    return people


def _day_rates(start: datetime, now: datetime) -> dict[date, float]:
    """Expected reports per day over the window: weekday and month factors, summing to CASES_PER_YEAR."""
    first, last = timezone.localtime(start).date(), timezone.localtime(now).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weights = [WEEKDAY_FACTOR[d.weekday()] * MONTH_FACTOR[d.month - 1] for d in days]
    scale = CASES_PER_YEAR / sum(weights)
    return {d: w * scale for d, w in zip(days, weights, strict=True)}


def month_chunks(world: World) -> list[Chunk]:
    by_month: dict[str, list[date]] = {}
    for day in world.day_rate:
        by_month.setdefault(f"{day:%Y-%m}", []).append(day)
    return [Chunk(label, tuple(days)) for label, days in by_month.items()]


# --- Stories: one case's timeline, step by step ------------------------------------------------------------------


class Story:
    """Plans one case: each step is checked against the transition table, applies the workflow's effects on the
    case fields, and runs the deadline clock. A step after ``now`` is not taken: the case stays where it is."""

    def __init__(
        self,
        world: World,
        rng: random.Random,
        case: Case,
        kind: Kind,
        place: Place,
        intake: Person | None,
        report_data: dict[str, Any],
    ) -> None:
        self.w = world
        self.rng = rng
        self.case = case
        self.kind = kind
        self.place = place
        self.t = case.reported_at
        self.state = workflow.create_status()
        self.intake = intake
        self.report_data = report_data
        self.steps: list[tuple[str, datetime, str, str]] = []
        self.actors: list[int | None] = []
        self.data: list[dict[str, Any]] = []
        self.notes: list[tuple[datetime, Person, str, bool]] = []
        self.limit_hours = 0.0
        self.cut = False
        self.ended: datetime | None = None  # when it reached a final state
        self.events: list[CaseEvent] = []

    # -- timing --
    def after(self, lo: float, hi: float) -> datetime:
        """``lo``–``hi`` working hours after the last step."""
        return self.w.calendar.add(self.t, self.rng.uniform(lo, hi), H)

    def timed(self, late: bool = False, share: tuple[float, float] = (0.1, 0.85)) -> datetime:
        """When the step that stops the running clock happens: within the limit, or late (sometimes very)."""
        due = self.case.due_at
        if due is None:
            return self.after(0.2, 3)
        if late:
            factor = self.rng.uniform(1.5, 5) if self.rng.random() < 0.25 else self.rng.uniform(0.15, 1.0)
            return self.w.calendar.add(due, self.limit_hours * factor + 0.25, H)
        remaining = self.w.calendar.working_hours_between(self.t, due)
        if remaining <= 0.1:
            return self.after(0.02, 0.08)
        return self.w.calendar.add(self.t, remaining * self.rng.uniform(*share), H)

    def soon(self) -> datetime:
        return self.timed(False, (0.02, 0.12))

    # -- steps --
    def act(self, action: str, at: datetime, who: Person, note: str = "", **payload: Any) -> bool:
        """Take ``action`` at ``at`` (if that is not after now). Returns whether it was taken."""
        if self.cut:
            return False
        if at > self.w.now:
            self.cut = True
            return False
        at = max(at, self.t)
        self._check_clock(at)
        self._take(action, at, who, note, payload)
        return True

    def note(self, at: datetime, who: Person, text: str, public: bool = True) -> None:
        """A timeline note (not a transition), e.g. a meeting's decision."""
        if self.cut:
            return
        if at > self.w.now:
            self.cut = True
            return
        self.t = max(at, self.t)
        self.notes.append((self.t, who, text, public))

    def _take(self, action: str, at: datetime, who: Person, note: str, payload: dict[str, Any]) -> None:
        transition = workflow.TRANSITIONS[action]
        if self.state not in transition.sources:
            raise AssertionError(f"demo story: {action} from {self.state}")
        self._effect(action, at, who, payload)
        if transition.target is not None:
            self.state = transition.target
        self.steps.append((action, at, who[1][:60], note))
        self.actors.append(who[0])
        self.data.append({k: v for k, v in payload.items() if isinstance(v, str | int | float | bool)})
        self.t = at
        if self.state in FINAL_STATUSES and self.ended is None:
            self.ended = at

    def _check_clock(self, at: datetime) -> None:
        """The deadline task: a clock that ran out before ``at`` is flagged (and escalated once) as it ran out."""
        c = self.case
        if c.due_at is not None and not c.is_overdue and c.due_at + DETECT < at:
            self._flag(max(c.due_at + DETECT, self.t))
        elif c.due_at is not None and not c.is_overdue and c.due_at < at:
            # Late, but before the task noticed: the transition itself records the miss (deadlines.settle).
            c.is_overdue = True
            c.overdue_count += 1
            if c.due_step == Step.DISPOSE:
                c.disposal_late = True

    def _flag(self, at: datetime) -> None:
        c = self.case
        c.is_overdue = True
        c.overdue_count += 1
        if c.due_step == Step.DISPOSE:
            c.disposal_late = True
        if self.state in ESCALATABLE and c.tier < Tier.DEPARTMENT:
            self._take("escalate", at, SYSTEM, AUTO_ESCALATION_NOTE, {})

    def _start(self, step: str, at: datetime) -> None:
        c = self.case
        amount, unit = self.w.limit(c.category_id, c.urgency, step)
        c.due_step = step
        c.due_at = self.w.calendar.add(at, amount, unit)
        c.is_overdue = False
        self.limit_hours = amount * (DAY_HOURS if unit == D else 1)

    def _stop(self) -> None:
        c = self.case
        c.due_step, c.due_at, c.is_overdue = "", None, False

    def _effect(self, action: str, at: datetime, who: Person, p: dict[str, Any]) -> None:
        """What each transition changes besides the status (mirrors the effects in cases/workflow.py)."""
        c = self.case
        if action == "accept":
            c.accepted_at = at
            self._start(Step.DISPATCH, at)
        elif action == "dispatch":
            body: Body | None = p.pop("body", None)
            node: Node | None = p.pop("node", None)
            c.handler_body = body
            c.handler_node = node
            if body is not None:
                p["handler_body_id"] = body.pk
                if body.kind in (BodyKind.DEPARTMENT, BodyKind.COURT):
                    c.tier = max(c.tier, Tier.DEPARTMENT)
            if node is not None:
                p["handler_node_id"] = node.pk
            c.dispatcher_id = who[0]
            c.accepted_at = c.accepted_at or at
            c.dispatched_at = at
            self._start(Step.ACKNOWLEDGE, at)
        elif action == "acknowledge":
            c.acknowledged_at = at
            self._start(Step.DISPOSE, at)
        elif action == "return":
            c.return_count += 1
            c.handler_body = None
            c.handler_node = None
            self._start(Step.DISPATCH, at)
        elif action == "postpone":
            c.postponed_until = p["until"]
            c.postpone_count += 1
            p["until"] = p["until"].isoformat()
            self._stop()
        elif action == "resume":
            c.postponed_until = None
            self._start(Step.DISPOSE, at)
        elif action == "dispose":
            if c.due_step == Step.DISPOSE and (c.is_overdue or (c.due_at is not None and c.due_at < at)):
                c.disposal_late = True
            c.disposed_at = at
            c.disposed_by_id = who[0]
            self._start(Step.VERIFY, at)
        elif action == "fix_on_spot":
            c.fixed_on_spot = True
            c.tier = min(c.tier, Tier.GRID)
            c.accepted_at = c.accepted_at or at
            c.handler_node = c.node if c.node.kind in (NodeKind.GRID, NodeKind.BUILDING, NodeKind.HOUSEHOLD) else None
            c.disposed_at = at
            c.disposed_by_id = who[0]
            self._start(Step.VERIFY, at)
        elif action == "rework":
            c.rework_count += 1
            self._start(Step.DISPOSE, at)
        elif action == "close":
            c.closed_at = at
            if p.get("special"):
                c.closed_kind = ClosedKind.SPECIAL
            else:
                c.closed_kind = ClosedKind.OVERDUE if c.overdue_count or c.is_overdue else ClosedKind.NORMAL
            self._stop()
        elif action == "follow_up":
            c.rating = p["rating"]
            c.resolved = bool(p.get("resolved", p["rating"] != Rating.DISSATISFIED))
            c.responded = bool(p.get("responded", True))
            c.rated_at = at
        elif action == "merge":
            c.merged_into_id = p["into_case_id"]
            self._stop()
        elif action in ("cancel", "reject"):
            self._stop()
        elif action == "escalate":
            c.tier = c.tier + 1
            c.owner_body_id = self.w.lead_body[tiers.owner_node_code(c, c.tier)]
            if c.tier >= Tier.COMMUNITY:
                c.owner_user_id = None
            c.escalation_count += 1

    # -- the end --
    def finish(self) -> Story:
        """Flag a clock that ran out before now, then turn the steps into the case's status and timeline."""
        c = self.case
        ran_out = c.due_at is not None and not c.is_overdue and c.due_at + DETECT <= self.w.now
        if self.state in OPEN_STATUSES and ran_out:
            assert c.due_at is not None
            self._flag(max(c.due_at + DETECT, self.t))
        events = workflow.replay_history(c, self.steps)
        assert c.status == self.state
        report = events[0]
        if self.intake is not None:
            report.actor_id, report.actor_label = self.intake[0], self.intake[1][:60]
        else:
            report.actor_id = c.reporter_user_id
        report.data.update(self.report_data)
        for event, actor_id, data in zip(events[1:], self.actors, self.data, strict=True):
            event.actor_id = actor_id
            if data:
                event.data = data
        transitions = list(events)
        for at, who, text, public in self.notes:
            current = next((e.to_status for e in reversed(transitions) if e.at <= at), events[0].to_status)
            events.append(
                CaseEvent(
                    case=c,
                    at=at,
                    actor_id=who[0],
                    actor_label=who[1][:60],
                    action="note",
                    from_status=current,
                    to_status=current,
                    note=text,
                    public=public,
                )
            )
        events.sort(key=lambda e: e.at)  # stable: a note after the transition at the same moment
        self.events = events
        return self


def tracking_code(pk: int, salt: int = 0) -> str:
    """A tracking code like a real one (``cases.tracking``: 16 characters of Crockford's base 32, 80 bits), keyed by
    a secret drawn once per process: the same case gets the same code within one build (plans stay comparable), but
    nobody can work a demo case's code out from its id."""
    digest = hmac.new(_TRACKING_KEY, f"{pk}:{salt}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:10], "big")
    return "".join(tracking.ALPHABET[(bits >> shift) & 31] for shift in range(75, -1, -5))


_TRACKING_KEY = secrets.token_bytes(32)


def new_story(
    world: World,
    rng: random.Random,
    ids: IdSource,
    *,
    when: datetime,
    channel: str,
    kind: Kind,
    place: Place,
    title: str = "",
    description: str = "",
    urgency: str | None = None,
    reporter: Person | None = None,
    intake: Person | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    ticket: str | None = None,
) -> Story:
    """A case as it is taken in, with its story ready to be told."""
    category = world.categories[kind.code]
    if urgency is None:
        urgency = category.default_urgency
        roll = rng.random()
        if roll < 0.05:
            urgency = {"C": "B", "B": "A"}.get(urgency, urgency)
        elif roll < 0.1:
            urgency = {"A": "B", "B": "C"}.get(urgency, urgency)
    title = title or rng.choice(kind.titles).format(p=place.label)
    if not description:
        description = f"{OPENERS.get(channel, '')}{title}。{rng.choice(DETAILS)}"
    pk = ids()
    node = place.node
    case = Case(
        pk=pk,
        number=f"{timezone.localtime(when):%Y%m%d}{pk:07d}",
        title=title[:200],
        description=description,
        category_id=category.pk,
        urgency=urgency,
        channel=channel,
        tier=tiers.initial_tier(node.kind),
        node=node,
        lat=place.lat,
        lng=place.lng,
        address=place.address[:200],
        owner_body_id=node.lead_body_id,
        owner_user_id=intake[0] if intake else None,
        reporter_user_id=reporter[0] if reporter else None,
        reporter_name=(reporter[1] if reporter and not reporter_name else reporter_name)[:60],
        reporter_phone=reporter_phone,
        tracking_code=tracking_code(pk),
        hotline_ticket=ticket,
        reported_at=when,
    )
    placed_by: dict[str, str] = {
        Channel.PATROL: "gps",
        Channel.VISIT: "gps",
        Channel.BUILDING_HEAD: "gps",
        Channel.HOTLINE: "address",
    }
    report_data = {"placed_by": placed_by.get(channel, "given")}
    if ticket:
        report_data["hotline_ticket"] = ticket
    return Story(world, rng, case, kind, place, intake, report_data)


# --- The routine year -------------------------------------------------------------------------------------------


class Tickets:
    """12345 ticket numbers of one month: 12345-2026-030123 (copy k > 0 of 道义: 12345-2026-001-030123)."""

    def __init__(self, k: int, label: str, first: int = 1) -> None:
        year, month = label.split("-")
        self.prefix = f"12345-{year}-{month}" if k == 0 else f"12345-{year}-{k:03d}-{month}"
        self.seq = first - 1

    def __call__(self) -> str:
        self.seq += 1
        return f"{self.prefix}{self.seq:04d}"


def plan_month(world: World, chunk: Chunk, ids: IdSource) -> list[Story]:
    """Every case reported in one month of the window (with their duplicates), in report order."""
    rng = random.Random(f"{SEED_TAG}:{world.k}:{chunk.label}:{world.build_day}")
    tickets = Tickets(world.k, chunk.label)
    channels = list(CHANNEL_WEIGHTS)
    intake: list[tuple[datetime, str]] = []
    for day in chunk.days:
        rate = world.day_rate[day]
        n = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
        weekend = not world.calendar.is_workday(day)
        weights = [CHANNEL_WEIGHTS[c] * (WEEKEND_CHANNEL_FACTOR.get(c, 1.0) if weekend else 1.0) for c in channels]
        for channel in rng.choices(channels, weights=weights, k=n):
            when = world.local(day, _hour_of_report(rng, channel))
            if world.start <= when <= world.now:
                intake.append((when, channel))
    intake.sort(key=lambda pair: pair[0])
    stories: list[Story] = []
    for when, channel in intake:
        own = random.Random(rng.getrandbits(64))  # where a story stops at "now" does not shift the next ones
        story = _routine_case(world, own, ids, when, channel, tickets)
        stories.append(story)
        stories += _duplicates(world, own, ids, story, tickets)
    return stories


def _hour_of_report(rng: random.Random, channel: str) -> float:
    if channel in (Channel.PATROL, Channel.VISIT, Channel.DESK):
        return 8.6 + rng.triangular(0, 8.8, 2.5)
    if channel == Channel.HOTLINE:
        return 7 + rng.triangular(0, 15.5, 3.5)
    if channel == Channel.RESIDENT:
        return 6.5 + rng.triangular(0, 15.5, 12)
    if channel == Channel.BUILDING_HEAD:
        return 7 + rng.triangular(0, 13, 2)
    if channel == Channel.MEETING:
        return rng.uniform(19, 21) if rng.random() < 0.6 else rng.uniform(9.5, 11)
    return rng.triangular(0, 23.9, 21)  # police notices, day and night


def _pick_kind(world: World, rng: random.Random, channel: str, month: int) -> Kind:
    key = (channel, month)
    if key not in world.kind_cum:
        only = CHANNEL_KINDS.get(channel)
        kinds = [k for k in world.kinds if (only is None or k.code in only)]
        if channel == Channel.BUILDING_HEAD:
            kinds = [k for k in kinds if k.on_grid <= 0.5]
        weights = [(only[k.code] if only else k.weight) * k.season[month - 1] for k in kinds]
        world.kind_cum[key] = (kinds, list(accumulate(weights)))
    kinds, cum = world.kind_cum[key]
    return kinds[bisect(cum, rng.random() * cum[-1])]


def _pick_place(world: World, rng: random.Random, kind: Kind, channel: str) -> Place:
    if kind.lift and world.lift_buildings:
        building = world.lift_buildings[bisect(world.lift_cum, rng.random() * world.lift_cum[-1])]
        return world.building_place(building)
    if channel != Channel.BUILDING_HEAD and rng.random() < kind.on_grid:
        return world.grid_place(rng, rng.choice(world.ctx.grids), kind)
    building = world.buildings[bisect(world.building_cum, rng.random() * world.building_cum[-1])]
    return world.building_place(building)


def _reporter(world: World, rng: random.Random, channel: str, place: Place, tickets: Tickets) -> dict[str, Any]:
    """Who reported (and who took it in first, 首问负责) by channel."""
    grid, community = place.grid, place.grid.community
    assert grid.node is not None
    if channel in (Channel.PATROL, Channel.VISIT):
        worker = world.worker(rng, grid)
        return {"reporter": worker, "intake": worker}
    if channel == Channel.BUILDING_HEAD and place.building is not None:
        assert place.building.node is not None
        head = world.people.heads.get(place.building.node.pk)
        if head:
            return {"reporter": head, "intake": head}
    if channel == Channel.MEETING:
        staff = world.staff(rng, community)
        return {"reporter": staff, "intake": staff}
    if channel == Channel.POLICE:
        officer = world.people.officer.get(grid.node.pk)
        label = f"{names.body_name(names.DEPARTMENTS[0][1], world.k)}{officer[1] if officer else ''}"
        return {"reporter_name": label[:60], "intake": world.staff(rng, community)}
    resident = {"reporter_name": names.person_name(rng), "reporter_phone": names.phone_number(rng)}
    if channel == Channel.HOTLINE:
        return {**resident, "intake": world.operator(rng), "ticket": tickets()}
    if channel == Channel.DESK:
        return {**resident, "intake": world.staff(rng, community)}
    return resident  # a resident's own report: no account, no first-contact person yet


def _routine_case(
    world: World, rng: random.Random, ids: IdSource, when: datetime, channel: str, tickets: Tickets
) -> Story:
    kind = _pick_kind(world, rng, channel, timezone.localtime(when).month)
    place = _pick_place(world, rng, kind, channel)
    story = new_story(
        world,
        rng,
        ids,
        when=when,
        channel=channel,
        kind=kind,
        place=place,
        **_reporter(world, rng, channel, place, tickets),
    )
    _tell(world, rng, story)
    return story.finish()


def _tell(w: World, rng: random.Random, s: Story) -> None:
    """The routine plot: intake, then the grid, a property company, a department or the community handles it."""
    c, kind, channel = s.case, s.kind, s.case.channel
    grid = s.place.grid
    community = grid.community
    assert grid.node is not None and community.committee is not None
    leader, worker, staff = w.leader(grid), w.worker(rng, grid), w.staff(rng, community)
    hotline = channel == Channel.HOTLINE
    desk = w.operator(rng) if hotline else staff

    roll = rng.random()
    reject_p, cancel_p = REJECT_P.get(channel, 0.005), CANCEL_P.get(channel, 0.004)
    if roll < reject_p:
        s.act("reject", s.after(0.3, 6), desk, rng.choice(REJECT_NOTES))
        return
    if roll < reject_p + cancel_p:
        if rng.random() < 0.5:
            s.act("accept", s.after(0.2, 3), desk)
        s.act("cancel", s.after(1, 12), desk, rng.choice(CANCEL_NOTES))
        return

    recent = (w.now - c.reported_at).days < 40
    stuck = recent and rng.random() < 0.12  # waits long (postponed, or just slow): the open cases of the last weeks

    # Fixed on the spot by the grid worker who found it (即报即办).
    if channel in (Channel.PATROL, Channel.VISIT) and rng.random() < kind.fix:
        finder = (c.reporter_user_id, c.reporter_name)
        late = rng.random() < LATE_P[FIX]
        if rng.random() < 0.25:
            s.act("accept", s.after(0.02, 0.2), finder)
        s.act("fix_on_spot", s.after(0.05, 0.8), finder, rng.choice(FIX_NOTES))
        _verify_and_close(w, rng, s, verifier=leader, handler=finder, late=late, rework_p=0.01)
        _follow_up(w, rng, s, caller=staff if rng.random() < 0.5 else worker, p=0.4)
        return

    # Route.
    property_body = w.property_of.get(grid.index)
    dept_p = kind.dept_p * (1.2 if hotline else 0.9)
    if kind.dept and rng.random() < dept_p:
        route = DEPT
    elif property_body is not None and rng.random() < kind.prop:
        route = PROPERTY
    elif rng.random() < kind.hard + (0.15 if kind.lift else 0.0):
        route = SUBDISTRICT if rng.random() < 0.18 else COMMUNITY
    else:
        route = GRID
    late_step = None
    if rng.random() < LATE_P[route] + (0.02 if hotline else 0.0):
        late_step = rng.choices(LATE_STEPS, weights=LATE_STEP_WEIGHTS)[0]

    # Intake: the desk accepts (立案); the 12345 desk dispatches straight from the report (受理→派单).
    if not hotline:
        s.act("accept", s.after(0.1, 2.0), leader if channel in (Channel.PATROL, Channel.VISIT) else staff)

    dispatcher = (
        w.operator(rng)
        if hotline or route in (DEPT, SUBDISTRICT)
        else (leader if route == GRID and rng.random() < 0.5 else staff)
    )
    handler_body: Body | None = None
    handler_node: Node | None = None
    if route == DEPT:
        handler_body = w.dept(kind.dept)
        person = w.handler(rng, handler_body)
    elif route == PROPERTY:
        assert property_body is not None
        handler_body = property_body
        person = w.property_person(grid, property_body)
    elif route == GRID:
        handler_node = grid.node
        person = worker
    else:  # the community (or, beyond it, the subdistrict) takes it over by escalation
        if hotline or rng.random() < 0.5:  # the grid tries first, then hands it back
            s.act(
                "dispatch", s.timed(late_step == Step.DISPATCH), dispatcher, rng.choice(DISPATCH_NOTES), node=grid.node
            )
            s.act("return", s.timed(False, (0.2, 0.9)), worker, GRID_RETURN_NOTE)
        while c.tier < Tier.COMMUNITY and not s.cut:  # each hand-over within the running dispatch clock
            s.act(
                "escalate",
                s.timed(False, (0.05, 0.3)),
                worker if c.tier == Tier.BUILDING else leader,
                ESCALATE_NOTES[Tier(c.tier)],
            )
        if route == SUBDISTRICT:
            s.act("escalate", s.timed(False, (0.1, 0.4)), w.secretary(community), ESCALATE_NOTES[Tier.COMMUNITY])
            if kind.dept and rng.random() < 0.5:
                handler_body = w.dept(kind.dept)
                person = w.handler(rng, handler_body)
            else:
                handler_body = w.ctx.bodies["office"]
                person = w.operator(rng)
        else:
            handler_body = community.committee
            person = staff
        dispatcher = w.operator(rng) if route == SUBDISTRICT else w.secretary(community)

    # A wrong first address, handed back (退单) and sent on.
    # (a property matter first sent to the grid; a department matter first sent to another department)
    if route == PROPERTY and rng.random() < 0.07:
        s.act("dispatch", s.timed(late_step == Step.DISPATCH), dispatcher, rng.choice(DISPATCH_NOTES), node=grid.node)
        s.act("return", s.timed(False, (0.2, 0.9)), worker, "属物业管理范围，请派物业公司处置")
    elif route == DEPT and rng.random() < 0.08:
        wrong = w.dept(rng.choice([key for key, _ in names.DEPARTMENTS if key != kind.dept]))
        s.act("dispatch", s.timed(late_step == Step.DISPATCH), dispatcher, rng.choice(DISPATCH_NOTES), body=wrong)
        s.act("return", s.timed(False, (0.2, 0.9)), w.handler(rng, wrong), rng.choice(RETURN_NOTES))

    s.act(
        "dispatch",
        s.timed(late_step == Step.DISPATCH),
        dispatcher,
        rng.choice(DISPATCH_NOTES),
        body=handler_body,
        node=handler_node,
    )
    s.act("acknowledge", s.timed(late_step == Step.ACKNOWLEDGE), person)
    s.act("start", s.soon(), person)
    slow = stuck and rng.random() < 0.5  # the other half of the stuck ones wait postponed
    if (stuck and not slow) or rng.random() < kind.postpone + 0.01:
        days = rng.uniform(25, 60) if stuck else rng.uniform(3, 15)
        until = w.calendar.add(s.t, days * DAY_HOURS, H)
        postponer = w.operator(rng) if route in (DEPT, SUBDISTRICT) or hotline else staff
        if s.act("postpone", s.soon(), postponer, rng.choice(POSTPONE_NOTES), until=until):
            s.act("resume", w.calendar.add(s.t, days * DAY_HOURS * rng.uniform(0.6, 0.95), H), person)
    done = rng.choice(kind.done or GENERIC_DONE)
    if slow and s.case.due_at is not None:
        s.act("dispose", w.calendar.add(s.case.due_at, s.limit_hours * rng.uniform(3, 8), H), person, done)
    else:
        s.act("dispose", s.timed(late_step == Step.DISPOSE), person, done)

    verifier = {GRID: leader, PROPERTY: worker, DEPT: w.operator(rng) if hotline else worker}.get(route, worker)
    rework_p = {DEPT: 0.08, PROPERTY: 0.07}.get(route, 0.05)
    _verify_and_close(
        w,
        rng,
        s,
        verifier=verifier,
        handler=person,
        late=late_step == Step.VERIFY,
        rework_p=rework_p,
        special_p=0.03 if route == SUBDISTRICT else 0.003,
    )
    caller = w.operator(rng) if hotline else (staff if rng.random() < 0.7 else worker)
    _follow_up(w, rng, s, caller=caller, p=FOLLOW_UP_P.get(channel, 0.7))


def _verify_and_close(
    w: World,
    rng: random.Random,
    s: Story,
    *,
    verifier: Person,
    handler: Person,
    late: bool,
    rework_p: float,
    special_p: float = 0.0,
) -> None:
    s.act("verify", s.soon(), verifier)
    reworks = 0
    while reworks < 2 and rng.random() < (rework_p if reworks == 0 else 0.2):
        s.act("rework", s.timed(False, (0.1, 0.6)), verifier, rng.choice(REWORK_NOTES))
        s.act("start", s.soon(), handler)
        s.act("dispose", s.timed(rng.random() < 0.15), handler, rng.choice(s.kind.done or GENERIC_DONE))
        s.act("verify", s.soon(), verifier)
        reworks += 1
    if rng.random() < special_p:
        s.act("close", s.timed(late), verifier, "特殊结案：涉及历史遗留问题，已纳入改造计划", special=True)
    else:
        s.act("close", s.timed(late), verifier)


def _follow_up(w: World, rng: random.Random, s: Story, *, caller: Person, p: float) -> None:
    if s.state != S.CLOSED or rng.random() >= p:
        return
    troubled = s.case.overdue_count or s.case.rework_count
    weights = (55, 30, 15) if troubled else (80, 16, 4)
    rating = rng.choices((Rating.SATISFIED, Rating.BASICALLY_SATISFIED, Rating.DISSATISFIED), weights=weights)[0]
    s.act(
        "follow_up",
        s.after(2, 27),
        caller,
        FOLLOW_UP_NOTES[rating],
        rating=str(rating),
        resolved=rating != Rating.DISSATISFIED,
        responded=rating != Rating.DISSATISFIED or s.case.number[-1] in "012345",  # no extra draw: stable demo
    )


def _duplicates(w: World, rng: random.Random, ids: IdSource, target: Story, tickets: Tickets) -> list[Story]:
    """Others report the same problem while the first case is open; the desk merges each into it (重复件合并)."""
    if not target.kind.dup or rng.random() >= target.kind.dup:
        return []
    if target.state in (S.REJECTED, S.CANCELLED):
        return []
    start = target.case.reported_at
    end = target.ended or w.now
    if end - start < timedelta(hours=3):
        return []
    out = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        when = start + (end - start) * rng.uniform(0.05, 0.6)
        merge_at = w.calendar.add(when, rng.uniform(0.2, 4), H)
        if target.ended is not None and merge_at >= target.ended:
            continue  # the first case was closed before the desk saw this one: no duplicate then
        channel = rng.choice((Channel.HOTLINE, Channel.HOTLINE, Channel.RESIDENT, Channel.PATROL))
        dup = new_story(
            w,
            rng,
            ids,
            when=when,
            channel=channel,
            kind=target.kind,
            place=target.place,
            urgency=target.case.urgency,
            **_reporter(w, rng, channel, target.place, tickets),
        )
        merger = w.operator(rng) if channel == Channel.HOTLINE else w.staff(rng, target.place.grid.community)
        dup.act("merge", merge_at, merger, f"与{target.case.number}反映同一问题，合并办理", into_case_id=target.case.pk)
        out.append(dup.finish())
    return out


# --- Copy 0: the seed stories and the demo log-ins' work --------------------------------------------------------


def plan_stories(world: World, ids: IdSource) -> list[Story]:
    """府东 quilts, 金禾家苑 parking, 西大商城 standing water, and open work for the demo log-ins (copy 0 only)."""
    if not world.ctx.is_main or not {"0104", "0105", "0501"} <= set(world.categories):
        return []
    rng = random.Random(f"{SEED_TAG}:stories:{world.build_day}")
    stories = [_quilts(world, rng, ids), _jinhe_parking(world, rng, ids)]
    stories += _xida_water(world, rng, ids)
    stories += _demo_desk(world, rng, ids)
    return stories


def _person(world: World, username: str, fallback: Person) -> Person:
    return world.people.by_username.get(username, fallback)


def _quilts(w: World, rng: random.Random, ids: IdSource) -> Story:
    """府东社区: quilts dried on a green belt, reported by the grid worker, put right by the property company."""
    grid = w.ctx.community(names.JINHE_COMMUNITY).grids[0]
    community = grid.community
    near = grid.buildings[min(2, len(grid.buildings) - 1)]
    place = w.grid_place(rng, grid, spot=f"{near.name.removeprefix(grid.compound)}南侧绿化带")
    worker = _person(w, "gridworker", w.worker(rng, grid))
    leader = _person(w, "gridleader", w.leader(grid))
    secretary = _person(w, "fudong", w.secretary(community))
    company = w.property_of.get(grid.index) or community.committee
    assert company is not None
    s = new_story(
        w,
        rng,
        ids,
        when=w.workday_before(200, 9.6),
        channel=Channel.PATROL,
        kind=KIND_BY_CODE["0104"],
        place=place,
        urgency="C",
        reporter=worker,
        intake=worker,
        title=f"{grid.compound}绿化带上晾晒被褥",
        description=(
            f"网格员巡查发现：居民在{place.label}和健身器材上晾晒被褥，踩踏绿植、影响他人使用健身器材。已拍照取证。"
        ),
    )
    s.act("accept", s.after(0.2, 0.3), leader)
    s.act("dispatch", s.after(0.3, 0.5), leader, "请物业上门劝导，并在小区内设置规范晾晒点", body=company)
    handler = w.property_person(grid, company)
    s.act("acknowledge", s.after(0.5, 0.8), handler)
    s.act("start", s.after(0.1, 0.2), handler)
    s.note(s.after(1, 2), worker, "网格员与楼长入户宣传文明晾晒，发放倡议书")
    s.act(
        "dispose",
        s.after(9, 10),
        handler,
        "物业上门劝导，住户已收回被褥；在小区南侧空地新设晾衣架两处，张贴文明晾晒提示",
    )
    s.act("verify", s.after(1, 1.5), worker)
    s.act("close", s.after(0.5, 1), worker)
    s.act(
        "follow_up",
        s.after(9, 11),
        secretary,
        "电话回访：居民满意，新设的晾晒点使用良好",
        rating=str(Rating.SATISFIED),
        resolved=True,
    )
    return s.finish()


def _jinhe_parking(w: World, rng: random.Random, ids: IdSource) -> Story:
    """金禾家苑: parking chaos, taken to the joint meeting (联席会议), carried out by the property company."""
    grids = w.ctx.compounds.get(names.JINHE_COMPOUND) or w.ctx.community(names.JINHE_COMMUNITY).grids[3:5]
    grid = grids[0]
    community = grid.community
    head_building = grid.buildings[0]
    assert head_building.node is not None
    head = w.people.heads.get(head_building.node.pk) or (None, "楼长")
    secretary = _person(w, "fudong", w.secretary(community))
    leader = w.leader(grid)
    place = w.grid_place(rng, grid, spot="小区道路及消防通道")
    company = w.property_of.get(grid.index) or community.committee
    assert company is not None
    s = new_story(
        w,
        rng,
        ids,
        when=w.workday_before(130, 19.5),
        channel=Channel.BUILDING_HEAD,
        kind=KIND_BY_CODE["0501"],
        place=place,
        urgency="B",
        reporter=head,
        intake=head,
        title=f"{names.JINHE_COMPOUND}车辆乱停乱放、消防通道被占",
        description=(
            f"楼长反映：{names.JINHE_COMPOUND}车位不足，夜间车辆停满小区道路和消防通道，"
            "救护车曾无法进入，居民之间因停车多次发生争吵。"
        ),
    )
    s.act("accept", s.after(0.3, 0.6), secretary)
    s.act(
        "escalate",
        s.after(0.5, 1),
        leader,
        "车位不足、乱停乱放涉及业委会、物业与全体业主，网格内难以解决，提请社区联席会议协调",
    )
    s.act(
        "dispatch", s.after(0.3, 0.6), secretary, "请物业先行疏导停车秩序，增设车位方案提交社区联席会议", body=company
    )
    handler = w.property_person(grid, company)
    s.act("acknowledge", s.after(0.3, 0.8), handler)
    s.act("start", s.after(0.2, 0.5), handler)
    meeting = w.calendar.add(s.t, 8, H).replace(hour=19, minute=0, second=0)  # next working day, 19:00
    s.note(
        meeting,
        secretary,
        "社区联席会议（轮值主席：金禾家苑业委会主任）：居委会、业委会、金禾物业与居民代表议定——"
        "挖潜增设停车位、消防通道施划禁停线、业主车辆登记、外来车辆限时停放",
    )
    s.act(
        "postpone", s.after(1, 2), secretary, "增设车位方案需业主大会表决", until=w.calendar.add(s.t, 12 * DAY_HOURS, H)
    )
    s.note(s.after(9 * DAY_HOURS, 9 * DAY_HOURS + 2), secretary, "业主大会表决通过增设车位方案（同意率87%）")
    s.act("resume", s.after(0.5, 1), handler)
    s.act(
        "dispose", s.after(14, 20), handler, "新增停车位86个，消防通道施划禁停标线，安装车辆识别道闸，业主车辆登记完成"
    )
    s.act("verify", s.after(1, 2), secretary)
    s.act("close", s.after(0.5, 1), secretary)
    s.act(
        "follow_up",
        s.after(18, 27),
        secretary,
        "回访业主代表：停车秩序明显好转，消防通道保持畅通",
        rating=str(Rating.SATISFIED),
        resolved=True,
    )
    return s.finish()


def _xida_water(w: World, rng: random.Random, ids: IdSource) -> list[Story]:
    """西大商城: standing water after every rain, reported year after year, fixed for good this year."""
    community = w.ctx.community(names.XIDA_COMMUNITY)
    market = next((b for b in community.grids[0].buildings if b.is_market), community.grids[0].buildings[0])
    grid = market.grid
    place = w.building_place(market)
    place.label = f"{market.name}门前"
    kind = KIND_BY_CODE["0105"]
    housing = w.dept("housing")
    worker, leader, secretary = w.worker(rng, grid), w.leader(grid), w.secretary(community)
    title = f"{market.name}门前雨后积水"
    today = timezone.localtime(w.now).date()
    stories: list[Story] = []

    # The earlier summers (before the window): pumped out, closed, back with the next rain.
    history = [
        (today.year - 3, 7, 24, "已组织抽排积水，疏通雨水篦子", Rating.BASICALLY_SATISFIED, False, 0),
        (today.year - 2, 8, 3, "临时抽排，清淤雨水管道30米", Rating.DISSATISFIED, False, 1),
        (today.year - 1, 7, 18, "临时抽排；经勘察为市政雨水管网管径不足，需改造", Rating.BASICALLY_SATISFIED, True, 2),
    ]
    for year, month, day, done, rating, special, dups in history:
        when = w.local(date(year, month, day), 9.25)
        tickets = Tickets(w.k, f"{year}-{month:02d}", first=9001)
        operator = w.operator(rng)
        s = new_story(
            w,
            rng,
            ids,
            when=when,
            channel=Channel.HOTLINE,
            kind=kind,
            place=place,
            urgency="B",
            title=title,
            intake=operator,
            reporter_name=names.person_name(rng),
            reporter_phone=names.phone_number(rng),
            ticket=tickets(),
            description=f"12345热线转办，市民反映：{title}，商户无法正常营业，行人只能绕行。",
        )
        s.act("dispatch", s.after(0.3, 0.8), operator, "请城建办抽排积水", body=housing)
        handler = w.handler(rng, housing)
        s.act("acknowledge", s.after(0.3, 1), handler)
        s.act("start", s.after(0.1, 0.3), handler)
        s.act("dispose", s.after(5, 9), handler, done)
        s.act("verify", s.after(0.5, 1), worker)
        if special:
            s.act("close", s.after(1, 3), operator, "特殊结案：需改造雨水管网，已报街道纳入改造计划", special=True)
        else:
            s.act("close", s.after(1, 3), operator)
        s.act(
            "follow_up",
            s.after(9, 18),
            operator,
            "回访：积水已排除，但降雨后仍会出现",
            rating=str(rating),
            resolved=False,
        )
        stories.append(s.finish())
        for i in range(dups):
            dup = new_story(
                w,
                rng,
                ids,
                when=when + timedelta(hours=2 + 20 * i),
                channel=Channel.HOTLINE,
                kind=kind,
                place=place,
                urgency="B",
                title=title,
                intake=operator,
                reporter_name=names.person_name(rng),
                reporter_phone=names.phone_number(rng),
                ticket=tickets(),
            )
            dup.act(
                "merge", dup.after(0.3, 1), operator, f"与{s.case.number}反映同一问题，合并办理", into_case_id=s.case.pk
            )
            stories.append(dup.finish())

    # This year: escalated to the subdistrict, the drains rebuilt, closed.
    operator = w.operator(rng)
    tickets = Tickets(w.k, f"{w.workday_before(150, 8.8):%Y-%m}", first=9001)
    main = new_story(
        w,
        rng,
        ids,
        when=w.workday_before(150, 8.8),
        channel=Channel.HOTLINE,
        kind=kind,
        place=place,
        urgency="B",
        title=title,
        intake=operator,
        reporter_name=names.person_name(rng),
        reporter_phone=names.phone_number(rng),
        ticket=tickets(),
        description=(f"12345热线转办，市民反映：{title}，多年来每逢降雨必积水，商户和居民多次反映，希望彻底解决。"),
    )
    s = main
    s.act("dispatch", s.after(0.3, 0.6), operator, "请网格先行核查处置", node=grid.node)
    s.note(s.after(0.5, 1), worker, "现场核查：积水深约20厘米，雨水篦子通畅，为市政管网排水能力不足")
    s.act("return", s.after(0.1, 0.3), worker, "市政雨水管网排水能力不足，超出网格处置能力")
    s.act("escalate", s.after(0.1, 0.3), worker, ESCALATE_NOTES[Tier.BUILDING])
    s.act("escalate", s.after(0.1, 0.2), leader, "市政管网问题，网格内无法解决，提请社区协调")
    s.act("escalate", s.after(0.2, 0.4), secretary, "历年反复发生，需街道统筹城建办与共建单位西大商业管理公司")
    s.act("dispatch", s.after(0.2, 0.4), operator, "请城建办牵头改造雨水管网，彻底解决积水", body=housing)
    housing_handler = w.handler(rng, housing)
    s.act("acknowledge", s.after(0.3, 1), housing_handler)
    s.act("start", s.after(0.2, 0.5), housing_handler)
    s.note(
        s.after(4, 6),
        operator,
        "街道将西大商城积水列入重点督办：城建办、道义社区与西大商业管理公司现场会商，确定改造雨水管网",
    )
    s.act(
        "postpone",
        s.after(0.5, 1),
        operator,
        "纳入雨污管网改造工程，待汛期结束后施工",
        until=w.local(timezone.localtime(w.now).date() - timedelta(days=60), 17),
    )
    resume_at = w.workday_before(62, 9)
    s.act("resume", resume_at, housing_handler)
    s.note(w.calendar.add(resume_at, 2, H), housing_handler, "雨水管网改造工程开工")
    s.act(
        "dispose", s.after(16, 22), housing_handler, "新建雨水管线320米、增设雨水篦子12个，西大商城门前积水问题彻底解决"
    )
    s.act("verify", s.after(1, 3), worker)
    s.act("close", s.after(1, 3), operator)
    s.act(
        "follow_up",
        s.after(20, 27),
        operator,
        "回访商户与居民：多次降雨未再积水，对处理结果非常满意",
        rating=str(Rating.SATISFIED),
        resolved=True,
    )
    stories.append(s.finish())
    # Reported again while it was being worked on: merged into this year's case.
    for offset, channel in ((1, Channel.HOTLINE), (4, Channel.RESIDENT), (30, Channel.HOTLINE), (50, Channel.DESK)):
        when = w.calendar.add(main.case.reported_at, offset * DAY_HOURS * 0.7, H)
        who = _reporter(w, rng, channel, place, tickets)
        dup = new_story(
            w,
            rng,
            ids,
            when=when,
            channel=channel,
            kind=kind,
            place=place,
            urgency="B",
            title=title if channel == Channel.HOTLINE else f"{market.name}门口又积水了",
            **who,
        )
        merger = w.operator(rng) if channel == Channel.HOTLINE else secretary
        dup.act(
            "merge", dup.after(0.3, 2), merger, f"与{main.case.number}反映同一问题，合并办理", into_case_id=main.case.pk
        )
        stories.append(dup.finish())
    return stories


def _demo_desk(w: World, rng: random.Random, ids: IdSource) -> list[Story]:
    """Open work for the demo log-ins: gridworker's and fudong's to-do (some overdue), police's dispatches."""
    grid = w.ctx.community(names.JINHE_COMMUNITY).grids[0]
    community = grid.community
    assert grid.node is not None
    buildings = grid.buildings
    worker = _person(w, "gridworker", w.worker(rng, grid))
    leader = _person(w, "gridleader", w.leader(grid))
    secretary = _person(w, "fudong", w.secretary(community))
    head = _person(w, "buildinghead", (None, "楼长"))
    operator = _person(w, "operator", w.operator(rng))
    resident = w.people.by_username.get("resident")
    resident_phone = w.people.phones.get(resident[0] or 0, "") if resident else ""
    police = w.dept("police")
    police_person = _person(w, "police", w.handler(rng, police))
    company = w.property_of.get(grid.index)
    now = w.now
    tickets = Tickets(w.k, f"{timezone.localtime(now):%Y-%m}", first=9501)
    stories: list[Story] = []

    def story(when: datetime, code: str, building: BuildingInfo | None, channel: str, **extra: Any) -> Story:
        place = w.building_place(building) if building else w.grid_place(rng, grid, KIND_BY_CODE[code])
        s = new_story(
            w,
            rng,
            ids,
            when=min(when, now - timedelta(minutes=5)),
            channel=channel,
            kind=KIND_BY_CODE[code],
            place=place,
            **extra,
        )
        stories.append(s)
        return s

    def b(i: int) -> BuildingInfo:
        return buildings[i % len(buildings)]

    # Just reported by the building head: waiting at the intake desk.
    story(now - timedelta(minutes=25), "0701", b(0), Channel.BUILDING_HEAD, reporter=head, intake=head)
    # Dispatched to the grid yesterday, not acknowledged: overdue.
    s = story(w.workday_before(1, 9.1), "0504", b(1), Channel.PATROL, urgency="A", reporter=worker, intake=worker)
    s.act("accept", s.after(0.1, 0.2), leader)
    s.act("dispatch", s.after(0.1, 0.3), leader, "请网格员立即处置", node=grid.node)
    # In progress for days, disposal overdue.
    s = story(w.workday_before(3, 10), "0702", b(2), Channel.PATROL, urgency="A", reporter=worker, intake=worker)
    s.act("accept", s.after(0.1, 0.2), leader)
    s.act("dispatch", s.after(0.1, 0.3), leader, "", node=grid.node)
    s.act("acknowledge", s.after(0.1, 0.3), worker)
    s.act("start", s.after(0.1, 0.2), worker)
    # Disposed by the property company an hour ago: the grid worker verifies.
    if company is not None:
        s = story(
            w.workday_before(2, 14),
            "0104",
            b(3),
            Channel.HOTLINE,
            urgency="C",
            intake=operator,
            reporter_name=names.person_name(rng),
            reporter_phone=names.phone_number(rng),
            ticket=tickets(),
        )
        s.act("dispatch", s.after(0.3, 0.6), operator, "", body=company)
        handler = w.property_person(grid, company)
        s.act("acknowledge", s.after(0.5, 1), handler)
        s.act("start", s.after(0.1, 0.2), handler)
        s.act("dispose", max(s.after(1, 2), now - timedelta(hours=1)), handler, "已劝导住户收回晾晒物品")
    # Sent back for rework this afternoon.
    s = story(
        w.workday_before(4, 9.5),
        "0101",
        None,
        Channel.HOTLINE,
        intake=operator,
        reporter_name=names.person_name(rng),
        reporter_phone=names.phone_number(rng),
        ticket=tickets(),
    )
    s.act("dispatch", s.after(0.3, 0.6), operator, "", node=grid.node)
    s.act("acknowledge", s.after(0.5, 1), worker)
    s.act("start", s.after(0.1, 0.2), worker)
    s.act("dispose", s.after(3, 5), worker, "已清运暴露垃圾")
    s.act("verify", s.after(0.5, 1), leader)
    s.act("rework", max(s.after(0.5, 1), now - timedelta(hours=3)), leader, "现场核查垃圾仍未清运完毕")
    # Heating: postponed until the heating company's repair (the resident log-in reported it).
    s = story(
        w.workday_before(6, 9),
        "0705",
        b(4),
        Channel.RESIDENT,
        title=f"{b(4).name}暖气不热",
        reporter=resident,
        reporter_phone=resident_phone,
    )
    s.act("accept", s.after(0.5, 1), secretary)
    s.act("dispatch", s.after(0.3, 0.6), secretary, "", body=company, node=None if company else grid.node)
    handler = w.property_person(grid, company) if company else worker
    s.act("acknowledge", s.after(0.5, 1), handler)
    s.act("start", s.after(0.1, 0.3), handler)
    s.act(
        "postpone",
        s.after(1, 2),
        secretary,
        "供热管网检修，待热力公司完成后处理",
        until=w.calendar.add(now, 5 * DAY_HOURS, H),
    )
    # Noise sent to the police, returned as "not a police matter": waiting for the desk to send it on.
    s = story(
        w.workday_before(2, 20.5), "0604", b(5), Channel.RESIDENT, reporter=resident, reporter_phone=resident_phone
    )
    s.act("accept", s.after(0.3, 0.6), secretary)
    s.act("dispatch", s.after(0.2, 0.4), secretary, "", body=police)
    s.act("return", s.after(1, 2), police_person, "非警情，建议社区调解")
    # A fresh hotline ticket dispatched to the grid, and one accepted and waiting for dispatch.
    s = story(
        now - timedelta(hours=3),
        "0501",
        None,
        Channel.HOTLINE,
        intake=operator,
        reporter_name=names.person_name(rng),
        reporter_phone=names.phone_number(rng),
        ticket=tickets(),
    )
    s.act("dispatch", now - timedelta(hours=2, minutes=30), operator, "", node=grid.node)
    s = story(w.workday_before(1, 15), "0701", b(6), Channel.PATROL, reporter=worker, intake=worker)
    s.act("accept", s.after(0.1, 0.2), leader)

    # For the police station: incidents to acknowledge.
    other = w.ctx.community(names.XIDA_COMMUNITY).grids[1]
    for when, code, building in (
        (now - timedelta(hours=2), "0404", b(7)),
        (w.workday_before(1, 10), "0703", other.buildings[0]),
        (now - timedelta(hours=5), "0604", other.buildings[-1]),
    ):
        s = story(
            when,
            code,
            building,
            Channel.HOTLINE,
            intake=operator,
            reporter_name=names.person_name(rng),
            reporter_phone=names.phone_number(rng),
            ticket=tickets(),
        )
        s.act("dispatch", min(s.after(0.2, 0.5), now - timedelta(minutes=3)), operator, "请派出所核查处置", body=police)
    for s in stories:
        s.finish()
    return stories


# --- Writing ----------------------------------------------------------------------------------------------------


class CaseIds:
    """Primary keys for new cases, handed out before insertion so that numbers (date + id), tracking codes,
    merge targets and events are all known when the rows are written in one ``bulk_create``.

    PostgreSQL: taken from the table's sequence (``nextval``), safe beside other writers. SQLite: the next ids
    after the highest ever used (``sqlite_sequence`` and ``MAX(id)``); the build's transaction holds SQLite's write
    lock (``transaction_mode=IMMEDIATE``), so nobody else inserts meanwhile."""

    CHUNK = 1000

    def __init__(self) -> None:
        self.pool: Iterator[int] = iter(())
        self.next_sqlite: int | None = None

    def __call__(self) -> int:
        for pk in self.pool:
            return pk
        self.pool = iter(self._reserve(self.CHUNK))
        return next(self.pool)

    def _reserve(self, n: int) -> list[int]:
        if connection.vendor == "postgresql" or self.next_sqlite is None:
            ids = bulk.reserve_ids(Case, n)
            if connection.vendor != "postgresql":  # the rows go in later: count on from here
                self.next_sqlite = ids[-1] + 1
            return ids
        first = self.next_sqlite
        self.next_sqlite += n
        return list(range(first, first + n))


def _taken(field_name: str, values: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        found.update(Case.objects.filter(**{f"{field_name}__in": chunk}).values_list(field_name, flat=True))
    return found


def write(stories: list[Story]) -> tuple[int, int]:
    """Insert the cases, then their events. Returns (cases, events)."""
    cases = [s.case for s in stories]
    taken = _taken("tracking_code", [c.tracking_code for c in cases])
    for case in cases:  # a clash with a case someone reported by hand: try another code for this id
        salt = 0
        while case.tracking_code in taken:
            salt += 1
            case.tracking_code = tracking_code(case.pk, salt)
        # The copies of the place codes the workflow keeps (core.scope node_code), as they stand at the end.
        case.place_code = case.node.code
        case.handler_code = case.handler_node.code if case.handler_node is not None else ""
    Case.objects.bulk_create(cases, batch_size=BATCH_SIZE)
    events = [e for s in stories for e in s.events]
    CaseEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return len(cases), len(events)


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    overdue_now: int = 0
    missed: int = 0
    events: int = 0

    def add(self, stories: list[Story]) -> None:
        for s in stories:
            self.statuses[s.case.status] += 1
            self.overdue_now += s.case.is_overdue
            self.missed += s.case.overdue_count > 0

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())


def _batches(world: World, ids: IdSource) -> Iterator[list[Story]]:
    """The seed stories, then month after month: each planned, written and dropped before the next."""
    yield plan_stories(world, ids)
    for chunk in month_chunks(world):
        yield plan_month(world, chunk, ids)


def create_cases(ctx: BuildContext) -> int:
    """The build step: a year of cases (and the seed stories in copy 0), month by month."""
    started = time.perf_counter()
    world = load_world(ctx)
    ids = CaseIds()
    tally = Tally()
    for stories in _batches(world, ids):
        if not stories:
            continue
        _, events = write(stories)
        tally.add(stories)
        tally.events += events
    ctx.counts["case events"] += tally.events
    order = [s for s in Status.values if tally.statuses[s]]
    by_status = ", ".join(f"{s} {tally.statuses[s]:,}" for s in order)
    ctx.out(
        f"    cases {tally.cases:,} ({by_status}); overdue now {tally.overdue_now:,}, missed a deadline "
        f"{tally.missed:,} ({tally.missed / max(tally.cases, 1):.1%}); events {tally.events:,}; "
        f"{time.perf_counter() - started:.1f}s"
    )
    return tally.cases


# --- Reset ------------------------------------------------------------------------------------------------------


def reset_cases(code: str, bodies: list[int], out: Out) -> int:
    """Delete the copy's cases and what hangs on them, before its places, bodies and people go.

    Plain ``DELETE … WHERE … IN (…)`` statements (``_raw_delete``): the ORM's collector would load a year of events
    into memory, and refuses to delete a duplicate and the case it was merged into (PROTECT) together."""
    cases = Case.objects.filter(
        Q(node__code__startswith=code)
        | Q(handler_node__code__startswith=code)
        | Q(owner_body_id__in=bodies)
        | Q(handler_body_id__in=bodies)
    )
    # Duplicates before the cases they were merged into (foreign keys are checked at commit, but not in autocommit).
    ids = [pk for pk, _ in sorted(cases.values_list("pk", "merged_into_id"), key=lambda r: (r[1] is None, r[0]))]
    if not ids:
        return 0
    total = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for attachment in Attachment.objects.filter(case_id__in=chunk).exclude(file=""):
            attachment.file.delete(save=False)
        for model in (Attachment, CaseEvent):
            total += model.objects.filter(case_id__in=chunk)._raw_delete(model.objects.db)
    for i in range(0, len(ids), 500):
        total += Case.objects.filter(pk__in=ids[i : i + 500])._raw_delete(Case.objects.db)
    return total
