"""Hazard inspections (安全隐患排查): checklists per kind of place, plans that generate rounds of every building,
the rounds' answers and photos, and the hazards a failed item leaves (with their re-checks) — docs/inspections.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager, ScopeRule
from gongzhi.inspections.choices import AssignTo, HazardStatus, PlaceKind, Severity


class Checklist(TimeStampedModel):
    """What to check at one kind of place, kept by a subdistrict (its ``area``)."""

    area = models.ForeignKey(
        "territory.Node", verbose_name=_("subdistrict"), on_delete=models.PROTECT, related_name="checklists"
    )
    kind = models.CharField(_("kind of place"), max_length=16, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    # ancestors: everyone working under the subdistrict reads its checklists.
    scope_rule = ScopeRule(node="area", ancestors=True)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["area", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PlaceKind.values), name="checklist_kind_valid"),
            models.UniqueConstraint(
                fields=["area", "kind"], condition=Q(is_active=True), name="checklist_one_active_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(TimeStampedModel):
    """One question of a checklist, the law or rule it rests on, and whether a failed answer needs a photo."""

    checklist = models.ForeignKey(
        Checklist, verbose_name=_("checklist"), on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    question = models.CharField(_("question"), max_length=200)
    basis = models.CharField(_("law or rule"), max_length=200, blank=True)
    photo_required = models.BooleanField(_("photo required"), default=False)
    severity = models.CharField(_("default severity"), max_length=8, choices=Severity.choices, default=Severity.MINOR)
    category_code = models.CharField(
        _("case category code"), max_length=16, blank=True, help_text=_("The category of a case this hazard becomes.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(node="checklist__area", ancestors=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(severity__in=Severity.values), name="item_severity_valid")]

    def __str__(self) -> str:
        return self.question


class Site(TimeStampedModel):
    """What kind of place a building is (a shop front, a construction site, a small venue) and who answers for
    it. A building without one is residential."""

    building = models.OneToOneField(
        "territory.Node", verbose_name=_("building"), on_delete=models.CASCADE, related_name="inspection_site"
    )
    kind = models.CharField(_("kind of place"), max_length=16, choices=PlaceKind.choices)
    responsible = models.CharField(_("responsible party"), max_length=60, blank=True)

    scope_rule = ScopeRule(node="building")

    class Meta:
        verbose_name = _("inspection site")
        verbose_name_plural = _("inspection sites")
        constraints = [models.CheckConstraint(condition=Q(kind__in=PlaceKind.values), name="site_kind_valid")]

    def __str__(self) -> str:
        return f"{self.building} ({self.kind})"


class Plan(TimeStampedModel):
    """Rounds of every building of one kind under ``area``, one per period of ``every_months`` months, assigned to
    the grid's worker or to the building head. The scheduler's job generates each period's rounds (idempotent)."""

    area = models.ForeignKey(
        "territory.Node", verbose_name=_("area"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind of place"), max_length=16, choices=PlaceKind.choices)
    every_months = models.PositiveSmallIntegerField(_("every (months)"), default=1)
    assign_to = models.CharField(
        _("assigned to"), max_length=16, choices=AssignTo.choices, default=AssignTo.GRID_WORKER
    )
    starts = models.DateField(_("starts"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_rule = ScopeRule(node="area", ancestors=True)

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["area", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PlaceKind.values), name="plan_kind_valid"),
            models.CheckConstraint(condition=Q(every_months__gte=1, every_months__lte=12), name="plan_every_1_12"),
        ]

    def __str__(self) -> str:
        return self.name


class Round(TimeStampedModel):
    """One inspection of one building for one period: who is to do it, by when, and once done each item's answer
    (``answers``: ``[{"item": id, "result": "pass"|"fail"|"na", "note": ""}]``)."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="rounds")
    checklist = models.ForeignKey(Checklist, verbose_name=_("checklist"), on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        "territory.Node", verbose_name=_("building"), on_delete=models.PROTECT, related_name="inspection_rounds"
    )
    period_start = models.DateField(_("period starts"))
    due = models.DateField(_("due"), db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, db_index=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answers = models.JSONField(_("answers"), default=list, blank=True)
    failed = models.PositiveSmallIntegerField(_("items failed"), default=0)
    note = models.TextField(_("note"), blank=True)
    # The submitting phone's idempotency key: the same submission replayed answers the same round (docs/inspections.md).
    client_key = models.CharField(_("client key"), max_length=64, blank=True)

    scope_rule = ScopeRule(node="building", owner="assignee")

    class Meta:
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "building", "period_start"], name="round_once_per_period"),
            models.UniqueConstraint(
                fields=["done_by", "client_key"], condition=~Q(client_key=""), name="round_client_key_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.period_start:%Y-%m}"


class RoundPhoto(TimeStampedModel):
    """A photo taken on a round, of one item's finding."""

    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="photos")
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="inspections/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = ScopeRule(node="round__building")

    class Meta:
        verbose_name = _("round photo")
        verbose_name_plural = _("round photos")

    def __str__(self) -> str:
        return self.name


class Hazard(TimeStampedModel):
    """A hazard of a building: a failed item of a round (or one reported on its own), to rectify by ``deadline``
    under ``responsible``. A re-check closes it or escalates it; a serious one becomes a case (``case``)."""

    building = models.ForeignKey(
        "territory.Node", verbose_name=_("building"), on_delete=models.PROTECT, related_name="hazards"
    )
    round = models.ForeignKey(
        Round,
        verbose_name=_("found on round"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hazards",
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="hazards"
    )
    title = models.CharField(_("hazard"), max_length=200)
    basis = models.CharField(_("law or rule"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.MINOR)
    status = models.CharField(_("status"), max_length=8, choices=HazardStatus.choices, default=HazardStatus.OPEN)
    found_at = models.DateTimeField(_("found at"), db_index=True)
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("found by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_deadline = models.DateField(_("first rectification deadline"))
    deadline = models.DateField(_("rectification deadline"), db_index=True)
    responsible = models.CharField(_("responsible party"), max_length=60, blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("followed up by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    closed_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    rectified_on_time = models.BooleanField(_("rectified on time"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="hazards"
    )

    scope_rule = ScopeRule(node="building", owner="responsible_user")

    class Meta:
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        ordering = ["-found_at", "-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="hazard_status_deadline")]
        constraints = [
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="hazard_severity_valid"),
            models.CheckConstraint(condition=Q(status__in=HazardStatus.values), name="hazard_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.title}"


class HazardCheck(models.Model):
    """A re-check of a hazard: rectified (closes it) or not (escalates it)."""

    hazard = models.ForeignKey(Hazard, verbose_name=_("hazard"), on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(_("checked at"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rectified = models.BooleanField(_("rectified"))
    note = models.TextField(_("note"), blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="hazard__building")

    class Meta:
        verbose_name = _("hazard re-check")
        verbose_name_plural = _("hazard re-checks")
        ordering = ["checked_at", "id"]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.checked_at:%Y-%m-%d}"
