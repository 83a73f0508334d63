"""The registry of each demo subdistrict (issue 4): residents, where they live and lived, key service targets, party
members, co-building units with contacts and agreements, and a visit campaign in progress with care plans.

* **Residents** (about 120,000 in 道义's ~40,000 households): families (couples of similar age, children, elderly
  parents), renters (couples, co-workers), and in the villages landlord families with tenants in the side rooms.
  Chinese names that fit sex and generation, valid 18-digit ID numbers (GB 11643 checksum; region 210113 沈北新区 for
  registered people, elsewhere in Shenyang/Liaoning for the resident-but-not-registered, other provinces for
  temporary and floating people; birth date and sex as the number says; unique), mobile phones for those old enough.
* **Population types.** Seed 000 describes a rural-urban fringe with 1.2万 registered against 2.1万 temporary people;
  道义 as a whole comes out at roughly **40 % registered (户籍), 10 % resident-not-registered (常住), 40 % temporary
  (暂住), 10 % floating (流动)** of the people. Each household is one kind (a few mix: a registered family's parent
  from elsewhere, tenants beside a landlord), drawn from its community's profile (:data:`PROFILES`): older
  communities (:data:`OLD_COMMUNITIES`) are registered-heavy, newer ones rent out many flats, villages are
  temporary-heavy (rooms let to workers). Renters' households are smaller, so the household weights are set to give
  the person shares above (the build prints them).
* **Residences**: an open one for every placed person (moved in when the family did, or at birth), and a few thousand
  closed ones: families who moved within the subdistrict (:data:`MOVED_WITHIN_TARGET`).
* **Key service targets** (:class:`~gongzhi.registry.models.PersonTag`): everyone 60 or older ``elderly``; one-person
  households of 70 or older ``elderly_alone``; under-14s ``child`` (teenagers keep their ended tag as history);
  ``disabled`` (~1.5 %, more among the old) and ``hardship`` (~1 %, a few already ended); a few ``other`` with a label
  (退役军人, 失独家庭, 军烈属).
* **Party members**: :data:`PARTY_MEMBERS` (seed 001: 1,703) of every type, each in a branch of the copy's party tree
  (the building group or grid branch where they live, else a grid branch of their community; mobile members in the
  community's organisation); the heads of the 165 party households (党员中心户) are among them. On-duty members have a
  work unit, and most have reported in (双报到, seed 004) on a date.
* **Organisations**: the builder's co-building units and social organisations plus :data:`names.REGISTRY_ORGANISATIONS`
  (about 30 in all), each with contacts and one or two co-building agreements with commitments.
* **Visits** (the last step, through ``visits.services``): a household campaign in progress over the demo community
  (started three weeks ago, about half covered; the demo grid at half) and weekly care plans for every elderly person
  living alone, most visited in the last week, some overdue.

Deterministic: one :class:`random.Random` per copy and step for the registry (the builder's own stream is left
alone, so the steps before are unchanged); dates are relative to the build day, like the cases. People, residences,
tags and members are written as plain rows with one prepared ``executemany`` per table (:func:`insert_rows`); only
the visits go through the services (about 3,000 calls, most of this module's time). Nothing personal is printed.
"""

from __future__ import annotations

import random
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from itertools import accumulate
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.cases.models import Category
from gongzhi.core import bulk
from gongzhi.demo import names
from gongzhi.registry.choices import PartyMemberType, PopulationType, Sex, TagKind
from gongzhi.registry.idcard import check_char
from gongzhi.registry.models import CoBuildingAgreement, OrgContact, PartyMember, Person, PersonTag, Residence
from gongzhi.territory.choices import BodyKind, PartyOrgKind
from gongzhi.territory.models import Body, Node, PartyOrg
from gongzhi.visits import services as visits
from gongzhi.visits.choices import Outcome
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from gongzhi.demo.context import BuildContext, GridInfo, Out

SEED_TAG = "gongzhi-demo-registry"
BATCH_SIZE = 2000
INSERT_BATCH = 5000  # rows per executemany

REG, RES, TMP, FLT = (
    PopulationType.REGISTERED.value,
    PopulationType.RESIDENT.value,
    PopulationType.TEMPORARY.value,
    PopulationType.FLOATING.value,
)
MALE, FEMALE = Sex.MALE.value, Sex.FEMALE.value
LANDLORD = "landlord"  # a village house: a registered family with tenants in the side rooms

# --- Who lives where --------------------------------------------------------------------------------------------

VACANT_SHARE = 0.03  # flats standing empty (for sale, heirs elsewhere)
OLD_COMMUNITIES = ("道义社区", "正良社区", "蒲河社区", "辉山社区", "丰收社区", "兴隆社区")

# Household kind weights by community profile. The shares chosen, of *people* over the whole subdistrict (seed 000's
# rural-urban fringe, 1.2万 registered against 2.1万 temporary, softened for a subdistrict that is mostly town):
#   registered (户籍) 40 %, resident-not-registered (常住) 10 %, temporary (暂住) 40 %, floating (流动) 10 %.
# By profile, in that order: older communities ≈ 56/12/27/6, newer ones ≈ 30/10/48/12, villages ≈ 42/1/35/21
# (in a village house the landlord's family is registered, most of the others rent its side rooms). Renters'
# households are smaller than families, so the household weights lean further towards renters than these shares.
PROFILES: dict[str, dict[str, float]] = {
    "old": {REG: 0.57, RES: 0.08, TMP: 0.29, FLT: 0.06},
    "new": {REG: 0.29, RES: 0.08, TMP: 0.50, FLT: 0.13},
    "village": {REG: 0.22, LANDLORD: 0.45, TMP: 0.21, FLT: 0.12},
}
FAMILY_SIZES = (1, 2, 3, 4, 5, 6)
FAMILY_SIZE_WEIGHTS = (10, 23, 28, 19, 12, 8)  # registered and resident families: mean ≈ 3.3
RENTER_SIZE_WEIGHTS = (17, 26, 28, 16, 8, 5)  # renters: mean ≈ 2.9
_FAMILY_CUM = list(accumulate(FAMILY_SIZE_WEIGHTS))
_RENTER_CUM = list(accumulate(RENTER_SIZE_WEIGHTS))
TENANT_ROOMS = ("东厢房", "西厢房", "南屋", "后院平房", "北屋")

# --- Targets, members, moves ------------------------------------------------------------------------------------

ELDERLY_AGE = 60
ALONE_AGE = 70
CHILD_AGE = 14  # 儿童: under 14
DISABLED_SHARE = 0.015
HARDSHIP_SHARE = 0.01
HARDSHIP_ENDED_SHARE = 0.15  # on top: tags that have ended (found work, left 低保)
DISABILITY_LABELS = ("肢体残疾", "视力残疾", "听力残疾", "言语残疾", "智力残疾", "精神残疾", "多重残疾")
DISABILITY_GRADES = ("一级", "二级", "三级", "四级")
HARDSHIP_LABELS = ("低保户", "低保边缘户", "特困供养", "临时救助")
VETERAN_SHARE = 0.02  # of registered men 35 and older
BEREAVED_SHARE = 0.04  # of registered couples 55+ living as two (失独家庭)
MARTYR_FAMILIES = 12  # 军烈属

