"""Household visits (走访): campaigns over a target set of households, visit records, recurring care visits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager, ScopeRule
from gongzhi.visits.choices import Outcome


class Campaign(TimeStampedModel):
    """A visit campaign: every household in ``area`` (optionally only those with a resident carrying one of
    ``tags``) is to be visited between ``starts`` and ``ends`` by the assigned grid workers."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(
        "territory.Node", verbose_name=_("area"), on_delete=models.PROTECT, related_name="visit_campaigns"
    )
    tags = models.JSONField(_("key service targets"), default=list, blank=True, help_text=_("Empty: every household."))
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(pgettext_lazy("campaign", "closed at"), null=True, blank=True)

    # ancestors: a grid worker sees the campaigns of their community and subdistrict (they visit for them).
    scope_rule = ScopeRule(node="area", ancestors=True)

    class Meta:
        verbose_name = _("visit campaign")
        verbose_name_plural = _("visit campaigns")
        ordering = ["-starts", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends__gte=F("starts")), name="campaign_ends_after_starts")]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """A household a campaign must reach, who is to visit it, and when it was first covered."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="targets")
    household = models.ForeignKey(
        "territory.Node", verbose_name=_("household"), on_delete=models.PROTECT, related_name="campaign_targets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    covered_at = models.DateTimeField(_("covered at"), null=True, blank=True, db_index=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="household", owner="assignee")

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        ordering = ["campaign", "household__code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "household"], name="target_once_per_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.household}"


class CarePlan(TimeStampedModel):
    """Recurring care visits for a key service target (e.g. weekly for an elderly person living alone)."""

    person = models.ForeignKey(
        "registry.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="care_plans"
    )
    reason = models.CharField(_("reason"), max_length=60, blank=True)
    every_days = models.PositiveSmallIntegerField(_("every (days)"), default=7)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    starts = models.DateField(_("starts"))
    next_due = models.DateField(_("next visit due"), db_index=True)
    last_visited = models.DateField(_("last visited"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(node="person__household", owner="assignee")

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["next_due", "id"]
        constraints = [models.CheckConstraint(condition=Q(every_days__gte=1), name="careplan_every_positive")]

    def __str__(self) -> str:
        return f"{self.person} / {self.every_days}d"


class Visit(TimeStampedModel):
    """One visit to a household: who went, when, what came of it, the needs found (and the case raised)."""

    household = models.ForeignKey(
        "territory.Node", verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits"
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("person visited"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visitor"), on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    care_plan = models.ForeignKey(
        CarePlan, verbose_name=_("care plan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    needs = models.TextField(_("needs found"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case raised"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    gps_accuracy = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)

    scope_rule = ScopeRule(node="household", owner="visitor")

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="visit_outcome_valid")]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_at:%Y-%m-%d}"
