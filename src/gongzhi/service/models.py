"""Service posts (岗位) offered by a community, grid or unit; claims (认领) by reported-in party members (双报到)
and volunteers; the service they record, confirmed by the post's owner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule
from gongzhi.service.choices import CheckMethod, ClaimStatus, Eligibility


class PostKind(TimeStampedModel):
    """A kind of post (楼道长, 文明劝导 …): an editable table, the same for the whole system."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("post kind")
        verbose_name_plural = _("post kinds")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Post(TimeStampedModel):
    """A post offered on a place of the territory (community, grid, building), by a body or the place's staff."""

    kind = models.ForeignKey(PostKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(
        "territory.Node", verbose_name=_("where"), on_delete=models.PROTECT, related_name="service_posts"
    )
    owner_body = models.ForeignKey(
        "territory.Body",
        verbose_name=_("offered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_posts",
    )
    schedule = models.CharField(_("when"), max_length=120, help_text=_("e.g. every Saturday 8:00–10:00"))
    capacity = models.PositiveIntegerField(_("places"), default=1)
    eligibility = models.CharField(
        _("who may claim"), max_length=16, choices=Eligibility.choices, default=Eligibility.PARTY
    )
    is_open = models.BooleanField(_("open"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), on_delete=models.PROTECT, related_name="+"
    )

    scope_rule = ScopeRule(node="area", body="owner_body", owner="created_by")

    class Meta:
        verbose_name = _("service post")
        verbose_name_plural = _("service posts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="servicepost_capacity_positive"),
            models.CheckConstraint(condition=Q(eligibility__in=Eligibility.values), name="servicepost_eligibility"),
        ]

    def __str__(self) -> str:
        return self.title


class PersonAccount(TimeStampedModel):
    """The registry person an account speaks for when claiming posts (a party member's or volunteer's log-in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="service_person"
    )
    person = models.OneToOneField(
        "registry.Person", verbose_name=_("person"), on_delete=models.CASCADE, related_name="service_account"
    )

    scope_rule = ScopeRule(node="person__household", owner="user")

    class Meta:
        verbose_name = _("person's account")
        verbose_name_plural = _("people's accounts")
        ordering = ["user"]

    def __str__(self) -> str:
        return f"{self.user} = {self.person}"


class Claim(TimeStampedModel):
    """A person holds one place of a post: active until given up (or the post's owner ends it)."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="claims")
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="service_claims"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.ACTIVE)
    claimed_at = models.DateTimeField(_("claimed at"))
    ended_at = models.DateTimeField(_("given up at"), null=True, blank=True)

    scope_rule = ScopeRule(node="post__area", body="post__owner_body", owner="user")

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "person"], condition=Q(status="active"), name="claim_one_active_per_person"
            ),
            models.CheckConstraint(condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"),
        ]
        indexes = [models.Index(fields=["person", "status"], name="claim_person_status")]

    def __str__(self) -> str:
        return f"{self.person} → {self.post}"


class Service(TimeStampedModel):
    """One time a claimant served the post (date, hours, what was done), confirmed by the post's owner."""

    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="services")
    served_on = models.DateField(_("served on"), db_index=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    note = models.CharField(_("what was done"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    scope_rule = ScopeRule(node="claim__post__area", body="claim__post__owner_body", owner="claim__user")

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0) & Q(hours__lte=24), name="service_hours_range"),
        ]

    def __str__(self) -> str:
        return f"{self.claim} · {self.served_on}"


# --- volunteers (志愿者), teams (志愿服务队), activities (志愿活动) ---------------------------------------------


