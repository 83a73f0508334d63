"""Disputes (矛盾纠纷) and their mediation up the ladder, and the police-station loop (警情通报 + 社区回访).

A dispute's ``status`` and a police notice's ``status`` are written only by ``disputes/workflow.py`` (a test
enforces it). Every dispute has exactly one place (``node``, never null: an unplaceable dispute sits on the
subdistrict, flagged ``unplaced``), as cases do. Disputes are sensitive: the dispute itself is seen on its ground
(the place's grid, community and subdistrict), by its handling body and by its assigned mediators; its parties and
agreements only by the assigned mediators, the handling body or grid and the subdistrict; the sessions' private
notes only by the assigned mediators and the station (the subdistrict and the station tier's body). See
:class:`DisputeRule`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import Scope, ScopedManager, ScopeRule, code_prefix_q, minimal_prefixes
from gongzhi.disputes.choices import (
    NoticeResult,
    NoticeStatus,
    PartyRole,
    Performance,
    ReferralKind,
    Risk,
    SessionMode,
    SessionResult,
    Source,
    Status,
    TierKind,
)

SUBDISTRICT_CODE_LENGTH = 9

ALL = "all"  # the dispute, its timeline, sessions (without notes), escalations, follow-ups
PARTIES = "parties"  # its parties and agreements
NOTES = "notes"  # the sessions' private notes


def _join(path: str, name: str) -> str:
    return f"{path}__{name}" if path else name


@dataclass(frozen=True)
class DisputeRule(ScopeRule):
    """Who reaches a dispute's rows, by ``circle`` (:data:`ALL`, :data:`PARTIES`, :data:`NOTES`); ``via`` is the
    path from the row to its dispute (``""`` for the dispute itself).

    * ALL: the place's subtree (the copy ``place_code``) or its lead body; the handling grid (``handler_code``) or
      its lead body; the handling body; the assigned mediators (``scope.user_id``, on ``view``).
    * PARTIES: the subdistrict (a scope reaching the 9-digit ``subdistrict_code``), the handling grid or body, the
      assigned mediators. A grid or community that is not handling it sees no party (404; the page says how many).
    * NOTES: the subdistrict, the station tier's body (``station_body``), the assigned mediators.
    """

    via: str = ""
    circle: str = ALL

    def q(self, scope: Scope) -> Q:
        if scope.everything:
            return Q()
        d = self.via
        q = Q(pk__in=[])
        prefixes = minimal_prefixes(scope.prefixes)
        paths = ["subdistrict_code"]
        if self.circle == ALL:
            paths = ["place_code", "handler_code"]
            if scope.lead_bodies:
                q |= Q(**{_join(d, "node__lead_body__in"): sorted(scope.lead_bodies)})
        elif self.circle == PARTIES:
            paths = ["subdistrict_code", "handler_code"]
        for path in paths:
            for prefix in prefixes:
                q |= code_prefix_q(_join(d, path), prefix)
        if scope.lead_bodies and self.circle != NOTES:
            q |= Q(**{_join(d, "handler_node__lead_body__in"): sorted(scope.lead_bodies)})
        if scope.bodies:
            body = "station_body" if self.circle == NOTES else "handler_body"
            q |= Q(**{_join(d, f"{body}__in"): sorted(scope.bodies)})
            if self.circle == NOTES:
                q |= Q(**{_join(d, "handler_body__in"): sorted(scope.bodies)}, **{_join(d, "tier_kind"): "station"})
        if scope.user_id:
            assigned = DisputeMediator.objects.filter(
                dispute_id=OuterRef(_join(d, "pk") if d else "pk"), user_id=scope.user_id
            )
            q |= Q(Exists(assigned))
        return q

    def admits(self, scope: Scope, obj: models.Model) -> bool:
        if scope.is_empty:
            return False
        if scope.everything:
            return True
        return type(obj)._default_manager.filter(pk=obj.pk).filter(self.q(scope)).exists()


class DisputeKind(TimeStampedModel):
    """The kinds of dispute (editable in the admin; the defaults are seeded by the app's first migration)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up after (days)"),
        default=30,
        help_text=_("How many days after an agreement its performance is followed up (履行回访)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(everyone=True)

    class Meta:
        verbose_name = _("dispute kind")
        verbose_name_plural = _("dispute kinds")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class LadderTier(TimeStampedModel):
    """A rung of a subdistrict's mediation ladder. A subdistrict without rows uses ``choices.DEFAULT_LADDER``."""

    subdistrict = models.ForeignKey(
        "territory.Node",
        verbose_name=_("subdistrict"),
        on_delete=models.CASCADE,
        related_name="ladder_tiers",
        limit_choices_to={"kind": "subdistrict"},
    )
    level = models.PositiveSmallIntegerField(_("level"))
    kind = models.CharField(_("kind"), max_length=16, choices=TierKind.choices)
    name = models.CharField(_("name"), max_length=120)
    body = models.ForeignKey(
        "territory.Body",
        verbose_name=_("handling body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who takes a dispute at this tier (e.g. the station's mediation team). Empty: the place's grid "
                    "on site, the subdistrict at the station, the body chosen at referral."),
    )

    scope_rule = ScopeRule(node="subdistrict", ancestors=True)

    class Meta:
        verbose_name = _("ladder tier")
        verbose_name_plural = _("ladder tiers")
        ordering = ["subdistrict", "level"]
        constraints = [
            models.UniqueConstraint(fields=["subdistrict", "level"], name="laddertier_unique_level"),
            models.CheckConstraint(condition=Q(kind__in=TierKind.values), name="laddertier_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.level}. {self.name}"


class PoliceNotice(TimeStampedModel):
    """A police notice (警情通报) sent down by a body (the police station, or any body that sends notices down):
    it lands with the grid/community of its place, on a deadline; the grid visits and answers with a result."""

    number = models.CharField(_("notice number"), max_length=24, unique=True)
    from_body = models.ForeignKey(
        "territory.Body", verbose_name=_("from"), on_delete=models.PROTECT, related_name="police_notices"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("what happened"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    happened_at = models.DateTimeField(_("happened at"))
    node = models.ForeignKey("territory.Node", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    place_code = models.CharField(_("place code"), max_length=32, db_index=True)
    unplaced = models.BooleanField(_("location not matched"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    people = models.TextField(_("people involved"), blank=True)
    people_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    ask = models.TextField(_("what the grid should do"))
    due_at = models.DateTimeField(_("answer due"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.SENT)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    result = models.CharField(_("result"), max_length=16, choices=NoticeResult.choices, blank=True)
    feedback = models.TextField(_("feedback"), blank=True)
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The grid/community of the place (and its lead body) see it; the sending body sees its own (and only its own:
    # the police station's handlers reach notices through their body, accounts.policy.PASSED_ONLY).
    scope_rule = ScopeRule(node="node", node_code="place_code", body="from_body")

    class Meta:
        verbose_name = _("police notice")
        verbose_name_plural = _("police notices")
        ordering = ["-happened_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=NoticeStatus.values), name="policenotice_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def answered_on_time(self) -> bool | None:
        if self.answered_at is None:
            return None
        return self.answered_at <= self.due_at


class Dispute(TimeStampedModel):
    number = models.CharField(_("dispute number"), max_length=24, unique=True)
    kind = models.ForeignKey(DisputeKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="disputes")
    summary = models.CharField(_("summary"), max_length=200)
    facts = models.TextField(_("facts and dispute"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED)
    risk = models.CharField(_("risk"), max_length=8, choices=Risk.choices, default=Risk.GREEN)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WALK_IN)
    source_case = models.ForeignKey(
        "cases.Case", verbose_name=_("from case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_notice = models.ForeignKey(
        PoliceNotice, verbose_name=_("from police notice"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="disputes",
    )  # fmt: skip
    linked_cases = models.ManyToManyField("cases.Case", verbose_name=_("linked cases"), blank=True, related_name="+")

    node = models.ForeignKey("territory.Node", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    # Copies of codes written with the place and the handler (services, the workflow): the scope matches on them.
    place_code = models.CharField(_("place code"), max_length=32, db_index=True)
    subdistrict_code = models.CharField(_("subdistrict code"), max_length=32, db_index=True)
    unplaced = models.BooleanField(
        _("location not matched"), default=False, help_text=_("The location matched no grid: the subdistrict holds it.")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)

    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    tier_kind = models.CharField(_("tier kind"), max_length=16, choices=TierKind.choices, default=TierKind.ON_SITE)
    referral_kind = models.CharField(_("referred to"), max_length=16, choices=ReferralKind.choices, blank=True)
    handler_body = models.ForeignKey(
        "territory.Body", verbose_name=_("handling body"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    handler_node = models.ForeignKey(
        "territory.Node", verbose_name=_("handling grid or community"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    handler_code = models.CharField(_("handling place code"), max_length=32, blank=True, default="", db_index=True)
    station_body = models.ForeignKey(
        "territory.Body", verbose_name=_("station"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("The station tier's body of the dispute's subdistrict (sees the notes)."),
    )  # fmt: skip
    mediators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mediators"), through="DisputeMediator", related_name="+", blank=True
    )

    is_repeat = models.BooleanField(
        _("repeat"), default=False, help_text=_("The same parties had a dispute in the year before this one.")
    )
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("repeat of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    received_at = models.DateTimeField(_("received at"), db_index=True)
    started_at = models.DateTimeField(_("mediation started"), null=True, blank=True)
    agreed_at = models.DateTimeField(_("agreement signed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolved_tier = models.PositiveSmallIntegerField(_("solved at tier"), null=True, blank=True)

    scope_rule = DisputeRule()

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="dispute_status_valid"),
            models.CheckConstraint(condition=Q(risk__in=Risk.values), name="dispute_risk_valid"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="dispute_status_received")]

    def __str__(self) -> str:
        return f"{self.number} {self.summary}"


class DisputeMediator(models.Model):
    """A mediator assigned to a dispute (the assigned mediators see its parties and notes)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="mediator_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lead = models.BooleanField(_("lead mediator"), default=False)
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = ScopedManager()
    scope_rule = DisputeRule(via="dispute")

    class Meta:
        verbose_name = _("assigned mediator")
        verbose_name_plural = _("assigned mediators")
        constraints = [models.UniqueConstraint(fields=["dispute", "user"], name="disputemediator_unique")]

    def __str__(self) -> str:
        return f"{self.dispute_id}:{self.user_id}"


class Party(TimeStampedModel):
    """A party to a dispute: a person of the registry, or an outsider (name and contacts kept here)."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=16, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("person"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=60)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_organisation = models.BooleanField(_("organisation"), default=False)

    scope_rule = DisputeRule(via="dispute", circle=PARTIES)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["dispute", "role", "pk"]
        indexes = [
            models.Index(fields=["person"], name="party_person"),
            models.Index(fields=["phone"], name="party_phone"),
            models.Index(fields=["id_number"], name="party_id_number"),
        ]

    def __str__(self) -> str:
        return self.name


class DisputeEvent(models.Model):
    """The dispute's timeline: one row per transition (written by the workflow) and per recorded step."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=60, blank=True)
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = ScopedManager()
    scope_rule = DisputeRule(via="dispute")

    class Meta:
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")
        ordering = ["dispute", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """An explicit, recorded step up the ladder (or a referral out), with its reason."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="escalations")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_tier = models.PositiveSmallIntegerField(_("from tier"))
    to_tier = models.PositiveSmallIntegerField(_("to tier"))
    to_kind = models.CharField(_("to tier kind"), max_length=16, choices=TierKind.choices)
    from_body = models.ForeignKey(
        "territory.Body", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_body = models.ForeignKey("territory.Body", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    referral_kind = models.CharField(_("referred to"), max_length=16, choices=ReferralKind.choices, blank=True)
    reason = models.TextField(_("reason"))
    automatic = models.BooleanField(_("automatic (red risk)"), default=False)

    objects = ScopedManager()
    scope_rule = DisputeRule(via="dispute")

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["dispute", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.from_tier}→{self.to_tier}"


class Session(TimeStampedModel):
    """A mediation session: when, where, how, who mediated, which parties came, and what came of it."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="sessions")
    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    held_at = models.DateTimeField(_("when"), db_index=True)
    where = models.CharField(_("where"), max_length=200, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=SessionMode.choices, default=SessionMode.FACE_TO_FACE)
    mediators = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("mediators"), related_name="+")
    attendees = models.ManyToManyField(Party, verbose_name=_("parties present"), related_name="sessions", blank=True)
    summary = models.TextField(_("summary"), blank=True)
    result = models.CharField(_("result"), max_length=16, choices=SessionResult.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = DisputeRule(via="dispute")

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["dispute", "held_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.held_at:%Y-%m-%d %H:%M}"


class SessionNote(TimeStampedModel):
    """A session's private notes: only the assigned mediators and the station read them."""

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="private_note")
    text = models.TextField(_("private notes"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_rule = DisputeRule(via="session__dispute", circle=NOTES)

    class Meta:
        verbose_name = _("private session note")
        verbose_name_plural = _("private session notes")

    def __str__(self) -> str:
        return f"note of session {self.session_id}"


class Agreement(TimeStampedModel):
    """The 人民调解协议书: parties, facts, agreed terms (each with how and by when it is performed), signatures."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="agreements"
    )
    number = models.CharField(_("agreement number"), max_length=32, unique=True)
    committee = models.CharField(_("mediation committee"), max_length=120)
    facts = models.TextField(_("facts and dispute"))
    # [{"text": "…", "how": "…", "by": "YYYY-MM-DD"}]: each agreed term, how and by when it is performed.
    terms = models.JSONField(_("agreed terms"), default=list)
    performance = models.TextField(_("manner and deadline of performance"), blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by = models.ManyToManyField(Party, verbose_name=_("signed by"), related_name="+", blank=True)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("mediator"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    follow_up_days = models.PositiveSmallIntegerField(_("follow-up after (days)"), default=30)

    scope_rule = DisputeRule(via="dispute", circle=PARTIES)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")
        ordering = ["dispute", "pk"]

    def __str__(self) -> str:
        return self.number


class FollowUp(TimeStampedModel):
    """The performance follow-up (履行回访) due some days after an agreement."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="follow_ups")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("due on"), db_index=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    performance = models.CharField(_("performance"), max_length=16, choices=Performance.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    scope_rule = DisputeRule(via="dispute")

    class Meta:
        verbose_name = _("performance follow-up")
        verbose_name_plural = _("performance follow-ups")
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.due_on}"
