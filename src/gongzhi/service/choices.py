from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Eligibility(models.TextChoices):
    """Who may claim a post."""

    PARTY = "party", _("Reported-in party members")
    VOLUNTEERS = "volunteers", _("Party members and volunteers")
    ANYONE = "anyone", _("Anyone registered")


class ClaimStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    GIVEN_UP = "given_up", _("Given up")


# The post kinds the table starts with (editable afterwards): 三长五员 and the posts of seed 004.
DEFAULT_KINDS = ("楼道长", "文明劝导", "垃圾分类督导", "助老", "平安巡逻", "政策宣传", "网格支部委员")


class CheckMethod(models.TextChoices):
    """How a volunteer's attendance was taken."""

    QR = "qr", pgettext_lazy("volunteer", "QR code at the venue")
    TICKED = "ticked", pgettext_lazy("volunteer", "ticked by the organiser")