PARTY_MEMBERS = 1703  # seed 001
PARTY_TYPE_SHARES = {  # of PARTY_MEMBERS; largest remainders make the sum exact
    PartyMemberType.COMMUNITY.value: 0.25,
    PartyMemberType.ON_DUTY.value: 0.30,
    PartyMemberType.RETIRED.value: 0.28,
    PartyMemberType.TWO_NEW.value: 0.09,
    PartyMemberType.MOBILE.value: 0.08,
}
REPORTED_IN_SHARE = 0.8  # of on-duty members (双报到)
REPORTING_IN_BEGAN = date(2019, 6, 1)
BUILDING_GROUP_SHARE = 0.5  # members living in a building with a party group: in the group rather than the branch
MOVED_WITHIN_TARGET = 3000  # closed residences: people who moved inside the subdistrict

# --- Visits -----------------------------------------------------------------------------------------------------

CAMPAIGN_STARTED_DAYS_AGO = 21
CAMPAIGN_ENDS_IN_DAYS = 25
CAMPAIGN_COVERAGE = (0.35, 0.65)  # per grid; the demo grid at 0.5
NOT_HOME_FIRST = 0.12  # covered households that were not at home the first time
CASES_FROM_VISITS = 6  # needs found on campaign visits raised as cases in one step
CARE_OVERDUE_SHARE = 0.15  # care plans whose last visit is more than a week ago
CARE_UNVISITED_SHARE = 0.05  # plans started days ago, first visit not yet made (overdue)

# A step adds a few sentences of commitments on each side.
UNIT_COMMITMENTS: dict[str, tuple[str, ...]] = {
    BodyKind.HOSPITAL: (
        "每月开展一次义诊",
        "为辖区65岁以上老人免费体检",
        "家庭医生签约服务覆盖独居老人",
        "每季度举办一次健康讲座",
        "开通辖区居民就医绿色通道",
    ),
    BodyKind.SCHOOL: (
        "寒暑假开放操场供居民使用",
        "组织师生志愿者每月参加一次社区服务",
        "为社区“四点半课堂”派驻辅导老师",
        "开放图书室供辖区青少年借阅",
        "共同开展青少年安全教育",
    ),
    BodyKind.ENTERPRISE: (
        "开放篮球场供居民使用",
        "每年资助困难家庭10户",
        "优先招用辖区就业困难人员",
        "认领居民微心愿不少于20个",
        "党员职工到社区报到并认领公益岗位",
        "节日期间走访慰问独居老人",
    ),
    BodyKind.CO_BUILDING_UNIT: (
        "机关党员每季度到社区开展一次志愿服务",
        "协助社区解决老旧小区改造难题",
        "开放会议室供社区议事会使用",
        "结对帮扶困难党员和群众",
        "参与网格夜谈会，现场解答政策问题",
    ),
    BodyKind.SOCIAL_ORGANISATION: (
        "为独居老人提供每周一次上门探访",
        "开展助餐、助浴、助洁服务",
        "培训社区志愿者骨干",
        "组织“邻里节”文化活动",
        "为困境儿童提供一对一陪伴",
    ),
}
COMMUNITY_COMMITMENTS = (
    "社区为单位职工子女提供“四点半课堂”托管",
    "社区协助单位开展安全生产和消防宣传",
    "社区提供党员活动阵地和志愿服务岗位",
    "社区每季度召开一次共建联席会议",
    "社区及时反馈居民需求清单",
)
CONTACT_TITLES: dict[str, tuple[str, ...]] = {
    BodyKind.HOSPITAL: ("党支部书记", "公共卫生科主任", "医务科干事"),
    BodyKind.SCHOOL: ("副校长", "德育主任", "团委书记"),
    BodyKind.ENTERPRISE: ("党支部书记", "行政主管", "工会主席"),
    BodyKind.CO_BUILDING_UNIT: ("机关党委书记", "办公室主任", "联络员"),
    BodyKind.SOCIAL_ORGANISATION: ("负责人", "项目主管", "社工"),
}

VISIT_NOTES = (
    "入户走访，宣传冬季防火和燃气安全",
    "核实家庭人口信息，发放便民服务卡",
    "了解供暖情况，室温正常",
    "宣传垃圾分类和电动车安全充电",
    "走访了解家庭困难和诉求",
)
VISIT_NEEDS = (
    ("暖气不热，室温不到16度", "0705"),
    ("楼道杂物堆积，影响通行", "0701"),
    ("家中老人行动不便，希望提供助餐服务", "0706"),
    ("下水管道反味，需要物业检修", "0705"),
    ("希望办理高龄津贴", "0706"),
    ("邻居家犬只夜间吠叫扰民", "0602"),
)
CARE_NOTES = ("身体状况良好，生活能自理", "血压偏高，提醒按时服药", "送去米面油，聊了家常", "帮助清理了冰箱和房间")


@dataclass(slots=True, eq=False)
class Home:
    node: Node
    grid: GridInfo
    kind: str  # a population type, or LANDLORD
    people: list[Resident] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Resident:
    home: Home
    name: str
    sex: str
    birth: date
    population_type: str
    region: str
    moved_in: date
    room: str = ""
    id_number: str = ""
    phone: str = ""
    party_head: str = ""  # the party household (党员中心户) this person heads: the org's name
    pk: int = 0


@dataclass(eq=False)
class Registry:
    """What the registry steps of one copy share."""

    today: date
    rng: random.Random
    homes: list[Home] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    heads: dict[int, tuple[int, int | None]] = field(default_factory=dict)  # household node id → (org, parent org)


_STATE: weakref.WeakKeyDictionary[BuildContext, Registry] = weakref.WeakKeyDictionary()


def _state(ctx: BuildContext) -> Registry:
    state = _STATE.get(ctx)
    if state is None:
        raise RuntimeError("the residents step has not run for this copy")
    return state


_ModelT = TypeVar("_ModelT", bound=Model)


def _bulk(model: type[_ModelT], objs: list[_ModelT]) -> list[_ModelT]:
    return model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)


# --- Writing many rows fast -------------------------------------------------------------------------------------
# ``bulk_create`` prepares every value of every model instance (and SQLite takes 999 parameters a statement): for
# 120,000 people and their residences that is most of the build. These rows are plain tuples written with one
# prepared ``executemany`` per table; the primary keys the later rows point at are reserved first, as
# ``cases.CaseIds`` does for cases (both through ``core.bulk.reserve_ids``).


reserve_ids = bulk.reserve_ids  # the one id reservation (``core.bulk``), named here for the build and the benchmark


def insert_rows(model: type[Model], fields: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """INSERT ``rows`` (values in the order of ``fields``, dates adapted with :func:`_date_adapter`) into
    ``model``'s table; ``created_at``/``updated_at`` are set to now. Returns how many."""
    meta = model._meta
    qn = connection.ops.quote_name
    column_of = {f.name: str(f.column) for f in meta.concrete_fields}
    stamps = [name for name in ("created_at", "updated_at") if name in column_of]
    columns = [column_of[name] for name in [*fields, *stamps]]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    extra = (now,) * len(stamps)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    total = 0
    if connection.vendor == "postgresql":  # COPY: a statement per row costs a round trip even when pipelined
        return bulk.copy_rows(model, columns, (row + extra for row in rows))
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row + extra)
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def _date_adapter() -> Callable[[date | None], Any]:
    """How dates go into a raw INSERT on this database (bind it once: each ``connection`` lookup costs)."""
    return connection.ops.adapt_datefield_value


