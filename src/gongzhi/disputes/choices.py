"""The words of the disputes app: statuses, risk, tiers, sources, session modes, results."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """A dispute's state; written only by ``disputes/workflow.py``."""

    REGISTERED = "registered", _("Registered")  # 登记受理
    MEDIATING = "mediating", _("Mediating")  # 调解中
    AGREED = "agreed", _("Agreement signed")  # 达成协议, performance follow-up due
    CLOSED = "closed", _("Closed (performed)")  # 履行完毕
    UNRESOLVED = "unresolved", _("No agreement")  # 调解不成 (no tier left, or the parties went elsewhere)
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 撤回


OPEN_STATUSES = (Status.REGISTERED, Status.MEDIATING)
FINAL_STATUSES = (Status.CLOSED, Status.UNRESOLVED, Status.WITHDRAWN)
SUCCESS_STATUSES = (Status.AGREED, Status.CLOSED)


class Risk(models.TextChoices):
    """May it escalate to violence or a group incident (激化风险)?"""

    GREEN = "green", _("Green (low)")
    YELLOW = "yellow", _("Yellow (watch)")
    RED = "red", _("Red (may turn violent or collective)")


class Source(models.TextChoices):
    CASE = "case", _("A case")
    POLICE = "police", _("Police notice")
    VISIT = "visit", _("Household visit")
    WALK_IN = "walk_in", _("Walk-in")
    HOTLINE = "hotline", _("Hotline")
    OTHER = "other", _("Other")


class TierKind(models.TextChoices):
    """The rungs of the ladder (小事不出网格, 大事不出社区/综治站, 诉调对接)."""

    ON_SITE = "on_site", _("On site (grid / joint team)")  # 联勤处置分队
    STATION = "station", _("Station (professional mediator)")  # 综合治理站
    REFERRAL = "referral", _("Referral (police, justice office, court, arbitration)")  # 诉调对接


@dataclass(frozen=True)
class DefaultTier:
    level: int
    kind: str
    name: str


# The ladder of a subdistrict that configured none (LadderTier rows replace it).
DEFAULT_LADDER = (
    DefaultTier(1, TierKind.ON_SITE, "网格/联勤处置分队现场调解"),
    DefaultTier(2, TierKind.STATION, "综治站专职调解员调解"),
    DefaultTier(3, TierKind.REFERRAL, "移交派出所/司法所/人民法庭/仲裁（诉调对接）"),
)


class ReferralKind(models.TextChoices):
    POLICE = "police", _("Police station")  # 派出所
    JUSTICE = "justice", _("Justice office")  # 司法所
    COURT = "court", _("People's tribunal (court-annexed mediation)")  # 人民法庭 诉调对接
    ARBITRATION = "arbitration", _("Arbitration")  # 劳动/仲裁
    OTHER = "other", _("Other")


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")  # 申请人
    RESPONDENT = "respondent", _("Respondent")  # 被申请人
    OTHER = "other", _("Other party")  # 其他当事人


class SessionMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", _("Face to face")  # 面对面
    SEPARATE = "separate", _("Separately")  # 背对背
    PHONE = "phone", _("By phone")
    VIDEO = "video", _("By video")


class SessionResult(models.TextChoices):
    PROGRESS = "progress", _("Progress, to continue")
    AGREEMENT = "agreement", _("Agreement reached")
    NO_AGREEMENT = "no_agreement", _("No agreement")
    ADJOURNED = "adjourned", _("Adjourned")


class Performance(models.TextChoices):
    """What the performance follow-up (履行回访) found."""

    PERFORMED = "performed", _("Performed")
    PARTLY = "partly", _("Partly performed")
    NOT_PERFORMED = "not_performed", _("Not performed")


class NoticeStatus(models.TextChoices):
    """A police notice's state; written only by ``disputes/workflow.py``."""

    SENT = "sent", _("Sent")  # 已下发
    RECEIVED = "received", _("Received")  # 已签收
    ANSWERED = "answered", _("Answered")  # 已反馈
    CANCELLED = "cancelled", _("Cancelled")


NOTICE_OPEN_STATUSES = (NoticeStatus.SENT, NoticeStatus.RECEIVED)


class NoticeResult(models.TextChoices):
    """The grid's feedback on a police notice (社区回访结果)."""

    RESOLVED = "resolved", _("Resolved on the visit")
    DISPUTE = "dispute", _("Became a dispute (mediation)")
    CASE = "case", _("Became a case")
    NOTHING = "nothing", _("Nothing to do")