class VolunteerTeam(TimeStampedModel):
    """A volunteer team (志愿服务队) owned by a community (its place) or a unit (its body)."""

    name = models.CharField(pgettext_lazy("volunteer", "name"), max_length=80)
    area = models.ForeignKey(
        "territory.Node",
        verbose_name=pgettext_lazy("volunteer", "community"),
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
    )
    owner_body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("volunteer", "unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
    )
    description = models.TextField(pgettext_lazy("volunteer", "description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_rule = ScopeRule(node="area", body="owner_body", owner="created_by")

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "volunteer team")
        verbose_name_plural = pgettext_lazy("volunteer", "volunteer teams")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Volunteer(TimeStampedModel):
    """A person of the registry registered as a volunteer: skills, when they are free, their team."""

    person = models.OneToOneField(
        "registry.Person",
        verbose_name=pgettext_lazy("volunteer", "person"),
        on_delete=models.PROTECT,
        related_name="volunteer",
    )
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=pgettext_lazy("volunteer", "team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    skills = models.CharField(pgettext_lazy("volunteer", "skills"), max_length=200, blank=True)
    availability = models.CharField(pgettext_lazy("volunteer", "availability"), max_length=120, blank=True)
    joined_on = models.DateField(pgettext_lazy("volunteer", "joined on"))
    is_active = models.BooleanField(pgettext_lazy("volunteer", "active"), default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=pgettext_lazy("volunteer", "The volunteer's own log-in (from the person's linked account)."),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_rule = ScopeRule(node="person__household", body="team__owner_body", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "volunteer")
        verbose_name_plural = pgettext_lazy("volunteer", "volunteers")
        ordering = ["person__name", "id"]

    def __str__(self) -> str:
        return str(self.person)


class Activity(TimeStampedModel):
    """A volunteer activity (志愿活动): organised by a team or a community, when, where, how many people."""

    title = models.CharField(pgettext_lazy("volunteer", "title"), max_length=120)
    description = models.TextField(pgettext_lazy("volunteer", "description"), blank=True)
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=pgettext_lazy("volunteer", "organising team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    area = models.ForeignKey(
        "territory.Node",
        verbose_name=pgettext_lazy("volunteer", "community"),
        on_delete=models.PROTECT,
        related_name="volunteer_activities",
    )
    owner_body = models.ForeignKey(
        "territory.Body",
        verbose_name=pgettext_lazy("volunteer", "unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer_activities",
    )
    venue = models.CharField(pgettext_lazy("volunteer", "where"), max_length=120)
    starts_at = models.DateTimeField(pgettext_lazy("volunteer", "starts"), db_index=True)
    ends_at = models.DateTimeField(pgettext_lazy("volunteer", "ends"))
    capacity = models.PositiveIntegerField(pgettext_lazy("volunteer", "places"), default=10)
    is_cancelled = models.BooleanField(pgettext_lazy("volunteer", "cancelled"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "organiser"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_rule = ScopeRule(node="area", body="owner_body", owner="created_by")

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "volunteer activity")
        verbose_name_plural = pgettext_lazy("volunteer", "volunteer activities")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title


class SignUp(TimeStampedModel):
    """A volunteer signed up for an activity: their check-in and check-out (QR or ticked by the organiser), the hours
    they served (computed from check-in/out, editable by the organiser) and the organiser's confirmation. Only
    confirmed hours count."""

    activity = models.ForeignKey(
        Activity, verbose_name=pgettext_lazy("volunteer", "activity"), on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=pgettext_lazy("volunteer", "volunteer"),
        on_delete=models.PROTECT,
        related_name="signups",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "signed up by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_up_at = models.DateTimeField(pgettext_lazy("volunteer", "signed up at"))
    cancelled_at = models.DateTimeField(pgettext_lazy("volunteer", "cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(pgettext_lazy("volunteer", "checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(pgettext_lazy("volunteer", "checked out at"), null=True, blank=True)
    check_method = models.CharField(
        pgettext_lazy("volunteer", "checked by"), max_length=8, choices=CheckMethod.choices, blank=True
    )
    hours = models.DecimalField(
        pgettext_lazy("volunteer", "hours"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(pgettext_lazy("volunteer", "confirmed at"), null=True, blank=True)

    scope_rule = ScopeRule(node="activity__area", body="activity__owner_body", owner="user")

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "sign-up")
        verbose_name_plural = pgettext_lazy("volunteer", "sign-ups")
        ordering = ["activity", "signed_up_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_once_per_activity"),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | (Q(hours__gt=0) & Q(hours__lte=24)), name="signup_hours_range"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(hours__isnull=False), name="signup_confirmed_has_hours"
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "confirmed_at"], name="signup_volunteer_confirmed")]

    def __str__(self) -> str:
        return f"{self.volunteer} @ {self.activity}"


class PersonServed(TimeStampedModel):
    """A person of the registry served by an activity or by a volunteer (an elderly person living alone visited…)."""

    person = models.ForeignKey(
        "registry.Person",
        verbose_name=pgettext_lazy("volunteer", "person served"),
        on_delete=models.PROTECT,
        related_name="volunteer_services",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=pgettext_lazy("volunteer", "activity"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="served",
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=pgettext_lazy("volunteer", "volunteer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="served",
    )
    served_on = models.DateField(pgettext_lazy("volunteer", "served on"), db_index=True)
    note = models.CharField(pgettext_lazy("volunteer", "what was done"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("volunteer", "recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_rule = ScopeRule(node="person__household", body="activity__owner_body", owner="recorded_by")

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "person served")
        verbose_name_plural = pgettext_lazy("volunteer", "people served")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(activity__isnull=False) | Q(volunteer__isnull=False), name="served_by_activity_or_volunteer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.served_on}"
