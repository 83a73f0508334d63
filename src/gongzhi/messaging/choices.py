"""Choices of the messaging app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    """Where one send on one channel stands. ``failed``: the last attempt failed, another one is due."""

    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed, will retry")
    GAVE_UP = "gave_up", _("gave up")
    HELD = "held", _("held for the daily digest")  # its user chose the digest: sent with the day's others
    DIGESTED = "digested", _("sent in a daily digest")  # the digest delivery (``digest``) carried it


class Urgency(models.TextChoices):
    """How urgent a message is: only urgency A is sent by SMS during the quiet hours."""

    NONE = "", _("normal")
    A = "A", _("urgent (A)")
