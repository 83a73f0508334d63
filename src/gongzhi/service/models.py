"""Service posts (岗位) offered by a community, grid or unit; claims (认领) by reported-in party members (双报到)
and volunteers; the service they record, confirmed by the post's owner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule
from gongzhi.service.choices import ClaimStatus, Eligibility


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
