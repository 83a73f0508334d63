"""Territory tree, organisations (bodies), overlapping jurisdictions and the party tree."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import ScopeRule
from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind


class Body(TimeStampedModel):
    """An organisation: residents' or village committee, property company, department, court, co-building unit…"""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32, choices=BodyKind.choices, db_index=True)
    node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("home ground"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="home_bodies",
        help_text=_("Where the body sits. Empty for bodies above the subdistrict (district departments, courts)."),
    )
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = ScopeRule(node="node", body="pk", ancestors=True, unplaced=True)

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="body_unique_kind_name")]

    def __str__(self) -> str:
        return self.name


class Node(TimeStampedModel):
    """A place in the territory tree: subdistrict → community/village → grid → building → household.

    ``code`` is hierarchical (a child's code extends its parent's), so a subtree is a code prefix. Every node has
    exactly one ``lead_body`` — the body answerable for it — enforced by a NOT NULL foreign key that cannot be
    deleted from under it (PROTECT). Other bodies that cover the same ground are :class:`CoJurisdiction` rows.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    lead_body = models.ForeignKey(Body, verbose_name=_("lead body"), on_delete=models.PROTECT, related_name="led_nodes")
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    centroid_lat = models.FloatField(_("latitude"), null=True, blank=True)
    centroid_lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    scope_rule = ScopeRule(node="")

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["code"]
        # A kind in a subtree ("the households under this grid", in code order) is one range of this index; on its
        # own, ``kind`` would pick every household of the subdistrict (SQLite has no statistics to know better).
        indexes = [models.Index(fields=["kind", "code"], name="node_kind_code")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NodeKind.values), name="node_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=NodeKind.SUBDISTRICT) | Q(parent__isnull=False),
                name="node_only_subdistrict_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_boundary(self) -> bool:
        return bool(self.boundary)


class CoJurisdiction(TimeStampedModel):
    """A body that covers a place (and everything under it) beside its lead body (村居融洽: overlapping bodies).

    Co-bodies see and may co-handle what happens on that ground; they never own it.
    """

    node = models.ForeignKey(Node, verbose_name=_("place"), on_delete=models.CASCADE, related_name="co_jurisdictions")
    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="co_jurisdictions")
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_rule = ScopeRule(node="node", body="body")

    class Meta:
        verbose_name = _("co-jurisdiction")
        verbose_name_plural = _("co-jurisdictions")
        constraints = [models.UniqueConstraint(fields=["node", "body"], name="cojurisdiction_unique")]

    def __str__(self) -> str:
        return f"{self.body} ⊕ {self.node}"


class PartyOrg(TimeStampedModel):
    """A party organisation. The party tree mirrors the territory: each org stands on one place."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32, choices=PartyOrgKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    node = models.ForeignKey(Node, verbose_name=_("place"), on_delete=models.PROTECT, related_name="party_orgs")
    secretary_name = models.CharField(_("secretary"), max_length=60, blank=True)

    scope_rule = ScopeRule(node="node", ancestors=True)

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["node__code", "kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=PartyOrgKind.WORKING_COMMITTEE) | Q(parent__isnull=False),
                name="partyorg_only_working_committee_is_root",
            )
        ]

    def __str__(self) -> str:
        return self.name
