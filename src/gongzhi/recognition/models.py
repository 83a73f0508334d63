"""Recognition (评选): campaigns such as 五星文明户 (households) or 四最 (people) with their criteria and periods,
nominations of registry households or people, public votes (one per voter per candidate, enforced by a unique
constraint), phone checks of visitors who vote without an account (only a hash of the phone is kept), the panel's
reviews, and the published results with their citations (表彰词)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopedManager, ScopeRule
from gongzhi.recognition.choices import LIVE, NominationStatus, Stage, Subject


class Campaign(TimeStampedModel):
    """A selection run by a subdistrict or community (its place and, optionally, the body that runs it)."""

    title = models.CharField(pgettext_lazy("recognition", "title"), max_length=120)
    subject = models.CharField(pgettext_lazy("recognition", "recognises"), max_length=16, choices=Subject.choices)
    area = models.ForeignKey(
        "territory.Node",
        verbose_name=pgettext_lazy("recognition", "area"),
        on_delete=models.PROTECT,
        related_name="recognition_campaigns",
    )
    owner_body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("recognition", "run by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recognition_campaigns",
    )
    description = models.TextField(pgettext_lazy("recognition", "description"), blank=True)
    # [{"name": "爱党爱国", "max_score": 10 | null}, …]
    criteria = models.JSONField(pgettext_lazy("recognition", "criteria"), default=list)
    nominations_open = models.DateTimeField(pgettext_lazy("recognition", "nominations open"), null=True, blank=True)
    nominations_close = models.DateTimeField(pgettext_lazy("recognition", "nominations close"), null=True, blank=True)
    voting_open = models.DateTimeField(pgettext_lazy("recognition", "voting opens"), null=True, blank=True)
    voting_close = models.DateTimeField(pgettext_lazy("recognition", "voting closes"), null=True, blank=True)
    review_by = models.DateField(pgettext_lazy("recognition", "review by"), null=True, blank=True)
    published_at = models.DateTimeField(pgettext_lazy("recognition", "published at"), null=True, blank=True)
    public_voting = models.BooleanField(pgettext_lazy("recognition", "public voting"), default=False)
    quota = models.PositiveIntegerField(pgettext_lazy("recognition", "winners at most"), default=10)
    # Phone number prefixes (号段) of the area, comma-separated: a verified phone outside them flags its vote.
    phone_prefixes = models.CharField(pgettext_lazy("recognition", "local phone prefixes"), max_length=300, blank=True)
    stage = models.CharField(
        pgettext_lazy("recognition", "stage"), max_length=16, choices=Stage.choices, default=Stage.NOMINATING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("recognition", "created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    # Residents and grid workers below the campaign's area see it too (ancestors); managing it is checked against
    # the area itself (services.manage_rule).
    scope_rule = ScopeRule(node="area", body="owner_body", owner="created_by", ancestors=True)

    class Meta:
        verbose_name = pgettext_lazy("recognition", "recognition campaign")
        verbose_name_plural = pgettext_lazy("recognition", "recognition campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(subject__in=Subject.values), name="recog_campaign_subject"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="recog_campaign_stage"),
            models.CheckConstraint(condition=Q(quota__gte=1), name="recog_campaign_quota_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def criterion_names(self) -> list[str]:
        return [str(c.get("name", "")) for c in self.criteria if c.get("name")]


class PanelMember(TimeStampedModel):
    """A member of a campaign's review panel (评审组)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=pgettext_lazy("recognition", "campaign"), on_delete=models.CASCADE, related_name="panel"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("recognition", "member"),
        on_delete=models.CASCADE,
        related_name="recognition_panels",
    )

    scope_rule = ScopeRule(node="campaign__area", body="campaign__owner_body", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("recognition", "panel member")
        verbose_name_plural = pgettext_lazy("recognition", "panel members")
        ordering = ["campaign", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="recog_panel_once")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.user}"