# --- Dates and ages ---------------------------------------------------------------------------------------------


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, years: int) -> date:
    """The day someone turns ``years`` (29 February → 28 February in other years)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return birth.replace(year=birth.year + years, day=28)


def _born(rng: random.Random, today: date, age: int) -> date:
    """A birth date at which someone is ``age`` today."""
    start = birthday(today, -age - 1) + timedelta(days=1)
    end = birthday(today, -age)
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _days_ago(today: date, days: float) -> date:
    return today - timedelta(days=int(days))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


# --- Families ---------------------------------------------------------------------------------------------------


class _Family:
    """Builds the people of one household: names, ages, sex, type, region, moved-in date."""

    def __init__(self, rng: random.Random, today: date, home: Home, population_type: str, moved_in: date) -> None:
        self.rng = rng
        self.today = today
        self.home = home
        self.population_type = population_type
        self.region = names.region_code(rng, population_type)
        self.moved_in = moved_in

    def person(
        self,
        sex: str,
        age: int,
        family_name: str,
        *,
        population_type: str | None = None,
        region: str | None = None,
        moved_in: date | None = None,
        room: str = "",
    ) -> Resident:
        rng = self.rng
        age = _clamp(age, 0, 100)
        born = _born(rng, self.today, age)
        kind = population_type or self.population_type
        resident = Resident(
            home=self.home,
            name=family_name + names.given_name(rng, sex, born.year),
            sex=sex,
            birth=born,
            population_type=kind,
            region=region or self.region,
            moved_in=max(moved_in or self.moved_in, born),
            room=room,
        )
        self.home.people.append(resident)
        return resident

    def couple(self, wife_low: int, wife_high: int, *, mode: float | None = None) -> tuple[Resident, Resident, str]:
        rng = self.rng
        wife_age = int(rng.triangular(wife_low, wife_high, mode if mode is not None else (wife_low + wife_high) / 2))
        husband_age = max(22, wife_age + _clamp(round(rng.gauss(2, 2.5)), -3, 10))
        family_name = names.surname(rng)
        husband = self.person(MALE, husband_age, family_name)
        wife = self.person(FEMALE, wife_age, names.surname(rng))
        return husband, wife, family_name

    def child(self, mother_age: int, family_name: str, younger_than: int | None = None) -> Resident:
        rng = self.rng
        age = mother_age - rng.randint(22, 36)
        if age < 0:
            age = rng.randint(0, max(0, mother_age - 22))
        if younger_than is not None:
            age = min(age, max(0, younger_than - rng.randint(1, 8)))
        return self.person(rng.choice((MALE, FEMALE)), age, family_name if rng.random() < 0.92 else names.surname(rng))

    def parents(self, older_spouse_age: int, family_name: str, both: bool) -> None:
        """One or both parents of the couple (the husband's, mostly); sometimes registered elsewhere (常住)."""
        rng = self.rng
        kind = self.population_type
        region = None
        if kind == REG and rng.random() < 0.35:  # came to help with the grandchildren; registered back home
            kind, region = RES, names.region_code(rng, RES)
        age = older_spouse_age + rng.randint(24, 32)
        surname = family_name if rng.random() < 0.75 else names.surname(rng)
        sexes = (MALE, FEMALE) if both else (rng.choice((MALE, FEMALE, FEMALE)),)
        for sex in sexes:
            own = surname if sex == MALE else names.surname(rng)
            offset = 0 if sex == MALE else -rng.randint(0, 4)
            self.person(sex, age + offset, own, population_type=kind, region=region)

    def workers(self, n: int, low: int = 18, high: int = 60, room: str = "") -> None:
        """Unrelated working people sharing a flat (each from their own home town)."""
        rng = self.rng
        sex = rng.choice((MALE, FEMALE))
        for _ in range(n):
            kind = self.population_type
            self.person(
                sex if rng.random() < 0.8 else rng.choice((MALE, FEMALE)),
                int(rng.triangular(low, high, 30)),
                names.surname(rng),
                population_type=kind,
                region=names.region_code(rng, kind),
                room=room,
            )


def _family_moved_in(rng: random.Random, today: date, kind: str, old: bool) -> date:
    if kind == REG:
        years = rng.triangular(1, 35, 14) if old else rng.triangular(0.3, 20, 6)
    elif kind == RES:
        years = rng.triangular(0.5, 15, 4)
    elif kind == TMP:
        years = rng.triangular(0.1, 6, 1)
    elif kind == FLT:
        years = rng.triangular(0.02, 0.8, 0.2)
    else:  # a village family in its own house
        years = rng.triangular(5, 45, 30)
    return _days_ago(today, years * 365.25)


def _fill_family(f: _Family, size: int, elder_single: float, empty_nest: float) -> None:
    """A registered or resident family of ``size``."""
    rng = f.rng
    r = rng.random()
    if size == 1:
        if r < elder_single:
            f.person(FEMALE if rng.random() < 0.62 else MALE, int(rng.triangular(60, 98, 74)), names.surname(rng))
        else:
            f.person(rng.choice((MALE, FEMALE)), int(rng.triangular(22, 50, 30)), names.surname(rng))
    elif size == 2:
        if r < empty_nest:
            f.couple(50, 88, mode=64)
        elif r < empty_nest + 0.35:
            f.couple(23, 38, mode=29)
        else:  # single parent and child
            parent_age = int(rng.triangular(30, 55, 40))
            sex = FEMALE if rng.random() < 0.75 else MALE
            family_name = names.surname(rng)
            f.person(sex, parent_age, family_name)
            f.child(parent_age, family_name)
    elif size == 3:
        if r < 0.7:  # the child may be grown up and still at home
            husband, wife, family_name = f.couple(25, 60, mode=42)
            f.child(age_on(wife.birth, f.today), family_name)
        else:
            husband, wife, family_name = f.couple(35, 58)
            f.parents(max(age_on(husband.birth, f.today), age_on(wife.birth, f.today)), family_name, both=False)
    else:
        husband, wife, family_name = f.couple(28, 56, mode=40)
        wife_age = age_on(wife.birth, f.today)
        older = max(age_on(husband.birth, f.today), wife_age)
        children, parents = {4: ((2, 0), (1, 1)), 5: ((1, 2), (2, 1)), 6: ((2, 2), (3, 1))}[size][
            0 if r < (0.5 if size == 4 else 0.68) else 1
        ]
        younger: int | None = None
        for _ in range(children):
            kid = f.child(wife_age, family_name, younger)
            younger = age_on(kid.birth, f.today)
        if parents:
            f.parents(older, family_name, both=parents == 2)


def _fill_renters(f: _Family, size: int) -> None:
    """Temporary or floating people renting a flat: a couple (with a child), or co-workers sharing."""
    rng = f.rng
    r = rng.random()
    floating = f.population_type == FLT
    if size == 1:
        f.workers(1)
    elif size == 2 and r < (0.45 if floating else 0.6):
        f.couple(22, 58, mode=34)
    elif size == 3 and r < (0.5 if floating else 0.65):
        _husband, wife, family_name = f.couple(24, 52, mode=35)
        f.child(age_on(wife.birth, f.today), family_name)
    elif size >= 4 and r < 0.45:
        _husband, wife, family_name = f.couple(25, 52, mode=36)
        wife_age = age_on(wife.birth, f.today)
        younger: int | None = None
        for _ in range(min(2, size - 2)):
            kid = f.child(wife_age, family_name, younger)
            younger = age_on(kid.birth, f.today)
        f.workers(size - 2 - min(2, size - 2))  # a relative or co-worker staying with them
    else:
        f.workers(size)


def _fill_landlord(f: _Family, size: int, today: date) -> None:
    """A village house: the owner's family in the main rooms, tenants (workers) in the side rooms."""
    rng = f.rng
    own = rng.choice((1, 2, 2, 2, 3))
    own = min(own, size - 1) if size > 1 else 1
    if own == 1:
        f.person(rng.choice((MALE, FEMALE)), int(rng.triangular(50, 90, 66)), names.surname(rng))
    else:
        _husband, wife, family_name = f.couple(45, 80, mode=60)
        if own == 3:
            f.child(age_on(wife.birth, today), family_name)
    tenants = size - own
    rooms = list(TENANT_ROOMS)
    rng.shuffle(rooms)
    for i in range(tenants):
        kind = TMP if rng.random() < 0.65 else FLT
        moved = _family_moved_in(rng, today, kind, old=False)
        f.person(
            rng.choice((MALE, MALE, FEMALE)),
            int(rng.triangular(19, 55, 30)),
            names.surname(rng),
            population_type=kind,
            region=names.region_code(rng, kind),
            moved_in=moved,
            room=rooms[i % len(rooms)],
        )


def plan_homes(ctx: BuildContext, state: Registry, party_heads: dict[int, str]) -> None:
    """Who lives in every household of the copy (``party_heads``: household node id → the head's name)."""
    rng = state.rng
    today = state.today
    for community in ctx.communities:
        profile = "village" if community.is_village else ("old" if community.name in OLD_COMMUNITIES else "new")
        kinds = list(PROFILES[profile])
        cum = list(accumulate(PROFILES[profile].values()))
        elder_single = {"old": 0.65, "new": 0.45, "village": 0.7}[profile]
        empty_nest = {"old": 0.6, "new": 0.42, "village": 0.6}[profile]
        for grid in community.grids:
            for building in grid.buildings:
                if building.is_market:
                    continue
                for node in building.households:
                    head_name = party_heads.get(node.pk, "")
                    if not head_name and rng.random() < VACANT_SHARE:
                        continue
                    kind = REG if head_name else rng.choices(kinds, cum_weights=cum)[0]
                    home = Home(node=node, grid=grid, kind=kind)
                    moved_in = _family_moved_in(rng, today, kind, old=profile == "old")
                    family = _Family(rng, today, home, REG if kind == LANDLORD else kind, moved_in)
                    if kind in (REG, RES):
                        size = rng.choices(FAMILY_SIZES, cum_weights=_FAMILY_CUM)[0]
                        if head_name:
                            size = max(size, 2)
                        _fill_family(family, size, elder_single, empty_nest)
                    elif kind == LANDLORD:
                        _fill_landlord(family, rng.choice((3, 4, 4, 5, 5, 6)), today)
                    else:
                        _fill_renters(family, rng.choices(FAMILY_SIZES, cum_weights=_RENTER_CUM)[0])
                    if head_name:  # the party household's head: its eldest
                        head = min(home.people, key=lambda p: p.birth)
                        head.name = head_name
                        head.party_head = head_name
                    state.homes.append(home)
                    state.residents.extend(home.people)


# --- Identity numbers and phones --------------------------------------------------------------------------------

_ODD = (1, 3, 5, 7, 9)
_EVEN = (0, 2, 4, 6, 8)


def _id_number(rng: random.Random, r: Resident, taken: set[str]) -> str:
    b = r.birth
    stem = f"{r.region}{b.year:04d}{b.month:02d}{b.day:02d}"
    parity = _ODD if r.sex == MALE else _EVEN
    while True:
        first17 = f"{stem}{rng.randrange(100):02d}{rng.choice(parity)}"
        number = first17 + check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def _taken_in_db(numbers: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        taken = Person.objects.filter(id_number__in=chunk).values_list("id_number", flat=True)
        found.update(cast("QuerySet[Person, str]", taken))  # matched on a number: never None
    return found


def assign_identities(state: Registry) -> None:
    """Unique ID numbers (also against people already in the database) and phones for those old enough."""
    rng = state.rng
    taken: set[str] = set()
    phones: set[str] = set()
    for r in state.residents:
        r.id_number = _id_number(rng, r, taken)
        age = age_on(r.birth, state.today)
        if (age >= 16 and rng.random() < (0.97 if age < 75 else 0.7)) or (12 <= age < 16 and rng.random() < 0.3):
            phone = names.mobile_number(rng)
            while phone in phones:
                phone = names.mobile_number(rng)
            phones.add(phone)
            r.phone = phone
    if Person.objects.exists():  # another copy, or people entered by hand: never clash with them
        clashes = _taken_in_db([r.id_number for r in state.residents])
        while clashes:
            taken |= clashes
            again = [r for r in state.residents if r.id_number in clashes]
            for r in again:
                r.id_number = _id_number(rng, r, taken)
            clashes = _taken_in_db([r.id_number for r in again])


# --- Step: residents and residences -----------------------------------------------------------------------------


def write_people(state: Registry) -> int:
    """Person rows and their open residences. Returns the residences."""
    people = state.residents
    day = _date_adapter()
    for r, pk in zip(people, reserve_ids(Person, len(people)), strict=True):
        r.pk = pk
    fields = ["id", "name", "id_number", "phone", "sex", "birth_date", "population_type", "household", "room"]
    insert_rows(
        Person,
        [*fields, "is_active"],
        (
            (r.pk, r.name, r.id_number, r.phone, r.sex, day(r.birth), r.population_type, r.home.node.pk, r.room, True)
            for r in people
        ),
    )
    return insert_rows(
        Residence,
        ["person", "household", "moved_in", "moved_out", "note"],
        ((r.pk, r.home.node.pk, day(r.moved_in), None, "") for r in people),
    )


def write_moves(state: Registry) -> int:
    """Closed residences: families (registered or resident) who lived elsewhere in the subdistrict before."""
    rng = state.rng
    today = state.today
    homes = [h for h in state.homes if h.kind in (REG, RES) and h.people]
    rng.shuffle(homes)
    all_nodes = [h.node.pk for h in state.homes]
    day = _date_adapter()
    rows: list[tuple[Any, ...]] = []
    for home in homes:
        if len(rows) >= MOVED_WITHIN_TARGET:
            break
        arrived = max(p.moved_in for p in home.people)
        if (today - arrived).days < 60:
            continue
        before = rng.choice(all_nodes)
        if before == home.node.pk:
            continue
        for r in home.people:
            start = max(r.birth, r.moved_in - timedelta(days=rng.randint(2 * 365, 12 * 365)))
            if start < r.moved_in:
                rows.append((r.pk, before, day(start), day(r.moved_in), "辖区内搬迁"))
    return insert_rows(Residence, ["person", "household", "moved_in", "moved_out", "note"], rows)


def create_residents(ctx: BuildContext) -> int:
    """The step: plan every household's people, give them ID numbers and phones, write people and residences."""
    started = time.perf_counter()
    state = Registry(today=timezone.localtime(ctx.now).date(), rng=random.Random(f"{SEED_TAG}:{ctx.k}"))
    _STATE[ctx] = state
    heads = PartyOrg.objects.filter(kind=PartyOrgKind.PARTY_HOUSEHOLD, node__code__startswith=ctx.code).order_by("id")
    party_heads: dict[int, str] = {}
    for pk, node_id, parent_id, secretary in heads.values_list("pk", "node_id", "parent_id", "secretary_name"):
        party_heads[node_id] = secretary or names.person_name(state.rng)
        state.heads[node_id] = (pk, parent_id)
    plan_homes(ctx, state, party_heads)
    assign_identities(state)
    residences = write_people(state)
    residences += write_moves(state)
    ctx.counts["residences"] += residences
    shares = Counter(r.population_type for r in state.residents)
    total = max(len(state.residents), 1)
    ctx.out(
        f"    {len(state.homes):,} households lived in; "
        + ", ".join(f"{kind} {shares[kind] / total:.0%}" for kind in (REG, RES, TMP, FLT))
        + f"; residences {residences:,}; {time.perf_counter() - started:.1f}s"
    )
    return len(state.residents)


# --- Step: key service targets ----------------------------------------------------------------------------------


def _weighted_sample(rng: random.Random, items: list[Resident], weights: list[float], n: int) -> list[Resident]:
    """``n`` items without replacement, each drawn with probability proportional to its weight (A-Res keys)."""
    keyed = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0]
    keyed.sort(reverse=True)
    return [items[i] for _, i in keyed[:n]]


def create_service_targets(ctx: BuildContext) -> int:
    state = _state(ctx)
    rng = random.Random(f"{SEED_TAG}:{ctx.k}:targets")
    today = state.today
    tags: list[tuple[Any, ...]] = []
    counts: Counter[str] = Counter()
    day = _date_adapter()

    def tag(r: Resident, kind: str, since: date, until: date | None = None, label: str = "") -> None:
        tags.append((r.pk, kind, label, day(since), day(until)))
        counts[kind] += 1

    ages = {id(r): age_on(r.birth, today) for r in state.residents}
    for home in state.homes:
        alone = len(home.people) == 1
        for r in home.people:
            age = ages[id(r)]
            if age >= ELDERLY_AGE:
                tag(r, TagKind.ELDERLY, max(birthday(r.birth, ELDERLY_AGE), r.moved_in))
                if alone and age >= ALONE_AGE:
                    tag(r, TagKind.ELDERLY_ALONE, max(birthday(r.birth, ALONE_AGE), r.moved_in))
            elif age < CHILD_AGE:
                tag(r, TagKind.CHILD, r.moved_in)
            elif age < 18 and r.moved_in < birthday(r.birth, CHILD_AGE):  # history: the tag ended at 14
                tag(r, TagKind.CHILD, r.moved_in, until=birthday(r.birth, CHILD_AGE))

    people = state.residents
    total = len(people)

    def disabled_weight(r: Resident) -> float:
        age = ages[id(r)]
        return 0.4 if age < 18 else (1.0 if age < 60 else (3.0 if age < 80 else 6.0))

    disabled = _weighted_sample(rng, people, [disabled_weight(r) for r in people], round(total * DISABLED_SHARE))
    disabled_ids = {id(r) for r in disabled}
    for r in disabled:
        since = max(r.moved_in, r.birth + timedelta(days=rng.randint(0, max(0, (today - r.birth).days))))
        label = rng.choice(DISABILITY_LABELS) + rng.choice(DISABILITY_GRADES)
        tag(r, TagKind.DISABLED, since, label=label)

    def hardship_weight(r: Resident) -> float:
        weight = 3.0 if r.population_type in (REG, RES) else 0.3
        if id(r) in disabled_ids:
            weight *= 5
        if len(r.home.people) == 1 and ages[id(r)] >= ALONE_AGE:
            weight *= 5
        return weight if ages[id(r)] >= 18 else 0.0

    open_n = round(total * HARDSHIP_SHARE)
    hardship = _weighted_sample(
        rng, people, [hardship_weight(r) for r in people], open_n + round(open_n * HARDSHIP_ENDED_SHARE)
    )
    for i, r in enumerate(hardship):
        since = max(r.moved_in, _days_ago(today, rng.randint(30, 8 * 365)))
        until = None
        if i >= open_n:  # ended: 低保 stopped after a while
            until = min(today - timedelta(days=1), since + timedelta(days=rng.randint(90, 3 * 365)))
            if until < since:
                until = since
        tag(r, TagKind.HARDSHIP, since, until=until, label=rng.choice(HARDSHIP_LABELS))

    # Others with a label: veterans, bereaved parents (失独家庭), families of martyrs and servicemen (军烈属).
    veterans = [r for r in people if r.sex == MALE and r.population_type == REG and ages[id(r)] >= 35]
    for r in rng.sample(veterans, round(len(veterans) * VETERAN_SHARE)):
        tag(r, TagKind.OTHER, r.moved_in, label="退役军人")
    pairs = [
        h
        for h in state.homes
        if h.kind == REG
        and len(h.people) == 2
        and all(ages[id(p)] >= 55 for p in h.people)
        and h.people[0].sex != h.people[1].sex
    ]
    for home in rng.sample(pairs, round(len(pairs) * BEREAVED_SHARE)):
        for r in home.people:
            tag(r, TagKind.OTHER, max(r.moved_in, _days_ago(today, rng.randint(365, 20 * 365))), label="失独家庭")
    elders = [r for r in people if r.population_type == REG and ages[id(r)] >= 65]
    for r in rng.sample(elders, min(MARTYR_FAMILIES, len(elders))):
        tag(r, TagKind.OTHER, r.moved_in, label="军烈属")

    insert_rows(PersonTag, ["person", "tag", "label", "since", "until"], tags)
    ctx.out("    " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items())))
    return len(tags)


