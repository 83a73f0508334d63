from django.db import models
from django.utils.translation import pgettext_lazy


class Format(models.TextChoices):
    """How a kind of meeting runs (the seeds' 议事会, 联席会议, 听证会, 社情茶社, 网格夜谈会, 说员收分办)."""

    COUNCIL = "council", pgettext_lazy("meetings", "Council")
    JOINT = "joint", pgettext_lazy("meetings", "Joint meeting (rotating chair)")
    HEARING = "hearing", pgettext_lazy("meetings", "Hearing")
    TEAHOUSE = "teahouse", pgettext_lazy("meetings", "Tea-house talk")
    NIGHT_TALK = "night_talk", pgettext_lazy("meetings", "Night talk")
    GRID = "grid", pgettext_lazy("meetings", "Grid deliberation")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("meetings", "Planned")
    HELD = "held", pgettext_lazy("meetings", "Held")
    CANCELLED = "cancelled", pgettext_lazy("meetings", "Cancelled")


class TopicStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("meetings", "Proposed")
    ON_AGENDA = "on_agenda", pgettext_lazy("meetings", "On the agenda")
    DECIDED = "decided", pgettext_lazy("meetings", "Decided")
    DECLINED = "declined", pgettext_lazy("meetings", "Not taken up")


class Track(models.TextChoices):
    """What work a decision became."""

    NONE = "none", pgettext_lazy("meetings", "Not yet tracked")
    CASE = "case", pgettext_lazy("meetings", "Case")
    PROJECT = "project", pgettext_lazy("meetings", "Project of the three lists")
    TASK = "task", pgettext_lazy("meetings", "Task")


class DecisionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("meetings", "Not started")
    IN_PROGRESS = "in_progress", pgettext_lazy("meetings", "In progress")
    DONE = "done", pgettext_lazy("meetings", "Done")
    CANCELLED = "cancelled", pgettext_lazy("meetings", "Dropped")


class SignIn(models.TextChoices):
    QR = "qr", pgettext_lazy("meetings", "QR code on the phone")
    SECRETARY = "secretary", pgettext_lazy("meetings", "Ticked by the secretary")


class ItemSource(models.TextChoices):
    TOPIC = "topic", pgettext_lazy("meetings", "Topic")
    CASE = "case", pgettext_lazy("meetings", "Open case")
    NEED = "need", pgettext_lazy("meetings", "Need")
    DISPUTE = "dispute", pgettext_lazy("meetings", "Dispute")
    OTHER = "other", pgettext_lazy("meetings", "Other")


# The kinds the table starts with (editable afterwards): code, name, format, quorum %, notice days, day of month.
DEFAULT_KINDS = (
    ("council", "阳光议事会", Format.COUNCIL, 50, 0, None),
    ("joint", "三驾马车联席会议", Format.JOINT, 50, 0, None),
    ("hearing", "听证会", Format.HEARING, 0, 7, None),
    ("teahouse", "社情茶社", Format.TEAHOUSE, 0, 0, None),
    ("night_talk", "网格夜谈会", Format.NIGHT_TALK, 0, 0, 15),
    ("grid", "说员收分办", Format.GRID, 0, 0, None),
)
