"""Messaging: the inbox (one ``Message`` per person told something), the sends on other channels (``Delivery``) and
each user's choice of channels (``Preference``). Apps write them through ``messaging.services.notify`` only."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
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
    digest = models.ForeignKey(
        "self", verbose_name=_("daily digest"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="digested",
    )  # fmt: skip

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
    """A user's channels besides the inbox (always on), their quiet hours (no SMS then, except urgency A) and the
    daily digest (their non-urgent SMS and e-mail as one message a day). A user without a row never chose: the
    defaults of their roles in their subdistrict (:class:`RoleDefault`) apply, else these field defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="messaging_preference"
    )
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)
    quiet_start = models.TimeField(_("quiet hours from"), default=datetime.time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=datetime.time(7, 0))
    digest = models.BooleanField(_("daily digest instead of single messages"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(owner="user")  # one's own only (selectors filter on the user too: admins included)

    class Meta:
        verbose_name = _("messaging preference")
        verbose_name_plural = _("messaging preferences")

    def __str__(self) -> str:
        return str(self.user_id)


class RoleDefault(models.Model):
    """The channels a subdistrict turns on for a role's users who never chose their own (e.g. grid workers SMS,
    department staff e-mail). A user with several roles gets the union of their roles' defaults."""

    node = models.ForeignKey(
        "territory.Node", verbose_name=_("subdistrict"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    sms = models.BooleanField(_("SMS"), default=False)
    email = models.BooleanField(_("e-mail"), default=False)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="node")

    class Meta:
        verbose_name = _("default channels of a role")
        verbose_name_plural = _("default channels of roles")
        ordering = ["node", "role"]
        constraints = [models.UniqueConstraint(fields=["node", "role"], name="roledefault_once_per_role")]

    def __str__(self) -> str:
        return f"{self.role} @ {self.node_id}"


class DutyGroup(models.Model):
    """A body's duty group (值班群) on WeCom: its group robot's webhook URL, told once per body when a case is
    dispatched to the body (or another notice is addressed to it). The URL carries the robot's key: a secret,
    never shown back in full (:attr:`masked`), never copied onto a delivery (the send looks it up)."""

    body = models.OneToOneField(
        "territory.Body", verbose_name=_("body"), on_delete=models.CASCADE, related_name="duty_group"
    )
    webhook_url = models.CharField(_("WeCom group robot webhook URL"), max_length=500)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="body__node", body="body", unplaced=True)

    class Meta:
        verbose_name = _("WeCom duty group")
        verbose_name_plural = _("WeCom duty groups")

    def __str__(self) -> str:
        return f"{self.body_id}: {self.masked}"

    @property
    def masked(self) -> str:
        return mask_secret_url(self.webhook_url)


def mask_secret_url(url: str) -> str:
    """``https://host/path?key=…1a2b``: the host and path, the query's values hidden but their last four characters."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    hidden = "&".join(f"{k}=…{v[-4:] if len(v) > 8 else ''}" for k, v in query)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, hidden, "")) if parts.netloc else "…"
