"""Cases: problems, requests and complaints, from intake to rating.

A case's ``status`` is written only by ``cases/workflow.py`` (a test enforces it). Every case has exactly one place
(``node``, never null: an unplaceable case sits on the subdistrict, flagged ``unplaced``) and exactly one owning
body (``owner_body``, NOT NULL).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import (
    KIND_WORD,
    CategoryKind,
    Channel,
    ClosedKind,
    DeadlineUnit,
    Rating,
    Status,
    Step,
    Tier,
    Urgency,
)
from gongzhi.core.choices import JobState
from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager, ScopeRule

# Between keywords: spaces and commas, ASCII or Chinese.
KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")


class Category(TimeStampedModel):
    """Two-level taxonomy (大类/小类) with codes, in two kinds: facilities (部件) and events (事件), as in GB/T 30428.2.
    A code is unique within its kind (部件 0101 上水井盖 and 事件 0101 暴露垃圾 are both the standard's codes); a minor
    class has its major class's kind. Editable in the admin."""

    kind = models.CharField(
        _("kind"), max_length=8, choices=CategoryKind.choices, default=CategoryKind.EVENT, db_default=CategoryKind.EVENT
    )
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self", verbose_name=_("major class"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    keywords = models.TextField(
        _("keywords"),
        blank=True,
        default="",
        help_text=_("Plain words people use for it, separated by spaces or commas (e.g. 井盖 窨井盖 下水道盖)."),
    )
    default_urgency = models.CharField(_("default urgency"), max_length=1, choices=Urgency.choices, default=Urgency.B)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="category_kind_code_unique")]

    def __str__(self) -> str:
        name = f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name
        if self.kind == CategoryKind.FACILITY:  # 市容环境 is a major class of both kinds: say which
            return f"{KIND_WORD[CategoryKind.FACILITY]}·{name}"
        return name

    @property
    def keyword_list(self) -> list[str]:
        return [w for w in KEYWORD_SPLIT.split(self.keywords or "") if w]


