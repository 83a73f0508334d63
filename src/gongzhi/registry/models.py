"""The resident registry: people, where they live (with history), key-service tags and party membership.

Every row reaches the territory through a household node, so scope is the household's place in the tree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule
from gongzhi.registry.choices import ExportKind, ImportKind, JobState, PartyMemberType, PopulationType, Sex, TagKind


class Person(TimeStampedModel):
    """A resident. Lives in one household at a time (``household``); the history is :class:`Residence`."""

    name = models.CharField(_("name"), max_length=60)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    population_type = models.CharField(
        _("population type"), max_length=16, choices=PopulationType.choices, default=PopulationType.REGISTERED
    )
    household = models.ForeignKey(
        "territory.Node",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": "household"},
        help_text=_("Empty for people not (yet) placed in a household."),
    )
    room = models.CharField(_("room"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(node="household")

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(population_type__in=PopulationType.values), name="person_poptype_valid")
        ]

    def __str__(self) -> str:
        return self.name


class Residence(TimeStampedModel):
    """One stay of a person in a household: moved in, moved out (open while they live there)."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="residences")
    household = models.ForeignKey(
        "territory.Node", verbose_name=_("household"), on_delete=models.PROTECT, related_name="residences"
    )
    moved_in = models.DateField(_("moved in"))
    moved_out = models.DateField(_("moved out"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_rule = ScopeRule(node="household")

    class Meta:
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        ordering = ["person", "-moved_in", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(moved_out__isnull=True), name="residence_one_open_per_person"
            ),
            models.CheckConstraint(
                condition=Q(moved_out__isnull=True) | Q(moved_out__gte=F("moved_in")), name="residence_out_after_in"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.household} ({self.moved_in}–{self.moved_out or ''})"


class PersonTag(TimeStampedModel):
    """A key-service-target tag (重点服务对象) with the dates it applies."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("tag"), max_length=24, choices=TagKind.choices)
    label = models.CharField(_("label"), max_length=60, blank=True, help_text=_("What an 'other' tag means."))
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)

    scope_rule = ScopeRule(node="person__household")

    class Meta:
        verbose_name = _("person tag")
        verbose_name_plural = _("person tags")
        ordering = ["person", "tag", "-since"]
        constraints = [
            models.CheckConstraint(condition=Q(tag__in=TagKind.values), name="persontag_tag_valid"),
            models.CheckConstraint(condition=~Q(tag=TagKind.OTHER) | ~Q(label=""), name="persontag_other_has_label"),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("since")), name="persontag_until_after_since"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.label or self.get_tag_display()}"


class PartyMember(TimeStampedModel):
    """A person's party membership; an on-duty member reports in (双报到) to the community where they live."""

    person = models.OneToOneField(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="party_membership"
    )
    member_type = models.CharField(_("member type"), max_length=16, choices=PartyMemberType.choices)
    branch = models.ForeignKey(
        "territory.PartyOrg",
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    work_unit = models.ForeignKey(
        "territory.Body",
        verbose_name=_("work unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_members",
    )
    reported_in = models.BooleanField(_("reported in (双报到)"), default=False)
    reported_in_on = models.DateField(_("reported in on"), null=True, blank=True)

    scope_rule = ScopeRule(node="person__household")

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["person"]
        constraints = [
            models.CheckConstraint(condition=Q(member_type__in=PartyMemberType.values), name="partymember_type_valid"),
            models.CheckConstraint(
                condition=Q(reported_in=True) | Q(reported_in_on__isnull=True), name="partymember_date_needs_flag"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_member_type_display()})"


class OrgContact(TimeStampedModel):
    """A contact person of an organisation (enterprise, school, hospital, co-building unit …)."""

    body = models.ForeignKey(
        "territory.Body", verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=60)
    title = models.CharField(_("post"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    scope_rule = ScopeRule(node="body__node", body="body", ancestors=True, unplaced=True)

    class Meta:
        verbose_name = _("organisation contact")
        verbose_name_plural = _("organisation contacts")
        ordering = ["body", "-is_primary", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.body})"


class CoBuildingAgreement(TimeStampedModel):
    """A co-building agreement (共建协议): an organisation and a community (or village, or the subdistrict) agree,
    for a period, on what each contributes (resources, services, volunteers, venues)."""

    unit = models.ForeignKey(
        "territory.Body", verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="agreements"
    )
    partner = models.ForeignKey(
        "territory.Node",
        verbose_name=_("community side"),
        on_delete=models.PROTECT,
        related_name="agreements",
        help_text=_("The community, village or subdistrict that signs."),
    )
    party_org = models.ForeignKey(
        "territory.PartyOrg",
        verbose_name=_("party organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    title = models.CharField(_("title"), max_length=120)
    signed_on = models.DateField(_("signed on"))
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"), null=True, blank=True)
    commitments = models.JSONField(
        _("commitments"), default=list, blank=True, help_text=_("What each party commits to, one item per line.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(node="partner", body="unit")

    class Meta:
        verbose_name = _("co-building agreement")
        verbose_name_plural = _("co-building agreements")
        ordering = ["-starts", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__isnull=True) | Q(ends__gte=F("starts")), name="agreement_ends_after"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ImportRun(TimeStampedModel):
    """One registry import: what was asked, what came of it, every bad row, and the bad rows as an XLSX.

    An import is a background job (``registry.tasks.import_registry``; small files run at once in the request):
    ``state`` queued → running → done or failed, ``processed``/``progress`` and ``heartbeat_at`` kept up to date
    while it runs. The uploaded file waits in ``upload`` (a private file, see ``core.uploads``) and is deleted when
    the job ends. The bad-rows XLSX holds the importer's own cells (full ID numbers): only the importer downloads it,
    and it is purged at ``bad_rows_until``."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    good_rows_only = models.BooleanField(_("import the good rows only"), default=True)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices, default=JobState.DONE)
    upload = models.CharField(_("stored upload"), max_length=200, blank=True)
    mapping = models.JSONField(_("column mapping"), null=True, blank=True)
    processed = models.PositiveIntegerField(_("rows done"), default=0)
    progress = models.FloatField(_("progress"), default=0.0)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    message = models.TextField(_("why it failed"), blank=True)
    bad_rows_until = models.DateTimeField(_("bad rows kept until"), null=True, blank=True)
    applied = models.BooleanField(_("applied"), default=False, help_text=_("False when nothing was imported."))
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("bad rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    bad_rows = models.BinaryField(_("bad rows (XLSX)"), null=True, blank=True)
    node_code = models.CharField(_("territory code"), max_length=32, blank=True)

    scope_rule = ScopeRule(code="node_code", owner="actor")

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importrun_kind_valid")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)


class ExportJob(TimeStampedModel):
    """A large export (more rows than ``exports.SYNC_MAX_ROWS``) made by a background job
    (``registry.tasks.export_registry``). The workbook is a private file (``core.uploads``) that only the requester
    downloads, deleted at ``expires_at``. Visible to its requester only."""

    kind = models.CharField(_("kind"), max_length=16, choices=ExportKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    reveal = models.BooleanField(_("reveal"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    file = models.CharField(_("stored file"), max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    revealed = models.PositiveIntegerField(_("revealed"), default=0)
    message = models.TextField(_("why it failed"), blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    scope_rule = ScopeRule(owner="actor")

    class Meta:
        verbose_name = _("registry export")
        verbose_name_plural = _("registry exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ExportKind.values), name="exportjob_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=JobState.values), name="exportjob_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)
