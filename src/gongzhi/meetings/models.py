"""Meetings (议事): kinds, standing series (a joint meeting's rota of member bodies, a night talk on the 15th), the
meetings held by a body or on a place, topics residents and staff propose, the agenda, attendance, minutes and the
decisions — each decision tracked as a case, a project of the three lists or a task, linked both ways."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule
from gongzhi.meetings.choices import (
    DecisionStatus,
    Format,
    ItemSource,
    MeetingStatus,
    SignIn,
    TopicStatus,
    Track,
)


class MeetingKind(TimeStampedModel):
    """A kind of meeting (editable table): how it runs, its quorum, a hearing's notice period, a recurring day."""

    code = models.SlugField(pgettext_lazy("meetings", "code"), max_length=20, unique=True)
    name = models.CharField(pgettext_lazy("meetings", "name"), max_length=40)
    format = models.CharField(pgettext_lazy("meetings", "format"), max_length=12, choices=Format.choices)
    quorum_percent = models.PositiveSmallIntegerField(
        pgettext_lazy("meetings", "quorum %"),
        default=0,
        help_text=pgettext_lazy("meetings", "Share of invited members who must be present; 0: no quorum."),
    )
    notice_days = models.PositiveSmallIntegerField(pgettext_lazy("meetings", "public notice days"), default=0)
    day_of_month = models.PositiveSmallIntegerField(
        pgettext_lazy("meetings", "held on day of month"), null=True, blank=True
    )
    is_active = models.BooleanField(pgettext_lazy("meetings", "active"), default=True)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = pgettext_lazy("meetings", "meeting kind")
        verbose_name_plural = pgettext_lazy("meetings", "meeting kinds")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(quorum_percent__lte=100), name="meetingkind_quorum_percent"),
            models.CheckConstraint(
                condition=Q(day_of_month__isnull=True) | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="meetingkind_day_of_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Series(TimeStampedModel):
    """A standing meeting: the monthly joint meeting of a community (its rota of member bodies) or a grid's night
    talk on the 15th, planned automatically (``services.plan_recurring``)."""

    kind = models.ForeignKey(
        MeetingKind, verbose_name=pgettext_lazy("meetings", "kind"), on_delete=models.PROTECT, related_name="series"
    )
    title = models.CharField(pgettext_lazy("meetings", "title"), max_length=120)
    place = models.ForeignKey(
        "territory.Node", verbose_name=pgettext_lazy("meetings", "place"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("meetings", "held by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    day_of_month = models.PositiveSmallIntegerField(pgettext_lazy("meetings", "day of month"), null=True, blank=True)
    start_time = models.TimeField(pgettext_lazy("meetings", "starts at"), default="19:00")
    location = models.CharField(pgettext_lazy("meetings", "location"), max_length=120, blank=True)
    is_active = models.BooleanField(pgettext_lazy("meetings", "active"), default=True)

    scope_rule = ScopeRule(node="place", body="body")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "meeting series")
        verbose_name_plural = pgettext_lazy("meetings", "meeting series")
        ordering = ["place__code", "title"]

    def __str__(self) -> str:
        return self.title


class RotaMember(TimeStampedModel):
    """A member body of a joint meeting, in the rota's set order; one that leaves stays in the history (inactive)."""

    series = models.ForeignKey(
        Series, verbose_name=pgettext_lazy("meetings", "series"), on_delete=models.CASCADE, related_name="rota"
    )
    body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("meetings", "member body"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(pgettext_lazy("meetings", "order"))
    is_active = models.BooleanField(pgettext_lazy("meetings", "in the rota"), default=True)

    scope_rule = ScopeRule(node="series__place", body="series__body")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "rota member")
        verbose_name_plural = pgettext_lazy("meetings", "rota members")
        ordering = ["series", "position"]
        constraints = [
            models.UniqueConstraint(fields=["series", "position"], name="rotamember_position_unique"),
            models.UniqueConstraint(fields=["series", "body"], name="rotamember_body_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.series} #{self.position}"


class Meeting(TimeStampedModel):
    kind = models.ForeignKey(
        MeetingKind, verbose_name=pgettext_lazy("meetings", "kind"), on_delete=models.PROTECT, related_name="meetings"
    )
    series = models.ForeignKey(
        Series,
        verbose_name=pgettext_lazy("meetings", "series"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    title = models.CharField(pgettext_lazy("meetings", "title"), max_length=120)
    place = models.ForeignKey(
        "territory.Node", verbose_name=pgettext_lazy("meetings", "place"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("meetings", "held by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    chair_body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("meetings", "chair"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_at = models.DateTimeField(pgettext_lazy("meetings", "starts at"), db_index=True)
    location = models.CharField(pgettext_lazy("meetings", "location"), max_length=120, blank=True)
    status = models.CharField(
        pgettext_lazy("meetings", "status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    notice = models.TextField(pgettext_lazy("meetings", "public notice"), blank=True)
    notice_from = models.DateField(pgettext_lazy("meetings", "notice published on"), null=True, blank=True)
    held_at = models.DateTimeField(pgettext_lazy("meetings", "held at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "planned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_rule = ScopeRule(node="place", body="body")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "meeting")
        verbose_name_plural = pgettext_lazy("meetings", "meetings")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MeetingStatus.values), name="meeting_status_valid"),
        ]
        indexes = [models.Index(fields=["series", "starts_at"], name="meeting_series_starts")]

    def __str__(self) -> str:
        return self.title


class Topic(TimeStampedModel):
    """A topic (议题) proposed for a meeting on a place: by a resident (signed in, or through a grid worker), a grid
    worker or a member. Others support it; staff take it onto a meeting's agenda."""

    place = models.ForeignKey(
        "territory.Node", verbose_name=pgettext_lazy("meetings", "place"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(pgettext_lazy("meetings", "topic"), max_length=120)
    description = models.TextField(pgettext_lazy("meetings", "details"), blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "proposed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposer_name = models.CharField(pgettext_lazy("meetings", "proposer"), max_length=40, blank=True)
    proposer_phone = models.CharField(pgettext_lazy("meetings", "proposer's phone"), max_length=20, blank=True)
    meeting = models.ForeignKey(
        Meeting,
        verbose_name=pgettext_lazy("meetings", "meeting"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="topics",
    )
    status = models.CharField(
        pgettext_lazy("meetings", "status"), max_length=12, choices=TopicStatus.choices, default=TopicStatus.PROPOSED
    )

    scope_rule = ScopeRule(node="place", owner="proposed_by")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "topic")
        verbose_name_plural = pgettext_lazy("meetings", "topics")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=TopicStatus.values), name="topic_status_valid")]

    def __str__(self) -> str:
        return self.title


class Support(TimeStampedModel):
    topic = models.ForeignKey(
        Topic, verbose_name=pgettext_lazy("meetings", "topic"), on_delete=models.CASCADE, related_name="supports"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "supporter"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    scope_rule = ScopeRule(node="topic__place", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "support")
        verbose_name_plural = pgettext_lazy("meetings", "supports")
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="support_once")]

    def __str__(self) -> str:
        return f"{self.user} + {self.topic}"


class AgendaItem(TimeStampedModel):
    """One item of a meeting's agenda: a topic, an open case, a need or a dispute of the place — with its minutes."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=pgettext_lazy("meetings", "meeting"), on_delete=models.CASCADE, related_name="items"
    )
    order = models.PositiveSmallIntegerField(pgettext_lazy("meetings", "order"), default=0)
    title = models.CharField(pgettext_lazy("meetings", "item"), max_length=200)
    source = models.CharField(
        pgettext_lazy("meetings", "from"), max_length=10, choices=ItemSource.choices, default=ItemSource.OTHER
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=pgettext_lazy("meetings", "topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=pgettext_lazy("meetings", "case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    need = models.ForeignKey(
        "participation.Need",
        verbose_name=pgettext_lazy("meetings", "need"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispute = models.ForeignKey(
        "disputes.Dispute",
        verbose_name=pgettext_lazy("meetings", "dispute"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes = models.TextField(pgettext_lazy("meetings", "minutes"), blank=True)

    scope_rule = ScopeRule(node="meeting__place", body="meeting__body")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "agenda item")
        verbose_name_plural = pgettext_lazy("meetings", "agenda items")
        ordering = ["meeting", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Attendance(TimeStampedModel):
    """Who was invited and who came: signed in with the meeting's QR code on the phone, or ticked by the secretary."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=pgettext_lazy("meetings", "meeting"), on_delete=models.CASCADE, related_name="attendance"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "attendee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(pgettext_lazy("meetings", "name"), max_length=40)
    member = models.BooleanField(pgettext_lazy("meetings", "member (counts for the quorum)"), default=False)
    invited = models.BooleanField(pgettext_lazy("meetings", "invited"), default=False)
    present = models.BooleanField(pgettext_lazy("meetings", "present"), default=False)
    signed_in_at = models.DateTimeField(pgettext_lazy("meetings", "signed in at"), null=True, blank=True)
    how = models.CharField(pgettext_lazy("meetings", "signed in by"), max_length=10, choices=SignIn.choices, blank=True)

    scope_rule = ScopeRule(node="meeting__place", body="meeting__body", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "attendance")
        verbose_name_plural = pgettext_lazy("meetings", "attendance")
        ordering = ["meeting", "-member", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(user__isnull=False), name="attendance_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.meeting}"


class Decision(TimeStampedModel):
    """A resolution and the work it became: a case (channel "meeting"), a project of the three lists (through its
    need) or a task with an owner and a due date. Its status and progress follow that work."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=pgettext_lazy("meetings", "meeting"), on_delete=models.CASCADE, related_name="decisions"
    )
    item = models.ForeignKey(
        AgendaItem,
        verbose_name=pgettext_lazy("meetings", "agenda item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    text = models.TextField(pgettext_lazy("meetings", "resolution"))
    votes_for = models.PositiveIntegerField(pgettext_lazy("meetings", "for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(pgettext_lazy("meetings", "against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(pgettext_lazy("meetings", "abstain"), null=True, blank=True)
    track = models.CharField(
        pgettext_lazy("meetings", "tracked as"), max_length=10, choices=Track.choices, default=Track.NONE
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=pgettext_lazy("meetings", "case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_decisions",
    )
    need = models.ForeignKey(
        "participation.Need",
        verbose_name=pgettext_lazy("meetings", "need"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_decisions",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("meetings", "task owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(pgettext_lazy("meetings", "due"), null=True, blank=True)
    status = models.CharField(
        pgettext_lazy("meetings", "status"), max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.OPEN
    )
    progress = models.PositiveSmallIntegerField(pgettext_lazy("meetings", "progress %"), default=0)
    done_at = models.DateTimeField(pgettext_lazy("meetings", "done at"), null=True, blank=True)

    scope_rule = ScopeRule(node="meeting__place", body="meeting__body")

    class Meta:
        verbose_name = pgettext_lazy("meetings", "decision")
        verbose_name_plural = pgettext_lazy("meetings", "decisions")
        ordering = ["meeting", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DecisionStatus.values), name="decision_status_valid"),
            models.CheckConstraint(condition=Q(track__in=Track.values), name="decision_track_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="decision_progress_range"),
        ]

    def __str__(self) -> str:
        return self.text[:40]
