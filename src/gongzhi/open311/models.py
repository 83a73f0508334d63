"""Open311 GeoReport v2 (docs/open311.md): the keys issued to outside client apps, and which case each of their
requests became."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Case
from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node


class ApiKey(TimeStampedModel):
    """A client app's key. Only its SHA-256 is stored; the key itself is shown once, when it is created
    (``services.create_key``: the admin's add form or ``manage.py open311_key create``). Issued for one subdistrict:
    the app reads that subdistrict's requests only."""

    name = models.CharField(_("client name"), max_length=60)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    subdistrict = models.ForeignKey(
        Node,
        verbose_name=_("subdistrict"),
        on_delete=models.PROTECT,
        limit_choices_to={"kind": NodeKind.SUBDISTRICT},
        related_name="open311_keys",
    )
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=60)
    is_active = models.BooleanField(_("active"), default=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key begins"), max_length=8, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    # no scope rule (TimeStampedModel's ScopedManager): kept in the admin, read by the key's hash only

    class Meta:
        verbose_name = _("Open311 key")
        verbose_name_plural = _("Open311 keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class Request(models.Model):
    """A case that came in through Open311: the key it came with and what the client sent besides the case's own
    fields (never shown in an Open311 answer but the media URL)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests")
    email = models.CharField(_("e-mail"), max_length=200, blank=True)
    device_id = models.CharField(_("device id"), max_length=200, blank=True)
    account_id = models.CharField(_("account id"), max_length=200, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager()  # no scope rule: read only together with its case

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self) -> str:
        return f"open311 {self.case_id}"
