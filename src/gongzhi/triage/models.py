"""Learned triage (issue 23): the model versions trained on the history of who handled what, and renamed bodies.

A :class:`ModelVersion` is one training: its metrics, the span of the history it learned from, when it was made, and
whether it is the one in use (one active version at a time; rollback = activate an older one). The fitted pipelines
live in private storage (``VAR_DIR/private/triage/<file>``), never in the database or under a URL.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule


class ModelVersion(TimeStampedModel):
    source = models.CharField(_("trained from"), max_length=200)  # "cases" or the CSV's file name
    file = models.CharField(_("stored file"), max_length=200)  # a name under the private triage directory
    n = models.PositiveIntegerField(_("tickets"), default=0)
    classes = models.PositiveIntegerField(_("bodies"), default=0)
    threshold = models.FloatField(_("decision threshold"), default=1.01)
    precision_target = models.FloatField(_("precision target"), default=0.95)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    data_from = models.DateTimeField(_("data from"), null=True, blank=True)
    data_to = models.DateTimeField(_("data to"), null=True, blank=True)
    train_seconds = models.FloatField(_("training seconds"), default=0)
    is_active = models.BooleanField(_("active"), default=False)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("triage model version")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="triage_one_active_version"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.pk}"


class BodySuccessor(TimeStampedModel):
    """A body renamed or merged into another (工商局 → 市场监督管理局): the history handled by ``body`` teaches
    ``successor``."""

    body = models.OneToOneField(
        "territory.Body", verbose_name=_("former body"), on_delete=models.CASCADE, related_name="triage_successor"
    )
    successor = models.ForeignKey(
        "territory.Body", verbose_name=_("successor"), on_delete=models.CASCADE, related_name="triage_predecessors"
    )

    scope_rule = ScopeRule(everyone=True)

    def __str__(self) -> str:
        return f"successor {self.pk}"
