"""Participation (三张清单, seed 002): the needs list, the resources list and the projects list.

A community (or grid, or building) lists what it **needs**; co-building units, schools, companies, party
organisations and volunteer teams list what they can **offer** (resources, with capacity and when they are
available). The system suggests resources for each need (``matching.py``); a staff member confirms a match or a
unit claims a need itself — one **match** holds a need at a time. A match becomes a **project** with milestones and
progress reports; the community confirms its completion (with the residents' satisfaction) and the need closes.

Models are additive: micro-wishes (微心愿) and the public wish wall live beside these in the same app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import Scope, ScopeRule, code_prefix_q, minimal_prefixes
from gongzhi.participation.choices import (
    ACTIVE_MATCH_STATES,
    ClaimantKind,
    MatchState,
    NeedSource,
    NeedStatus,
    ProjectState,
    ResourceKind,
    Urgency,
    WishState,
)


def unit_grounds(body_ids: frozenset[int] | set[int]) -> tuple[str, ...]:
    """The ground a unit may take needs on (``registry.selectors.unit_grounds``: where it sits, and every community
    or the subdistrict it has a co-building agreement in force with), as territory code prefixes."""
    from gongzhi.registry.selectors import unit_grounds as grounds

    return minimal_prefixes(set(grounds(body_ids)))


@dataclass(frozen=True)
class UnitGroundRule(ScopeRule):
    """A place-bound row that a unit also reaches on its ground (:func:`unit_grounds`): the open needs of the
    communities it sits in or has signed with are what it can take on. ``unit_ground``: the path to the row's
    territory code."""

    unit_ground: str = ""

    def q(self, scope: Scope) -> Q:
        q = super().q(scope)
        if scope.everything or not scope.bodies:
            return q
        for prefix in unit_grounds(scope.bodies):
            q |= code_prefix_q(self.unit_ground, prefix)
        return q

    def admits(self, scope: Scope, obj: models.Model) -> bool:
        if super().admits(scope, obj):
            return True
        if scope.is_empty or not scope.bodies:
            return False
        code: Any = obj
        for name in self.unit_ground.split("__"):
            code = getattr(code, name)
        return any(str(code).startswith(prefix) for prefix in unit_grounds(scope.bodies))


class NeedCategory(TimeStampedModel):
    """A kind of need (助老, 儿童课后, 无障碍 …): an editable table (Django admin), the same list for resources."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Words that point to this category, for matching.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("need category")
        verbose_name_plural = _("need categories")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Need(TimeStampedModel):
    """需求清单: what a place needs, who benefits, how urgent, and where the need came from."""

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(NeedCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    place = models.ForeignKey("territory.Node", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    place_code = models.CharField(_("place code"), max_length=32, db_index=True, editable=False)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    beneficiaries = models.CharField(_("beneficiaries"), max_length=120, blank=True)
    beneficiary_count = models.PositiveIntegerField(_("number of beneficiaries"), default=1)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    slots = models.JSONField(_("when help is wanted"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=NeedSource.choices)
    source_case = models.ForeignKey(
        "cases.Case", verbose_name=_("source case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_visit = models.ForeignKey(
        "visits.Visit",
        verbose_name=_("source visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_note = models.CharField(_("source note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    unit = models.ForeignKey(
        "territory.Body",
        verbose_name=_("taken on by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("listed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    scope_rule = UnitGroundRule(unit_ground="place_code", node="place", node_code="place_code", body="unit")

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "place_code"], name="need_status_place")]

    def __str__(self) -> str:
        return self.title


class Resource(TimeStampedModel):
    """资源清单: what a unit offers (a venue, funds, skills, services, goods), how much of it is left, when, where."""

    unit = models.ForeignKey("territory.Body", verbose_name=_("offered by"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ResourceKind.choices)
    category = models.ForeignKey(
        NeedCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    capacity = models.PositiveIntegerField(_("capacity (people served)"), default=1)
    capacity_left = models.PositiveIntegerField(_("capacity left"), default=1)
    slots = models.JSONField(_("available"), default=list, blank=True)
    place = models.ForeignKey("territory.Node", verbose_name=_("where"), on_delete=models.PROTECT, related_name="+")
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    agreement = models.ForeignKey(
        "registry.CoBuildingAgreement",
        verbose_name=_("co-building agreement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("published"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("listed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = ScopeRule(node="place", body="unit", ancestors=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity_left__lte=models.F("capacity")), name="resource_left_le_cap")
        ]

    def __str__(self) -> str:
        return self.title


class Match(TimeStampedModel):
    """A need paired with a unit (and the resource it brings): confirmed by staff or claimed by the unit. At most one
    active match per need — the database refuses a second, so of two units claiming at once one wins."""

    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="matches")
    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), null=True, blank=True, on_delete=models.PROTECT, related_name="matches"
    )
    unit = models.ForeignKey("territory.Body", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=12, choices=MatchState.choices)
    score = models.FloatField(_("score"), null=True, blank=True)
    reasons = models.JSONField(_("why suggested"), default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = ScopeRule(node="need__place", node_code="need__place_code", body="unit")

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["need"], condition=Q(state__in=list(ACTIVE_MATCH_STATES)), name="match_one_active_per_need"
            )
        ]

    def __str__(self) -> str:
        return f"{self.need} ⇄ {self.unit}"


class Project(TimeStampedModel):
    """项目清单: a match carried out — owner, milestones, progress, contributions, people reached, completion."""

    title = models.CharField(_("title"), max_length=120)
    need = models.ForeignKey(Need, verbose_name=_("need"), on_delete=models.PROTECT, related_name="projects")
    match = models.OneToOneField(Match, verbose_name=_("match"), on_delete=models.PROTECT, related_name="project")
    unit = models.ForeignKey(
        "territory.Body", verbose_name=_("carried out by"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    place = models.ForeignKey("territory.Node", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    place_code = models.CharField(_("place code"), max_length=32, db_index=True, editable=False)
    agreement = models.ForeignKey(
        "registry.CoBuildingAgreement",
        verbose_name=_("co-building agreement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=12, choices=ProjectState.choices, default=ProjectState.PLANNED)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2, default=0)
    funds = models.DecimalField(_("funds contributed (yuan)"), max_digits=12, decimal_places=2, default=0)
    hours = models.DecimalField(_("volunteer hours"), max_digits=9, decimal_places=1, default=0)
    people_served = models.PositiveIntegerField(_("beneficiaries reached"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("completion confirmed at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completion confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    surveyed = models.PositiveIntegerField(_("residents asked"), default=0)
    satisfied = models.PositiveIntegerField(_("residents satisfied"), default=0)

    scope_rule = ScopeRule(node="place", node_code="place_code", body="unit")

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="project_progress_le_100"),
            models.CheckConstraint(condition=Q(satisfied__lte=models.F("surveyed")), name="project_satisfied_le_asked"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def satisfaction(self) -> float | None:
        return round(100 * self.satisfied / self.surveyed, 1) if self.surveyed else None


class Milestone(TimeStampedModel):
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=120)
    due = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    scope_rule = ScopeRule(node="project__place", node_code="project__place_code", body="project__unit")

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["project", "order", "id"]

    def __str__(self) -> str:
        return self.title


class ProgressReport(TimeStampedModel):
    """A unit's (or the community's) report on a project: how far, what it took, whom it reached, a photo."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="reports")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    progress = models.PositiveSmallIntegerField(_("progress %"))
    note = models.TextField(_("note"), blank=True)
    hours = models.DecimalField(_("volunteer hours"), max_digits=9, decimal_places=1, default=0)
    funds = models.DecimalField(_("funds (yuan)"), max_digits=12, decimal_places=2, default=0)
    people_served = models.PositiveIntegerField(_("people served"), default=0)
    photo = models.FileField(_("photo"), upload_to="participation/%Y/%m/", blank=True)

    scope_rule = ScopeRule(node="project__place", node_code="project__place_code", body="project__unit")

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_le_100")]

    def __str__(self) -> str:
        return f"{self.project} {self.progress}%"


class Wish(TimeStampedModel):
    """微心愿 (点亮心愿, seed 004): a resident's small wish, recorded by a grid worker with the resident's consent and
    shown on the community's wish wall (心愿墙) **without personal data**: ``public_name`` (the surname's first
    character + 先生/女士), ``age_band`` and the grid's name are all the wall shows. A party member, volunteer or unit
    claims it (one claimant at a time: a conditional update), fulfils it with evidence, and the grid worker confirms
    it for the wisher."""

    title = models.CharField(_("wish"), max_length=60)
    description = models.CharField(_("details (shown publicly, no personal data)"), max_length=300, blank=True)
    category = models.ForeignKey(
        NeedCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey("registry.Person", verbose_name=_("wisher"), on_delete=models.PROTECT, related_name="+")
    consent_note = models.CharField(_("how consent was given"), max_length=120)
    consent_at = models.DateTimeField(_("consent recorded at"))
    public_name = models.CharField(_("shown as"), max_length=8)
    age_band = models.CharField(_("age band"), max_length=16, blank=True)
    place = models.ForeignKey("territory.Node", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    place_code = models.CharField(_("place code"), max_length=32, db_index=True, editable=False)
    community_code = models.CharField(_("community code"), max_length=12, db_index=True, editable=False)
    state = models.CharField(_("state"), max_length=12, choices=WishState.choices, default=WishState.PUBLISHED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimant_kind = models.CharField(_("claimant kind"), max_length=16, choices=ClaimantKind.choices, blank=True)
    claimant_unit = models.ForeignKey(
        "territory.Body",
        verbose_name=_("claiming unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    evidence_note = models.CharField(_("how it was fulfilled"), max_length=300, blank=True)
    evidence_photo = models.FileField(_("photo"), upload_to="participation/wishes/%Y/%m/", blank=True)

    scope_rule = UnitGroundRule(
        unit_ground="place_code", node="place", node_code="place_code", body="claimant_unit", owner="claimant"
    )

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community_code", "state"], name="wish_community_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def days_to_fulfil(self) -> float | None:
        if self.claimed_at is None or self.fulfilled_at is None:
            return None
        return round((self.fulfilled_at - self.created_at).total_seconds() / 86400, 1)
