"""Notices (通知): announcements to a place or a tag group, delivered once per household, with read receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager, ScopeRule
from gongzhi.notices.choices import ReadVia


class Notice(TimeStampedModel):
    """One announcement. When a second body sends the same notice to overlapping ground (a village and a community
    over the same houses: 重复通知), it joins this notice as a co-sender and no household gets it twice."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    area = models.ForeignKey(
        "territory.Node", verbose_name=_("sent to"), on_delete=models.PROTECT, related_name="notices"
    )
    tags = models.JSONField(_("key service targets"), default=list, blank=True, help_text=_("Empty: every household."))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sender"), on_delete=models.PROTECT, related_name="+"
    )
    sender_body = models.ForeignKey(
        "territory.Body",
        verbose_name=_("sent on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    published_at = models.DateTimeField(_("published at"), db_index=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, db_index=True, editable=False)

    scope_rule = ScopeRule(node="area", ancestors=True, owner="sender")

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class NoticeSender(models.Model):
    """A body (and user) that sent this notice, to which place; the first sender and every co-sender."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="senders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.ForeignKey(
        "territory.Body", verbose_name=_("body"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey("territory.Node", verbose_name=_("sent to"), on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("sent at"))
    new_households = models.PositiveIntegerField(_("households added"), default=0)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="area", ancestors=True, owner="user")

    class Meta:
        verbose_name = _("notice sender")
        verbose_name_plural = _("notice senders")
        ordering = ["notice", "sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.notice} ← {self.body or self.user}"


class NoticeDelivery(models.Model):
    """The notice as one household receives it: one row per household, whoever sent it how often."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="deliveries")
    household = models.ForeignKey(
        "territory.Node", verbose_name=_("household"), on_delete=models.PROTECT, related_name="notice_deliveries"
    )
    token = models.CharField(_("read link token"), max_length=32, unique=True)
    delivered_at = models.DateTimeField(_("delivered at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True, db_index=True)
    read_via = models.CharField(_("read via"), max_length=16, choices=ReadVia.choices, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager()
    scope_rule = ScopeRule(node="household")

    class Meta:
        verbose_name = _("notice delivery")
        verbose_name_plural = _("notice deliveries")
        ordering = ["notice", "household__code"]
        constraints = [models.UniqueConstraint(fields=["notice", "household"], name="notice_once_per_household")]

    def __str__(self) -> str:
        return f"{self.notice} → {self.household}"
