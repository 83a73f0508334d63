from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")  # 受理 (taken in)
    ACCEPTED = "accepted", _("Accepted")  # 立案 (registered)
    REJECTED = "rejected", _("Rejected")  # 不予立案
    DISPATCHED = "dispatched", _("Dispatched")  # 派遣 / 派单
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")  # 接单
    RETURNED = "returned", _("Returned")  # 退单
    IN_PROGRESS = "in_progress", _("In progress")  # 处置 / 办理
    POSTPONED = "postponed", _("Postponed")  # 延期 / 挂账
    DISPOSED = "disposed", _("Disposed")  # 处置完毕 / 答复
    VERIFYING = "verifying", _("Verifying")  # 核查
    REWORK = "rework", _("Rework")  # 返工
    CLOSED = "closed", _("Closed")  # 结案
    FOLLOWED_UP = "followed_up", _("Followed up")  # 回访 / 评价
    MERGED = "merged", _("Merged")  # 重复件合并
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    Status.REPORTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.ACKNOWLEDGED,
    Status.RETURNED,
    Status.IN_PROGRESS,
    Status.POSTPONED,
    Status.DISPOSED,
    Status.VERIFYING,
    Status.REWORK,
)
FINAL_STATUSES = (Status.REJECTED, Status.CLOSED, Status.FOLLOWED_UP, Status.MERGED, Status.CANCELLED)


class CategoryKind(models.TextChoices):
    """The two halves of the national taxonomy (GB/T 30428.2): a thing that is broken or missing (部件: a manhole
    cover, a street lamp) or a matter that happens (事件: rubbish left out, noise, parking)."""

    EVENT = "event", _("Event (事件)")
    FACILITY = "facility", _("Facility (部件)")


# The kind in one word, for group headings and labels: 部件 / 事件.
KIND_WORD = {
    CategoryKind.EVENT: pgettext_lazy("category kind", "Event"),
    CategoryKind.FACILITY: pgettext_lazy("category kind", "Facility"),
}


class Channel(models.TextChoices):
    PATROL = "patrol", _("Grid patrol")
    RESIDENT = "resident", _("Resident report")
    BUILDING_HEAD = "building_head", _("Building head")
    DESK = "desk", _("Staff desk (phone call)")
    HOTLINE = "hotline", _("12345 hotline")
    POLICE = "police", _("Police notice")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Household visit")
    OPEN311 = "open311", _("Open311 client")  # an outside app (gongzhi.open311); which one: Case.channel_label


class Urgency(models.TextChoices):
    A = "A", _("A · urgent")
    B = "B", _("B · normal")
    C = "C", _("C · can wait")


class Tier(models.IntegerChoices):
    """小事不出楼宇、大事不出网格、难事不出社区: the level that holds the case now."""

    BUILDING = 1, _("Building")
    GRID = 2, _("Grid")
    COMMUNITY = 3, _("Community")
    SUBDISTRICT = 4, _("Subdistrict")
    DEPARTMENT = 5, _("Department")


class Step(models.TextChoices):
    """The clocked steps; each has a limit per category × urgency."""

    DISPATCH = "dispatch", _("Dispatch")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    DISPOSE = "dispose", _("Dispose")
    VERIFY = "verify", _("Verify")


class DeadlineUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class ClosedKind(models.TextChoices):
    NORMAL = "normal", _("Normal")
    OVERDUE = "overdue", _("Overdue")
    SPECIAL = "special", _("Special")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