# --- Step: organisations, contacts, co-building agreements ------------------------------------------------------


def create_organisations(ctx: BuildContext) -> int:
    """The registry's organisations beside the builder's co-building units, with contacts and agreements."""
    rng = random.Random(f"{SEED_TAG}:{ctx.k}:organisations")
    state = _STATE.get(ctx)
    today = state.today if state else timezone.localtime(ctx.now).date()
    communities = [c for c in ctx.communities if c.node is not None]
    towns = [c for c in communities if not c.is_village] or communities
    villages = [c for c in communities if c.is_village] or communities

    new_bodies = []
    for key, kind, template in names.REGISTRY_ORGANISATIONS:
        home = rng.choice(villages if key in ("food", "machinery") else towns)
        body = Body(
            name=names.body_name(template, ctx.k),
            kind=kind,
            node=home.node,
            contact_name=names.person_name(rng),
            contact_phone=names.mobile_number(rng),
        )
        ctx.bodies[key] = body
        new_bodies.append(body)
    _bulk(Body, new_bodies)
    ctx.counts["bodies"] += len(new_bodies)

    keys = [key for key, _k, _t in names.CO_BUILDING_UNITS]
    keys += [key for key, _t in names.SOCIAL_ORGANISATIONS if key != "mediators"]
    keys += [key for key, _k, _t in names.REGISTRY_ORGANISATIONS]
    units = [ctx.bodies[key] for key in keys if key in ctx.bodies]

    level1 = dict(
        PartyOrg.objects.filter(node__code__startswith=ctx.code)
        .exclude(kind__in=(PartyOrgKind.GRID_BRANCH, PartyOrgKind.BUILDING_GROUP, PartyOrgKind.PARTY_HOUSEHOLD))
        .values_list("node_id", "pk")
    )
    # Fixed partners in copy 0's stories; the rest sign with the community they stand in (or a random one).
    fixed = {"xida": names.XIDA_COMMUNITY, "hospital": names.JINHE_COMMUNITY, "school1": names.JINHE_COMMUNITY}
    by_node = {c.node.pk: c for c in communities if c.node is not None}

    contacts: list[OrgContact] = []
    agreements: list[CoBuildingAgreement] = []
    for n, (key, unit) in enumerate(zip([k for k in keys if k in ctx.bodies], units, strict=True), start=1):
        unit_kind = unit.kind if unit.kind in CONTACT_TITLES else BodyKind.CO_BUILDING_UNIT.value
        titles = CONTACT_TITLES[unit_kind]
        contacts.append(
            OrgContact(
                body=unit,
                name=unit.contact_name or names.person_name(rng),
                title=titles[0],
                phone=unit.contact_phone or names.mobile_number(rng),
                email=f"dj{ctx.k:03d}{n:02d}@example.com" if rng.random() < 0.6 else "",
                is_primary=True,
            )
        )
        for title in titles[1 : 1 + rng.randint(0, 2)]:
            contacts.append(
                OrgContact(body=unit, name=names.person_name(rng), title=title, phone=names.mobile_number(rng))
            )

        partners = []
        if key in fixed and any(c.name == fixed[key] for c in communities):
            partners.append(next(c for c in communities if c.name == fixed[key]))
        elif unit.node_id in by_node:
            partners.append(by_node[unit.node_id])
        else:
            partners.append(rng.choice(communities))
        if rng.random() < 0.35:
            other = rng.choice(communities)
            if other not in partners:
                partners.append(other)
        pool = UNIT_COMMITMENTS.get(unit_kind, UNIT_COMMITMENTS[BodyKind.CO_BUILDING_UNIT])
        for partner in partners:
            assert partner.node is not None
            starts = _days_ago(today, rng.randint(30, 3 * 365))
            ends = birthday(starts, rng.choice((1, 2, 3))) - timedelta(days=1)
            commitments = rng.sample(pool, rng.randint(2, 3)) + rng.sample(COMMUNITY_COMMITMENTS, rng.randint(1, 2))
            agreements.append(
                CoBuildingAgreement(
                    unit=unit,
                    partner=partner.node,
                    party_org_id=level1.get(partner.node.pk),
                    title=f"{unit.name}与{partner.name}党建共建协议"[:120],
                    signed_on=starts - timedelta(days=rng.randint(0, 20)),
                    starts=starts,
                    ends=ends,
                    commitments=commitments,
                    is_active=ends >= today,
                )
            )
    # The subdistrict's own agreement with the district hospital (its working committee signs).
    if ctx.subdistrict is not None and "central_hospital" in ctx.bodies:
        starts = _days_ago(today, 200)
        agreements.append(
            CoBuildingAgreement(
                unit=ctx.bodies["central_hospital"],
                partner=ctx.subdistrict,
                party_org_id=level1.get(ctx.subdistrict.pk),
                title=f"{ctx.bodies['central_hospital'].name}与{ctx.name}医联体共建协议",
                signed_on=starts,
                starts=starts,
                ends=birthday(starts, 3) - timedelta(days=1),
                commitments=[
                    "为辖区居民开通转诊绿色通道",
                    "每月派专家到社区卫生服务中心坐诊",
                    "街道组织居民参加健康筛查",
                ],
            )
        )
    _bulk(OrgContact, contacts)
    _bulk(CoBuildingAgreement, agreements)
    ctx.counts["organisation contacts"] += len(contacts)
    ctx.counts["co-building agreements"] += len(agreements)
    ctx.out(f"    organisations {len(units)}, contacts {len(contacts)}, agreements {len(agreements)}")
    return len(new_bodies)


