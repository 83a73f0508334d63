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


class Urgency(models.TextChoices):
    """How urgent a message is: only urgency A is sent by SMS during the quiet hours."""

    NONE = "", _("normal")
    A = "A", _("urgent (A)")