class DeadlineRule(TimeStampedModel):
    """How long a step may take, per category (or any category) and urgency."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadline_rules",
        help_text=_("Empty: the default for every category."),
    )
    urgency = models.CharField(_("urgency"), max_length=1, choices=Urgency.choices)
    step = models.CharField(_("step"), max_length=16, choices=Step.choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=16, choices=DeadlineUnit.choices)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency", "step"], name="deadline_rule_unique"),
            models.UniqueConstraint(
                fields=["urgency", "step"], condition=Q(category__isnull=True), name="deadline_rule_default_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} {self.urgency} {self.step}: {self.amount} {self.unit}"


class CalendarDay(TimeStampedModel):
    """An exception to the Monday–Friday week: a holiday (not worked) or a make-up working day (调休). Without a
    subdistrict it holds everywhere (the national calendar); with one, only there, and it wins over the national
    row of the same date."""

    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=60, blank=True)
    subdistrict = models.ForeignKey(
        "territory.Node",
        verbose_name=_("subdistrict"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": "subdistrict"},
        help_text=_("Empty: every subdistrict (national holidays and make-up days)."),
    )
    statutory = models.BooleanField(
        _("statutory"),
        default=False,
        help_text=_("Loaded from the State Council's calendar (gongzhi load_holidays); the next load overwrites it."),
    )

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("work calendar")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=Q(subdistrict__isnull=True), name="calendar_day_national"
            ),
            models.UniqueConstraint(fields=["subdistrict", "date"], name="calendar_day_local"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class WorkSchedule(TimeStampedModel):
    """A subdistrict's working hours: the sessions of each working day (e.g. 09:00–12:00 and 13:30–17:30). Deadlines
    in working hours and days of the subdistrict's cases run on them (``cases.calendar``). A subdistrict without a
    schedule, or with one without sessions, works 08:30–17:30."""

    subdistrict = models.OneToOneField(
        "territory.Node",
        verbose_name=_("subdistrict"),
        on_delete=models.CASCADE,
        related_name="work_schedule",
        limit_choices_to={"kind": "subdistrict"},
    )

    scope_rule = ScopeRule(node="subdistrict")

    class Meta:
        verbose_name = _("work schedule")
        verbose_name_plural = _("work schedules")

    def __str__(self) -> str:
        sessions = ", ".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in self.sessions.all())
        return f"{self.subdistrict} {sessions}"


class WorkSession(models.Model):
    """One session of a working day (from ``start`` to ``end``, the same day)."""

    schedule = models.ForeignKey(WorkSchedule, on_delete=models.CASCADE, related_name="sessions")
    start = models.TimeField(_("starts at"))
    end = models.TimeField(_("ends at"))

    objects = ScopedManager()
    scope_rule = ScopeRule(node="schedule__subdistrict")

    class Meta:
        verbose_name = _("working session")
        verbose_name_plural = _("working sessions")
        ordering = ["schedule", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="work_session_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class Case(TimeStampedModel):
    number = models.CharField(_("case number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Single-column indexes a composite index already leads with (category, node, status), or that no query uses
    # alone (channel), are left out: every one costs each insert (docs/performance.md).
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    urgency = models.CharField(_("urgency"), max_length=1, choices=Urgency.choices, default=Urgency.B)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Who exactly, where the channel alone does not say: "Open311 / <client app>" (gongzhi.open311).
    channel_label = models.CharField(_("channel detail"), max_length=80, blank=True, default="", db_default="")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.GRID)

    node = models.ForeignKey(
        "territory.Node", verbose_name=_("place"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    # Copies of the territory codes of ``node`` and ``handler_node``, written with them (intake, the workflow): lists
    # match a subtree on these through an index instead of joining every case to its node (core.scope node_code).
    place_code = models.CharField(_("place code"), max_length=32, blank=True, default="")
    handler_code = models.CharField(_("handling place code"), max_length=32, blank=True, default="")
    unplaced = models.BooleanField(
        _("location not matched"),
        default=False,
        db_index=True,
        help_text=_("The location matched no grid: the subdistrict desk holds it."),
    )
    # A 12345 ticket whose category matched none of ours is taken in anyway (a ticket is never lost): it gets the
    # fallback category, this flag and the text the export gave, and waits on the desk for someone to set its
    # category (``services.confirm_category``).
    category_unconfirmed = models.BooleanField(
        _("category to confirm"),
        default=False,
        help_text=_("The category given matched none of ours: the desk sets it."),
    )
    category_text = models.CharField(_("category as reported"), max_length=120, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The phone's GPS (docs/offline.md): how sure the position is, and a point outside the reporter's own ground —
    # accepted, never refused (they may well have walked over the street), but flagged for the desk to see.
    gps_accuracy = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    outside_reporter_ground = models.BooleanField(
        _("outside the reporter's grid"),
        default=False,
        db_default=False,
        help_text=_("The GPS point lies outside the places of the one who reported it."),
    )

    owner_body = models.ForeignKey(
        "territory.Body", verbose_name=_("owning body"), on_delete=models.PROTECT, related_name="owned_cases"
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cases",
    )
    handler_body = models.ForeignKey(
        "territory.Body",
        verbose_name=_("handling body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    handler_node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("handling grid or community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    dispatcher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatcher"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dispatched_cases",
    )
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    hotline_ticket = models.CharField(_("hotline ticket"), max_length=40, null=True, blank=True, unique=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    due_step = models.CharField(_("clocked step"), max_length=16, choices=Step.choices, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    is_overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    overdue_count = models.PositiveSmallIntegerField(_("missed deadlines"), default=0)
    postponed_until = models.DateTimeField(_("postponed until"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    escalation_count = models.PositiveSmallIntegerField(_("escalations"), default=0)
    fixed_on_spot = models.BooleanField(_("fixed on the spot"), default=False)
    # Facts the KPIs count (docs/kpis.md), written by the workflow when they happen, so no figure has to replay
    # the timeline: was a disposal deadline ever missed, how often postponed, who reported it done, and whether
    # the reporter said at the call-back that someone got in touch.
    disposal_late = models.BooleanField(_("disposal deadline missed"), default=False)
    postpone_count = models.PositiveSmallIntegerField(_("postponements"), default=0)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="disposed_cases",
    )
    responded = models.BooleanField(_("contacted (call-back)"), null=True, blank=True)

    closed_kind = models.CharField(_("closed as"), max_length=16, choices=ClosedKind.choices, blank=True)
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices, blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)

    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    disposed_at = models.DateTimeField(_("disposed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    scope_rule = ScopeRule(
        node="node",
        body="handler_body",
        owner="reporter_user",
        extra_node="handler_node",
        node_code="place_code",
        extra_node_code="handler_code",
    )

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            models.Index(fields=["node", "status"], name="case_node_status"),
            # Plain b-tree indexes: a subtree is a range of codes (core.scope.code_prefix_q), served by them on
            # SQLite and PostgreSQL alike.
            models.Index(fields=["place_code", "status"], name="case_place_code_status"),
            models.Index(fields=["handler_code", "status"], name="case_handler_code_status"),
            models.Index(fields=["category", "status"], name="case_category_status"),
            models.Index(fields=["updated_at"], name="case_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.MERGED) | Q(merged_into__isnull=False), name="case_merged_has_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseEvent(models.Model):
    """One line of a case's timeline: who did what, from which state to which, when, with a note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("by"), max_length=60, blank=True)
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("shown to the reporter"), default=True)
    # The note (not the step) is shown to the reporter only when staff marked it a reply: internal by default.
    reply = models.BooleanField(_("reply to the reporter"), default=False, db_default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(
        node="case__node",
        body="case__handler_body",
        extra_node="case__handler_node",
        node_code="case__place_code",
        extra_node_code="case__handler_code",
    )

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Attachment(TimeStampedModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = ScopeRule(
        node="case__node",
        body="case__handler_body",
        extra_node="case__handler_node",
        node_code="case__place_code",
        extra_node_code="case__handler_code",
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


HotlineImportState = JobState  # a 12345 import job's state: the shared job states


def private_storage() -> Any:
    """Where uploads waiting for a background import are kept: never under ``MEDIA_ROOT``, files mode 0600
    (``core.storage.PrivateStorage``)."""
    from gongzhi.core.storage import PrivateStorage

    return PrivateStorage()


class HotlineImport(TimeStampedModel):
    """A 12345 file too large to import inside a web request: stored, then imported by a background task
    (``tasks.import_hotline``); its progress and outcome, for the hotline page and the API.

    The stored file (reporters' phone numbers) is private (``private_storage``) and deleted when the job ends. While
    it runs the job writes ``heartbeat_at``; a running job whose heartbeat is older than ``hotline.JOB_DEAD_AFTER``
    lost its worker and is marked failed (``services.fail_dead_hotline_imports``).

    The job's state is called ``state``: in this app ``status`` is a case's, written only by the workflow."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="hotline/%Y/%m/", blank=True, storage=private_storage)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    mapping = models.JSONField(_("column mapping"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=HotlineImportState.choices, default=HotlineImportState.QUEUED
    )
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with problems"), default=0)
    progress = models.FloatField(_("share of the file read"), default=0.0)
    errors = models.JSONField(_("problems"), default=list, blank=True, help_text=_("The first problems found."))
    message = models.TextField(_("why it failed"), blank=True)
    node_code = models.CharField(_("territory code"), max_length=32, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    scope_rule = ScopeRule(code="node_code", owner="actor")

    class Meta:
        verbose_name = _("12345 import")
        verbose_name_plural = _("12345 imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=HotlineImportState.values), name="hotlineimport_state_valid")
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (HotlineImportState.QUEUED, HotlineImportState.RUNNING)


class HotlineMapping(TimeStampedModel):
    """The column mapping last used for a source's 12345 files (our field → the file's header), per subdistrict desk
    (``node_code``: the importer's place): offered again, pre-selected, on the next import of that desk."""

    node_code = models.CharField(_("territory code"), max_length=32, unique=True)
    mapping = models.JSONField(_("column mapping"), default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("last set by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = ScopeRule(code="node_code")

    class Meta:
        verbose_name = _("12345 column mapping")
        verbose_name_plural = _("12345 column mappings")

    def __str__(self) -> str:
        return self.node_code


class WorkerBeat(models.Model):
    """A background-task worker's sign of life (``gongzhi task_worker`` writes its row every few seconds): pages that
    wait for the worker say so when no worker has been seen lately (``selectors.worker_alive``)."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), default=0)
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("background worker")
        verbose_name_plural = _("background workers")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"