# --- Step: party members ----------------------------------------------------------------------------------------


def _quotas(total: int) -> dict[str, int]:
    raw = {kind: share * total for kind, share in PARTY_TYPE_SHARES.items()}
    quotas = {kind: int(value) for kind, value in raw.items()}
    for kind in sorted(raw, key=lambda k: raw[k] - quotas[k], reverse=True)[: total - sum(quotas.values())]:
        quotas[kind] += 1
    return quotas


def _retired_age(r: Resident, age: int) -> bool:
    return age >= (60 if r.sex == MALE else 55)


def create_party_members(ctx: BuildContext) -> int:
    """PARTY_MEMBERS members of every type in the branches of the copy's party tree."""
    state = _state(ctx)
    rng = random.Random(f"{SEED_TAG}:{ctx.k}:party")
    today = state.today
    orgs = list(
        PartyOrg.objects.filter(node__code__startswith=ctx.code).order_by("id").values_list("pk", "kind", "node_id")
    )
    if not orgs:
        ctx.out("    no party tree: no members")
        return 0
    groups: dict[int, int] = {}  # building node id → building group
    branches: dict[int, int] = {}  # grid node id → grid branch
    level1: dict[int, int] = {}  # community node id → community org
    for pk, kind, node_id in orgs:
        if kind == PartyOrgKind.BUILDING_GROUP:
            groups.setdefault(node_id, pk)
        elif kind == PartyOrgKind.GRID_BRANCH:
            branches.setdefault(node_id, pk)
        elif kind in (PartyOrgKind.COMMUNITY_COMMITTEE, PartyOrgKind.GENERAL_BRANCH, PartyOrgKind.VILLAGE_BRANCH):
            level1.setdefault(node_id, pk)
    community_branches: dict[int, list[int]] = defaultdict(list)
    for grid in ctx.grids:
        if grid.node is not None and grid.node.pk in branches and grid.community.node is not None:
            community_branches[grid.community.node.pk].append(branches[grid.node.pk])

    def branch_of(r: Resident, member_type: str) -> int | None:
        grid = r.home.grid
        community = grid.community.node.pk if grid.community.node is not None else 0
        if member_type == PartyMemberType.MOBILE:
            return level1.get(community)
        building = r.home.node.parent_id
        if building in groups and rng.random() < BUILDING_GROUP_SHARE:
            return groups[building]
        if grid.node is not None and grid.node.pk in branches:
            return branches[grid.node.pk]
        if community_branches.get(community):
            return rng.choice(community_branches[community])
        return level1.get(community)

    work_kinds = (
        BodyKind.DEPARTMENT,
        BodyKind.SUBDISTRICT_OFFICE,
        BodyKind.SCHOOL,
        BodyKind.HOSPITAL,
        BodyKind.CO_BUILDING_UNIT,
        BodyKind.ENTERPRISE,
    )
    new_kinds = (BodyKind.ENTERPRISE, BodyKind.SOCIAL_ORGANISATION, BodyKind.PROPERTY_COMPANY)
    bodies = list(Body.objects.filter(node__code__startswith=ctx.code).order_by("id").values_list("pk", "kind"))
    work_units = [pk for pk, kind in bodies if kind in work_kinds]
    new_units = [pk for pk, kind in bodies if kind in new_kinds]

    ages = {id(r): age_on(r.birth, today) for r in state.residents}
    quotas = _quotas(PARTY_MEMBERS)
    chosen: dict[int, tuple[Resident, str]] = {}
    for r in state.residents:  # the party households' heads first
        if r.party_head and r.pk:
            kind = PartyMemberType.RETIRED if _retired_age(r, ages[id(r)]) else PartyMemberType.COMMUNITY
            chosen[id(r)] = (r, kind)
            quotas[kind] -= 1

    def eligible(r: Resident, kind: str) -> bool:
        age = ages[id(r)]
        settled = r.population_type in (REG, RES)
        if kind == PartyMemberType.RETIRED:
            return settled and _retired_age(r, age) and age <= 95
        if kind == PartyMemberType.ON_DUTY:
            return settled and age >= 25 and not _retired_age(r, age)
        if kind == PartyMemberType.COMMUNITY:
            return settled and 30 <= age <= 75
        if kind == PartyMemberType.TWO_NEW:
            return r.population_type != FLT and 23 <= age <= 50
        return not settled and 20 <= age <= 55  # mobile

    for kind in (
        PartyMemberType.MOBILE,
        PartyMemberType.TWO_NEW,
        PartyMemberType.ON_DUTY,
        PartyMemberType.RETIRED,
        PartyMemberType.COMMUNITY,
    ):
        need = max(0, quotas[kind])
        pool = [r for r in state.residents if id(r) not in chosen and eligible(r, kind)]
        for r in rng.sample(pool, min(need, len(pool))):
            chosen[id(r)] = (r, kind)

    members: list[tuple[Any, ...]] = []
    day = _date_adapter()
    reported = 0
    by_type: Counter[str] = Counter()
    for r, kind in sorted(chosen.values(), key=lambda item: item[0].pk):
        branch = None
        if r.party_head and r.home.node.pk in state.heads:
            branch = state.heads[r.home.node.pk][1]  # the building group above the party household
        branch = branch or branch_of(r, kind)
        work_unit = None
        reported_in, reported_on = False, None
        if kind == PartyMemberType.ON_DUTY:
            work_unit = rng.choice(work_units) if work_units else None
            if rng.random() < REPORTED_IN_SHARE:
                first = max(REPORTING_IN_BEGAN, r.moved_in)
                last = today - timedelta(days=3)
                if first <= last:
                    reported_in = True
                    reported_on = first + timedelta(days=rng.randrange((last - first).days + 1))
                    reported += 1
        elif kind == PartyMemberType.TWO_NEW and new_units and rng.random() < 0.7:
            work_unit = rng.choice(new_units)
        members.append((r.pk, kind, branch, work_unit, reported_in, day(reported_on)))
        by_type[kind] += 1
    insert_rows(PartyMember, ["person", "member_type", "branch", "work_unit", "reported_in", "reported_in_on"], members)
    ctx.out(
        "    "
        + ", ".join(f"{kind} {by_type[kind]:,}" for kind in PARTY_TYPE_SHARES)
        + f"; reported in (双报到) {reported:,}"
    )
    return len(members)


