from django.db import models
from django.utils.translation import gettext_lazy as _


class Urgency(models.TextChoices):
    LOW = "low", _("Can wait")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("Pressing")
    URGENT = "urgent", _("Urgent")


class NeedSource(models.TextChoices):
    VISIT = "visit", _("Household visit")
    MEETING = "meeting", _("Meeting")
    GRID_WORKER = "grid_worker", _("Grid worker")
    RESIDENT = "resident", _("Resident report")
    CASE = "case", _("Case")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MATCHED = "matched", _("Matched")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("Venue")
    FUNDS = "funds", _("Funds")
    SKILLS = "skills", _("Skills")
    SERVICES = "services", _("Services")
    GOODS = "goods", _("Goods")


class Slot(models.TextChoices):
    """When a resource is available, or when a need wants help (a set of these)."""

    WEEKDAYS = "weekdays", _("weekdays")
    WEEKENDS = "weekends", _("weekends")
    EVENINGS = "evenings", _("evenings")


SLOT_BITS = {Slot.WEEKDAYS: 1, Slot.WEEKENDS: 2, Slot.EVENINGS: 4}


class MatchState(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed by staff")
    CLAIMED = "claimed", _("Claimed by the unit")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A match that holds its need: at most one per need (a partial unique constraint settles claim races).
ACTIVE_MATCH_STATES = (MatchState.CONFIRMED, MatchState.CLAIMED)


class ProjectState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed, awaiting confirmation")
    ACCEPTED = "accepted", _("Completion confirmed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_PROJECT_STATES = (ProjectState.PLANNED, ProjectState.IN_PROGRESS, ProjectState.COMPLETED)
