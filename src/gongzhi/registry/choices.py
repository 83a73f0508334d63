from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.choices import JobState as JobState  # the shared job states (imports, exports)


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class PopulationType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    RESIDENT = "resident", _("Resident, not registered (常住)")
    TEMPORARY = "temporary", _("Temporary (暂住)")
    FLOATING = "floating", _("Floating (流动)")


class TagKind(models.TextChoices):
    """Key service targets (重点服务对象). ``other`` carries a free label (configurable others)."""

    ELDERLY_ALONE = "elderly_alone", pgettext_lazy("key service target", "Elderly living alone")
    ELDERLY = "elderly", pgettext_lazy("key service target", "Elderly")
    CHILD = "child", pgettext_lazy("key service target", "Child")
    DISABLED = "disabled", pgettext_lazy("key service target", "Disabled")
    HARDSHIP = "hardship", pgettext_lazy("key service target", "Hardship")
    OTHER = "other", pgettext_lazy("key service target", "Other")


class PartyMemberType(models.TextChoices):
    COMMUNITY = "community", _("Community")
    ON_DUTY = "on_duty", _("On duty (在职)")
    RETIRED = "retired", _("Retired")
    TWO_NEW = "two_new", _("Two-new organisation (两新)")
    MOBILE = "mobile", _("Mobile (流动)")


class ImportKind(models.TextChoices):
    RESIDENTS = "residents", _("Residents")
    HOUSEHOLDS = "households", _("Households")
    PARTY_MEMBERS = "party_members", _("Party members")
    ORGANISATIONS = "organisations", _("Organisations")


class ExportKind(models.TextChoices):
    PEOPLE = "people", _("Residents")
    PARTY_MEMBERS = "party_members", _("Party members")
