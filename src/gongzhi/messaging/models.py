"""Messaging: the inbox (one ``Message`` per person told something), the sends on other channels (``Delivery``) and
each user's choice of channels (``Preference``). Apps write them through ``messaging.services.notify`` only."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scope import ScopedManager, ScopeRule
from gongzhi.messaging.choices import DeliveryState


class Message(models.Model):
    """One thing one user is told, in their inbox. Its text is kept as a code with values
    (``core.messages.portable``) and shown in the reader's language (``core.messages.stored``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="inbox_messages"
    )
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    text = models.JSONField(_("text"), default=dict)
    link = models.CharField(_("link"), max_length=300, blank=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    urgency = models.CharField(_("urgency"), max_length=1, blank=True)
    dedupe_key = models.CharField(_("de-duplication key"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(owner="user")  # one's own inbox only: nobody sees another person's messages

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="message_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="message_user_unread")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"

    @property
    def body(self) -> str:
        from gongzhi.core.messages import stored

        return stored(self.text)


class Delivery(models.Model):
    """One send of one message on one channel to one address (a phone without an account has no message row)."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=16)
    address = models.CharField(_("address"), max_length=300)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    urgency = models.CharField(_("urgency"), max_length=1, blank=True)
    node_code = models.CharField(_("place code"), max_length=64, blank=True, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_answer = models.TextField(_("last answer"), blank=True)
    provider_id = models.CharField(_("provider's id"), max_length=100, blank=True)
    key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = ScopedManager()
    # Staff see the sends about the places they cover (the object's place), a user the sends of their own messages.
    scope_rule = ScopeRule(code="node_code", owner="message__user")

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}"


class Preference(models.Model):
    """A user's channels besides the inbox, and their quiet hours (no SMS then, except urgency A)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="messaging_preference"
    )
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)
    quiet_start = models.TimeField(_("quiet hours from"), default=datetime.time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=datetime.time(7, 0))

    objects = ScopedManager()
    scope_rule = ScopeRule(owner="user")

    class Meta:
        verbose_name = _("messaging preference")
        verbose_name_plural = _("messaging preferences")

    def __str__(self) -> str:
        return str(self.user_id)
