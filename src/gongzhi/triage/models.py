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


class AutoDispatch(TimeStampedModel):
    """A subdistrict's switch for the model's own dispatches (issue 23): on, for these categories or these bodies,
    a new case whose top body is above the active version's threshold is dispatched by the model. How often the
    model is trained again (days) is the subdistrict's too."""

    subdistrict = models.OneToOneField(
        "territory.Node", verbose_name=_("subdistrict"), on_delete=models.CASCADE, related_name="triage_auto_dispatch"
    )
    enabled = models.BooleanField(_("dispatch on its own"), default=False)
    categories = models.ManyToManyField("cases.Category", verbose_name=_("for these categories"), blank=True)
    bodies = models.ManyToManyField("territory.Body", verbose_name=_("to these bodies"), blank=True)
    train_every_days = models.PositiveSmallIntegerField(_("train again every (days)"), default=7)

    scope_rule = ScopeRule(node="subdistrict")

    class Meta:
        verbose_name = _("triage auto-dispatch")

    def __str__(self) -> str:
        return f"auto-dispatch {self.subdistrict_id}"


class CaseSuggestion(TimeStampedModel):
    """What the model in use said of a new case when it arrived: its top body and category with their confidence
    (the desk's list shows it; the desk's dispatch is compared with it), and whether the model dispatched it."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="triage_suggestion"
    )
    version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), on_delete=models.SET_NULL, null=True)
    body = models.ForeignKey(
        "territory.Body", verbose_name=_("top body"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence"), default=0)
    words = models.JSONField(_("words that weighed"), default=list, blank=True)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("top category"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    category_confidence = models.FloatField(_("category confidence"), default=0)
    dispatched = models.BooleanField(_("dispatched by the model"), default=False)

    scope_rule = ScopeRule(node="case__node", node_code="case__place_code")

    class Meta:
        verbose_name = _("triage suggestion")

    def __str__(self) -> str:
        return f"suggestion {self.case_id}"


class FeedbackKind(models.TextChoices):
    ACCEPTED = "accepted", _("suggestion taken")
    OVERRIDE = "override", _("dispatched elsewhere")
    RETURNED = "returned", _("model's dispatch returned")


class Feedback(TimeStampedModel):
    """The desk's answer to a suggestion (learning from the desk): the desk dispatched to the top body (accepted) or
    to another (override), or the body the model dispatched to returned the case (returned). The next training
    learns the body that finally handled the case, corrections weighted more."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="triage_feedback"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeedbackKind.choices)
    version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), on_delete=models.SET_NULL, null=True)
    suggested_body = models.ForeignKey(
        "territory.Body", verbose_name=_("suggested body"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.ForeignKey(
        "territory.Body", verbose_name=_("dispatched to"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    confidence = models.FloatField(_("confidence"), default=0)
    actor = models.ForeignKey(
        "accounts.User", verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    scope_rule = ScopeRule(node="case__node", node_code="case__place_code")

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("triage feedback")

    def __str__(self) -> str:
        return f"feedback {self.pk}"
