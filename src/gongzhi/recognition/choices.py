from django.db import models
from django.utils.translation import pgettext_lazy


class Subject(models.TextChoices):
    """Who a campaign recognises: households (五星文明户) or people (四最)."""

    HOUSEHOLD = "household", pgettext_lazy("recognition", "Households")
    PERSON = "person", pgettext_lazy("recognition", "People")


class Stage(models.TextChoices):
    """Where a campaign stands; each step is a service (open voting, open review, publish)."""

    NOMINATING = "nominating", pgettext_lazy("recognition", "Nominations open")
    VOTING = "voting", pgettext_lazy("recognition", "Public voting")
    REVIEW = "review", pgettext_lazy("recognition", "Panel review")
    PUBLISHED = "published", pgettext_lazy("recognition", "Results published")


class NominationStatus(models.TextChoices):
    NOMINATED = "nominated", pgettext_lazy("recognition", "Nominated")
    CANDIDATE = "candidate", pgettext_lazy("recognition", "Candidate")
    WITHDRAWN = "withdrawn", pgettext_lazy("recognition", "Withdrawn")
    AWARDED = "awarded", pgettext_lazy("recognition", "Awarded")
    NOT_AWARDED = "not_awarded", pgettext_lazy("recognition", "Not awarded")


class Flag(models.TextChoices):
    """Fraud signals on a vote: shown to the panel, never silently dropped."""

    IP_BURST = "ip_burst", pgettext_lazy("recognition", "Many votes from one address in a short time")
    DEVICE_BURST = "device_burst", pgettext_lazy("recognition", "Many votes from one device in a short time")
    CLOSING_BURST = "closing_burst", pgettext_lazy("recognition", "Burst of votes near closing")
    OUTSIDE_PREFIX = "outside_prefix", pgettext_lazy("recognition", "Phone outside the area's prefixes")


# Statuses that hold a nominee's place in a campaign (a withdrawn nomination frees it).
LIVE = (NominationStatus.NOMINATED, NominationStatus.CANDIDATE, NominationStatus.AWARDED, NominationStatus.NOT_AWARDED)