class Nomination(TimeStampedModel):
    """A household or person of the registry put forward, with the reasons per criterion; staff accept it into the
    candidate list or withdraw it; the panel's decision awards it, with a citation."""

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=pgettext_lazy("recognition", "campaign"),
        on_delete=models.CASCADE,
        related_name="nominations",
    )
    household = models.ForeignKey(
        "territory.Node",
        verbose_name=pgettext_lazy("recognition", "household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recognition_nominations",
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=pgettext_lazy("recognition", "person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recognition_nominations",
    )
    # Where the nominee lives (the household itself, or the person's household): the grid's staff see it.
    place = models.ForeignKey(
        "territory.Node",
        verbose_name=pgettext_lazy("recognition", "place"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reasons = models.JSONField(pgettext_lazy("recognition", "reasons per criterion"), default=dict)
    status = models.CharField(
        pgettext_lazy("recognition", "status"),
        max_length=16,
        choices=NominationStatus.choices,
        default=NominationStatus.NOMINATED,
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("recognition", "nominated by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(pgettext_lazy("recognition", "accepted at"), null=True, blank=True)
    citation = models.TextField(pgettext_lazy("recognition", "citation"), blank=True)
    decided_at = models.DateTimeField(pgettext_lazy("recognition", "decided at"), null=True, blank=True)

    scope_rule = ScopeRule(node="campaign__area", extra_node="place", body="campaign__owner_body", owner="nominated_by")

    class Meta:
        verbose_name = pgettext_lazy("recognition", "nomination")
        verbose_name_plural = pgettext_lazy("recognition", "nominations")
        ordering = ["campaign", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(household__isnull=False) & Q(person__isnull=True))
                | (Q(household__isnull=True) & Q(person__isnull=False)),
                name="recog_nomination_one_subject",
            ),
            models.CheckConstraint(condition=Q(status__in=NominationStatus.values), name="recog_nomination_status"),
            models.UniqueConstraint(
                fields=["campaign", "household"], condition=Q(status__in=LIVE), name="recog_nominate_household_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "person"], condition=Q(status__in=LIVE), name="recog_nominate_person_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.household.name if self.household_id and self.household else self.person)

    @property
    def nominee_name(self) -> str:
        return str(self.household.name) if self.household is not None else str(self.person)


class Vote(models.Model):
    """One public vote for a candidate: by an account (``user``) or a phone-verified visitor (``phone_hash``). The
    voter key ("u:<id>" / "p:<hash>") is unique per candidate: a second vote cannot be stored, however raced."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=pgettext_lazy("recognition", "campaign"), on_delete=models.CASCADE, related_name="votes"
    )
    nomination = models.ForeignKey(
        Nomination,
        verbose_name=pgettext_lazy("recognition", "candidate"),
        on_delete=models.CASCADE,
        related_name="votes",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("recognition", "voter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    phone_hash = models.CharField(pgettext_lazy("recognition", "phone (hashed)"), max_length=64, blank=True)
    voter_key = models.CharField(pgettext_lazy("recognition", "voter"), max_length=80)
    ip = models.GenericIPAddressField(pgettext_lazy("recognition", "address"), null=True, blank=True)
    device = models.CharField(pgettext_lazy("recognition", "device"), max_length=64, blank=True)
    flags = models.JSONField(pgettext_lazy("recognition", "signals"), default=list, blank=True)
    flagged = models.BooleanField(pgettext_lazy("recognition", "flagged"), default=False)
    created_at = models.DateTimeField(pgettext_lazy("recognition", "voted at"), db_index=True)

    objects = ScopedManager()

    scope_rule = ScopeRule(node="campaign__area", body="campaign__owner_body", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("recognition", "vote")
        verbose_name_plural = pgettext_lazy("recognition", "votes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "nomination", "voter_key"], name="recog_vote_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "ip", "created_at"], name="recog_vote_ip"),
            models.Index(fields=["campaign", "device", "created_at"], name="recog_vote_device"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination} · {self.voter_key[:10]}"


class PhoneCheck(models.Model):
    """A 6-digit code sent by SMS to a visitor's phone for one campaign: the phone and the code kept as hashes."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=pgettext_lazy("recognition", "campaign"), on_delete=models.CASCADE, related_name="+"
    )
    phone_hash = models.CharField(pgettext_lazy("recognition", "phone (hashed)"), max_length=64, db_index=True)
    code_hash = models.CharField(pgettext_lazy("recognition", "code (hashed)"), max_length=64)
    outside_prefix = models.BooleanField(pgettext_lazy("recognition", "outside the local prefixes"), default=False)
    attempts = models.PositiveIntegerField(pgettext_lazy("recognition", "attempts"), default=0)
    created_at = models.DateTimeField(pgettext_lazy("recognition", "sent at"))
    expires_at = models.DateTimeField(pgettext_lazy("recognition", "expires at"))
    verified_at = models.DateTimeField(pgettext_lazy("recognition", "verified at"), null=True, blank=True)
    # The verified visitor's voting token, hashed (the token itself lives only in their session or client).
    token_hash = models.CharField(
        pgettext_lazy("recognition", "token (hashed)"), max_length=64, blank=True, db_index=True
    )

    objects = ScopedManager()  # no scope rule: read only by recognition.services (by the phone's hash)

    class Meta:
        verbose_name = pgettext_lazy("recognition", "phone check")
        verbose_name_plural = pgettext_lazy("recognition", "phone checks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.phone_hash[:8]}"


class Review(TimeStampedModel):
    """A panel member's view of one candidate: approve or not, an optional score, a comment."""

    nomination = models.ForeignKey(
        Nomination,
        verbose_name=pgettext_lazy("recognition", "candidate"),
        on_delete=models.CASCADE,
        related_name="reviews",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("recognition", "panel member"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    approve = models.BooleanField(pgettext_lazy("recognition", "approve"), default=False)
    score = models.DecimalField(
        pgettext_lazy("recognition", "score"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    comment = models.CharField(pgettext_lazy("recognition", "comment"), max_length=300, blank=True)

    scope_rule = ScopeRule(node="nomination__campaign__area", body="nomination__campaign__owner_body", owner="member")

    class Meta:
        verbose_name = pgettext_lazy("recognition", "panel review")
        verbose_name_plural = pgettext_lazy("recognition", "panel reviews")
        ordering = ["nomination", "id"]
        constraints = [models.UniqueConstraint(fields=["nomination", "member"], name="recog_review_once")]

    def __str__(self) -> str:
        return f"{self.nomination} · {self.member}"
