from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Urgency(models.TextChoices):
    LOW = "low", _("Can wait")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("Pressing")
    URGENT = "urgent", _("Urgent")


class NeedSource(models.TextChoices):
    VISIT = "visit", _("Household visit")
    MEETING = "meeting", _("Meeting")
    GRID_WORKER = "grid_worker", _("Grid worker")
    RESIDENT = "resident", _("Resident report")
    CASE = "case", _("Case")


class NeedStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("need", "Open")
    MATCHED = "matched", pgettext_lazy("need", "Matched")
    CLOSED = "closed", pgettext_lazy("need", "Closed")
    WITHDRAWN = "withdrawn", pgettext_lazy("need", "Withdrawn")


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("Venue")
    FUNDS = "funds", _("Funds")
    SKILLS = "skills", _("Skills")
    SERVICES = "services", _("Services")
    GOODS = "goods", _("Goods")


class Slot(models.TextChoices):
    """When a resource is available, or when a need wants help (a set of these)."""

    WEEKDAYS = "weekdays", _("weekdays")
    WEEKENDS = "weekends", _("weekends")
    EVENINGS = "evenings", _("evenings")


SLOT_BITS = {Slot.WEEKDAYS: 1, Slot.WEEKENDS: 2, Slot.EVENINGS: 4}


class MatchState(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed by staff")
    CLAIMED = "claimed", _("Claimed by the unit")
    WITHDRAWN = "withdrawn", pgettext_lazy("need", "Withdrawn")


# A match that holds its need: at most one per need (a partial unique constraint settles claim races).
ACTIVE_MATCH_STATES = (MatchState.CONFIRMED, MatchState.CLAIMED)


class ProjectState(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("project", "Planned")
    IN_PROGRESS = "in_progress", pgettext_lazy("project", "In progress")
    COMPLETED = "completed", pgettext_lazy("project", "Completed, awaiting confirmation")
    ACCEPTED = "accepted", pgettext_lazy("project", "Completion confirmed")
    CANCELLED = "cancelled", pgettext_lazy("project", "Cancelled")


OPEN_PROJECT_STATES = (ProjectState.PLANNED, ProjectState.IN_PROGRESS, ProjectState.COMPLETED)


# The need categories a new database starts with (migration 0002 keeps its own copy); an editable table afterwards.
DEFAULT_CATEGORIES = (
    ("elderly", "助老", "老人 老年 独居 高龄 助餐 送餐 陪诊 养老 助老 空巢 失能"),
    ("children", "儿童课后", "儿童 孩子 学生 课后 辅导 作业 托管 四点半 未成年"),
    ("accessibility", "无障碍", "无障碍 残疾 轮椅 坡道 扶手 盲道 适老化 电梯"),
    ("environment", "环境", "环境 卫生 垃圾 分类 绿化 楼道 清理 整治 晾晒"),
    ("safety", "安全", "安全 消防 电动车 充电 隐患 燃气 防诈 治安"),
    ("employment", "就业", "就业 招聘 培训 岗位 技能 创业 求职"),
    ("culture", "文化", "文化 文艺 演出 读书 图书 书法 宣讲 活动"),
    ("health", "健康", "健康 医疗 义诊 体检 血压 家庭医生 康复"),
    ("legal", "法律", "法律 咨询 调解 普法 律师 维权 纠纷"),
)


class WishState(models.TextChoices):
    """A micro-wish (微心愿) on the wish wall: published → claimed → fulfilled → confirmed (or withdrawn)."""

    PUBLISHED = "published", pgettext_lazy("wish", "Waiting to be lit")
    CLAIMED = "claimed", pgettext_lazy("wish", "Claimed")
    FULFILLED = "fulfilled", pgettext_lazy("wish", "Fulfilled, awaiting confirmation")
    CONFIRMED = "confirmed", pgettext_lazy("wish", "Lit")
    WITHDRAWN = "withdrawn", pgettext_lazy("wish", "Withdrawn")


PUBLIC_WISH_STATES = (WishState.PUBLISHED, WishState.CLAIMED, WishState.FULFILLED, WishState.CONFIRMED)


class ClaimantKind(models.TextChoices):
    """Who lit a wish: a party member, a volunteer or a co-building unit."""

    PARTY_MEMBER = "party_member", _("Party member")
    VOLUNTEER = "volunteer", _("Volunteer")
    UNIT = "unit", _("Co-building unit")
