import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlaceKind(models.TextChoices):
    """The kinds of place a checklist is for (a building without a ``Site`` row is residential)."""

    RESIDENTIAL = "residential", _("Residential building")
    SHOP = "shop", _("Shop / street front")
    CONSTRUCTION = "construction", _("Construction site")
    VENUE = "venue", _("Small venue")


class Result(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NA = "na", _("Not applicable")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    SERIOUS = "serious", _("Serious")


SEVERITY_ORDER = [Severity.MINOR, Severity.MAJOR, Severity.SERIOUS]

# Days to rectify a hazard, by severity (the deadline is found + these days; a re-check that finds it unfixed
# gives it the next severity's days again).
RECTIFY_DAYS = {Severity.MINOR: 7, Severity.MAJOR: 3, Severity.SERIOUS: 1}


def rectify_deadline(found: datetime.date, severity: str) -> datetime.date:
    return found + datetime.timedelta(days=RECTIFY_DAYS.get(Severity(severity), 7))


class HazardStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Rectified")


class AssignTo(models.TextChoices):
    GRID_WORKER = "grid_worker", _("The grid's worker")
    BUILDING_HEAD = "building_head", _("The building head")
