"""Base models and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scope import ScopedManager, ScopeRule


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """Who did what to which record, with the state before and after. Written only by ``core.audit.record``."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    node_code = models.CharField(_("territory code"), max_length=32, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(code="node_code", owner="actor")

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class RateCount(models.Model):
    """How many requests one client made in one time slot, for one limit (``core.throttle``). A table, not a
    process's memory: every web worker counts in the same rows, and one statement adds to a row atomically."""

    ident = models.CharField(_("client and limit"), max_length=200)
    slot = models.BigIntegerField(_("time slot"))  # seconds since the epoch // the limit's period
    count = models.PositiveIntegerField(_("count"), default=0)
    expires = models.BigIntegerField(_("expires"), db_index=True)  # seconds since the epoch

    objects = ScopedManager()  # no scope rule: nobody reads these rows through a selector

    class Meta:
        verbose_name = _("rate count")
        verbose_name_plural = _("rate counts")
        constraints = [models.UniqueConstraint(fields=["ident", "slot"], name="core_ratecount_ident_slot")]

    def __str__(self) -> str:
        return f"{self.ident} @{self.slot}: {self.count}"


class IdempotencyKey(models.Model):
    """A submission's client-generated key and the answer it got (``core.idempotency``): the same key sent again by
    the same user answers the stored response instead of doing the work twice. The unique constraint is what makes
    concurrent replays safe: the second insert waits for the first transaction and then finds its row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(_("key"), max_length=100)
    scope = models.CharField(_("submission"), max_length=64)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    location = models.CharField(_("location"), max_length=500, blank=True)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    objects: ScopedManager[IdempotencyKey] = ScopedManager()  # no scope rule: read only by core.idempotency

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotencykey_user_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} → {self.status_code}"