# --- Step: visits (through the visits services) -----------------------------------------------------------------


def _season(day: date) -> str:
    """Shenyang's seasons as the heating calendar sees them: winter is November to March."""
    if day.month in (11, 12, 1, 2, 3):
        return "冬季"
    return {4: "春季", 5: "春季", 6: "夏季", 7: "夏季", 8: "夏季"}.get(day.month, "秋季")


def _at(rng: random.Random, day: date, now: datetime) -> datetime:
    """A moment in working hours on ``day`` (local time); the day before when that moment is still to come."""
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
    tz = timezone.get_current_timezone()
    at = datetime.combine(day, clock_time(minutes // 60, minutes % 60), tzinfo=tz)
    return at if at <= now - timedelta(minutes=5) else at - timedelta(days=1)


def _secretary(community_node_id: int) -> User | None:
    """The community's secretary (or, failing that, its first staff member): who runs campaigns and plans."""
    rows = RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, node_id=community_node_id, is_active=True)
    row = rows.filter(post=Post.SECRETARY).order_by("id").first() or rows.order_by("id").first()
    return User.objects.get(pk=row.user_id) if row else None


def create_visits(ctx: BuildContext) -> int:
    """A household campaign in progress over the demo community and weekly care plans for the elderly living
    alone — written through ``visits.services`` as staff and grid workers would (audited, coverage kept)."""
    state = _state(ctx)
    rng = random.Random(f"{SEED_TAG}:{ctx.k}:visits")
    today = state.today
    now = ctx.now
    users: dict[int, User] = {}
    if connection.vendor == "postgresql":
        # The services query tables this build has just filled (inside its transaction): without fresh statistics
        # the planner takes 120,000 people for an empty table (after --reset, autovacuum analysed it empty) and
        # every call scans. ANALYZE counts the transaction's own new rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def user(pk: int) -> User:
        if pk not in users:
            users[pk] = User.objects.get(pk=pk)
        return users[pk]

    campaign_visits = _campaign(ctx, state, rng, today, now, user)
    plans, care_visits = _care_plans(ctx, state, rng, today, now, user)
    ctx.counts["care plans"] += plans
    _STATE.pop(ctx, None)  # the last registry step: let the copy's plan go
    return campaign_visits + care_visits


def _campaign(
    ctx: BuildContext, state: Registry, rng: random.Random, today: date, now: datetime, user: Callable[[int], User]
) -> int:
    community = next((c for c in ctx.communities if c.name == names.JINHE_COMMUNITY), ctx.communities[0])
    if community.node is None or not any(h.grid.community is community for h in state.homes):
        ctx.out("    nobody lives in the campaign's community: no campaign")
        return 0
    actor = _secretary(community.node.pk)
    if actor is None:
        ctx.out("    no community staff: no campaign")
        return 0
    starts = today - timedelta(days=CAMPAIGN_STARTED_DAYS_AGO)
    campaign = visits.create_campaign(
        actor=actor,
        name=f"{starts.year}年{_season(starts)}入户走访",
        area_id=community.node.pk,
        starts=starts,
        ends=today + timedelta(days=CAMPAIGN_ENDS_IN_DAYS),
        description="走访辖区全部住户：核实人口信息，了解困难和诉求，宣传冬季供暖、防火和燃气安全。",
    )
    ctx.counts["visit campaigns"] += 1
    targets: list[tuple[int, str, int | None]] = list(
        CampaignTarget.objects.filter(campaign=campaign)
        .order_by("household__code")
        .values_list("household_id", "household__code", "assignee_id")
    )
    by_grid: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for household_id, code, assignee_id in targets:
        by_grid[code[:15]].append((household_id, assignee_id))
    demo_grid = community.grids[0].node.code if community.grids and community.grids[0].node else ""
    categories = dict(Category.objects.filter(kind="event", parent__isnull=False).values_list("code", "pk"))
    days = [starts + timedelta(days=i) for i in range((today - starts).days + 1)]
    planned: list[tuple[datetime, int, int, str, str, str]] = []  # (at, household, visitor, outcome, notes, needs)
    for grid_code in sorted(by_grid):
        rows = by_grid[grid_code]
        share = 0.5 if grid_code == demo_grid else rng.uniform(*CAMPAIGN_COVERAGE)
        order = list(rows)
        rng.shuffle(order)
        covered = round(len(order) * share)
        for i, (household_id, assignee_id) in enumerate(order):
            visitor = assignee_id or actor.pk
            if i < covered:
                day = rng.choice(days)
                if rng.random() < NOT_HOME_FIRST and day > starts:
                    first = starts + timedelta(days=rng.randrange((day - starts).days))
                    planned.append((_at(rng, first, now), household_id, visitor, Outcome.NOT_HOME, "", ""))
                outcome: str = Outcome.MOVED_AWAY if rng.random() < 0.02 else Outcome.MET
                needs = ""
                if outcome == Outcome.MET and rng.random() < 0.08:
                    needs = rng.choice(VISIT_NEEDS)[0]
                notes = rng.choice(VISIT_NOTES) if outcome == Outcome.MET else "房屋空置，邻居称已搬走"
                planned.append((_at(rng, day, now), household_id, visitor, outcome, notes, needs))
            elif rng.random() < 0.1:  # tried, not yet reached
                outcome = Outcome.REFUSED if rng.random() < 0.2 else Outcome.NOT_HOME
                planned.append((_at(rng, rng.choice(days), now), household_id, visitor, outcome, "", ""))
    planned.sort(key=lambda row: (row[0], row[1]))
    with_needs = [i for i, row in enumerate(planned) if row[5]]
    raise_at = set(rng.sample(with_needs, min(CASES_FROM_VISITS, len(with_needs))))
    need_category = dict(VISIT_NEEDS)
    for i, (at, household_id, visitor, outcome, notes, needs) in enumerate(planned):
        category = categories.get(need_category.get(needs, "")) if i in raise_at else None
        visits.record_visit(
            actor=user(visitor),
            household_id=household_id,
            outcome=outcome,
            visited_at=at,
            notes=notes,
            needs=needs,
            campaign_id=campaign.pk,
            raise_case=category is not None,
            category_id=category,
        )
    covered_now = CampaignTarget.objects.filter(campaign=campaign, covered_at__isnull=False).count()
    ctx.out(
        f"    campaign: {len(targets):,} households, {len(planned):,} visits, covered {covered_now:,} "
        f"({covered_now / max(len(targets), 1):.0%}), cases raised {len(raise_at)}"
    )
    return len(planned)


def _care_plans(
    ctx: BuildContext,
    state: Registry,
    rng: random.Random,
    today: date,
    now: datetime,
    user: Callable[[int], User],
) -> tuple[int, int]:
    alone = [
        h.people[0]
        for h in state.homes
        if len(h.people) == 1 and age_on(h.people[0].birth, today) >= ALONE_AGE and h.people[0].pk
    ]
    if not alone:
        return 0, 0
    volunteers: dict[int, int] = {}
    for user_id, node_id in (
        RoleAssignment.objects.filter(
            role=Role.GRID_WORKER, post=Post.VOLUNTEER, node__code__startswith=ctx.code, is_active=True
        )
        .order_by("id")
        .values_list("user_id", "node_id")
    ):
        volunteers.setdefault(node_id, user_id)
    secretaries: dict[int, User | None] = {}
    plans = 0
    recorded = 0
    overdue = 0
    for r in alone:
        community = r.home.grid.community.node
        grid = r.home.grid.node
        if community is None or grid is None:
            continue
        if community.pk not in secretaries:
            secretaries[community.pk] = _secretary(community.pk)
        actor = secretaries[community.pk]
        if actor is None:
            continue
        roll = rng.random()
        unvisited = roll < CARE_UNVISITED_SHARE
        starts = today - timedelta(days=rng.randint(2, 5) if unvisited else rng.randint(14, 120))
        plan = visits.create_care_plan(
            actor=actor,
            person_id=r.pk,
            every_days=7,
            starts=starts,
            assignee_id=volunteers.get(grid.pk),
            reason="独居老人每周探访",
        )
        plans += 1
        if unvisited:
            overdue += 1
            continue
        late = roll < CARE_UNVISITED_SHARE + CARE_OVERDUE_SHARE
        ago = rng.randint(8, 13) if late else rng.randint(0, 6)
        overdue += late
        visitor = plan.assignee_id or actor.pk
        visits.record_visit(
            actor=user(visitor),
            household_id=r.home.node.pk,
            outcome=Outcome.MET,
            visited_at=_at(rng, max(starts, today - timedelta(days=ago)), now),
            notes=rng.choice(CARE_NOTES),
            care_plan_id=plan.pk,
            person_id=r.pk,
        )
        recorded += 1
    ctx.out(f"    care plans {plans:,} (elderly living alone), visits {recorded:,}, overdue about {overdue:,}")
    return plans, recorded


# --- Reset ------------------------------------------------------------------------------------------------------


def _raw_delete(qs: Any) -> int:
    return int(qs._raw_delete(qs.db))


def reset_visits(code: str, bodies: list[int], out: Out) -> int:
    """Visits, campaign targets, campaigns and care plans on the copy's ground (before the cases they raised)."""
    total = _raw_delete(
        Visit.objects.filter(Q(household__code__startswith=code) | Q(campaign__area__code__startswith=code))
    )
    total += _raw_delete(
        CampaignTarget.objects.filter(Q(household__code__startswith=code) | Q(campaign__area__code__startswith=code))
    )
    Visit.objects.filter(care_plan__person__household__code__startswith=code).update(care_plan=None)
    total += _raw_delete(CarePlan.objects.filter(person__household__code__startswith=code))
    total += _raw_delete(Campaign.objects.filter(area__code__startswith=code))
    return total


def reset_registry(code: str, bodies: list[int], out: Out) -> int:
    """People living on the copy's ground and everything hanging on them; the copy's organisations' contacts and
    agreements. Plain deletes: the ORM's collector would load 120,000 people and their rows into memory."""
    here = Q(person__household__code__startswith=code)
    total = _raw_delete(PartyMember.objects.filter(here))
    # Members living elsewhere keep their membership, without the demo's branch or work unit.
    PartyMember.objects.filter(branch__node__code__startswith=code).update(branch=None)
    PartyMember.objects.filter(work_unit_id__in=bodies).update(work_unit=None)
    total += _raw_delete(PersonTag.objects.filter(here))
    total += _raw_delete(Residence.objects.filter(here | Q(household__code__startswith=code)))
    Visit.objects.filter(person__household__code__startswith=code).update(person=None)  # visits elsewhere stay
    Visit.objects.filter(care_plan__person__household__code__startswith=code).update(care_plan=None)
    total += _raw_delete(CarePlan.objects.filter(here))
    total += _raw_delete(Person.objects.filter(household__code__startswith=code))
    total += _raw_delete(OrgContact.objects.filter(body_id__in=bodies))
    total += _raw_delete(
        CoBuildingAgreement.objects.filter(
            Q(partner__code__startswith=code) | Q(unit_id__in=bodies) | Q(party_org__node__code__startswith=code)
        )
    )
    return total
