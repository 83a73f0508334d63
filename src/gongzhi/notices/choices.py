from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadVia(models.TextChoices):
    LINK = "link", _("Opened the link")
    IN_PERSON = "in_person", _("Confirmed in person")
    PHONE = "phone", _("Confirmed by phone")
