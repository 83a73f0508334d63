"""Reads of the registry. Every function that serves a user starts from ``restrict(user, action)``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import NotFound
from gongzhi.core.messages import fmt
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q, minimal_prefixes
from gongzhi.registry.models import (
    CoBuildingAgreement,
    ExportJob,
    ImportRun,
    OrgContact,
    PartyMember,
    Person,
    PersonTag,
    Residence,
)
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

# The kinds of bodies the registry keeps as organisations (人地事物组织: the "组织"), with contacts and agreements.
# Bodies that lead places (committees, the subdistrict office) and departments/courts are set up with the territory.
ORGANISATION_KINDS: tuple[str, ...] = (
    BodyKind.CO_BUILDING_UNIT,
    BodyKind.ENTERPRISE,
    BodyKind.SCHOOL,
    BodyKind.HOSPITAL,
    BodyKind.SOCIAL_ORGANISATION,
    BodyKind.PROPERTY_COMPANY,
    BodyKind.OWNERS_COMMITTEE,
)


def person_list(
    *,
    user: User,
    q: str | None = None,
    household_id: int | None = None,
    within_id: int | None = None,
    population_type: str | None = None,
    tag: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Person]:
    qs = (
        Person.objects.restrict(user, "view")
        .select_related("household")
        .prefetch_related(Prefetch("tags", queryset=PersonTag.objects.order_by("tag", "-since")))
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("household__code", root.code))
    if population_type:
        qs = qs.filter(population_type=population_type)
    if tag:
        qs = qs.filter(tags__tag=tag, tags__until__isnull=True).distinct()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(room__icontains=q))
    return qs.order_by("name", "id")


def person_get(*, user: User, person_id: int, action: str = "view") -> Person:
    queryset = Person.objects.select_related(
        "household", "party_membership", "party_membership__branch", "party_membership__work_unit"
    ).prefetch_related(
        Prefetch("tags", queryset=PersonTag.objects.order_by("tag", "-since")),
        Prefetch("residences", queryset=Residence.objects.select_related("household").order_by("-moved_in", "-id")),
    )
    return get_in_scope(Person, user, person_id, action, queryset=queryset)


def household_get(*, user: User, household_id: int) -> Node:
    node = get_in_scope(Node, user, household_id)
    if node.kind != NodeKind.HOUSEHOLD:
        raise NotFound(fmt(_("No household with id %(household_id)s."), household_id=household_id))
    return node


def household_members(*, user: User, household_id: int) -> QuerySet[Person]:
    """The people living in a household now (those the user may see)."""
    household = household_get(user=user, household_id=household_id)
    return person_list(user=user, household_id=household.pk)


def scope_root_code(*, user: User, label: str, action: str) -> str:
    """The user's broadest place for ``label``/``action``: the shortest of their scope's territory codes ("" for
    administrators; for a role held for a body only, the topmost place the body leads). Where an import run and an
    export's audit record are filed, so the staff of that place find them."""
    scope = user.scope_for(label, action)
    if scope.everything:
        return ""
    if scope.prefixes:
        return min(minimal_prefixes(scope.prefixes), key=lambda code: (len(code), code))
    if scope.lead_bodies:  # a role held for a body only: the topmost place that body leads
        led = Node.objects.filter(lead_body_id__in=sorted(scope.lead_bodies)).order_by(Length("code"), "code")
        return led.values_list("code", flat=True).first() or ""
    return ""


# --- tags -----------------------------------------------------------------------------------------------------------


def tag_list(*, user: User, person_id: int, include_ended: bool = True) -> QuerySet[PersonTag]:
    """A person's key-service tags, open ones first, newest first."""
    person = get_in_scope(Person, user, person_id)
    qs = PersonTag.objects.restrict(user, "view").filter(person=person)
    if not include_ended:
        qs = qs.filter(until__isnull=True)
    return qs.order_by(F("until").desc(nulls_first=True), "-since", "-id")


# --- households -----------------------------------------------------------------------------------------------------


def _member_count(user: User) -> Any:
    visible = (
        Person.objects.restrict(user, "view")
        .filter(household=OuterRef("pk"), is_active=True)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(visible, output_field=IntegerField()), Value(0))


def household_list(
    *, user: User, within_id: int | None = None, building_id: int | None = None, q: str | None = None
) -> QuerySet[Node]:
    """Households in scope with ``member_count``: the active residents the user may see."""
    qs = (
        Node.objects.restrict(user, "view")
        .filter(kind=NodeKind.HOUSEHOLD)
        .select_related("parent")
        .annotate(member_count=_member_count(user))
    )
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("code", root.code))
    if building_id is not None:
        qs = qs.filter(parent_id=building_id)
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(code__startswith=q) | Q(address__icontains=q) | Q(parent__name__icontains=q)
        )
    return qs.order_by("code")


def household_detail(*, user: User, household_id: int) -> Node:
    """One household with ``member_count``, its building and ``members`` (the active residents the user may see)."""
    node = household_get(user=user, household_id=household_id)
    # the page's extra attributes, which Node's type does not have (hence the ignores)
    node.member_list = list(person_list(user=user, household_id=node.pk))  # type: ignore[attr-defined]
    node.member_count = len(node.member_list)  # type: ignore[attr-defined]
    if node.parent_id:
        node.parent = Node.objects.filter(pk=node.parent_id).first()
    return node


def household_address(node: Node) -> str:
    """A household's address: its own, else its building's address (or name) and its own name."""
    if node.address:
        return node.address
    building = node.parent if node.parent_id else None
    where = (building.address or building.name) if building is not None else ""
    return f"{where}{node.name}"


# --- party members --------------------------------------------------------------------------------------------------


def party_member_list(
    *,
    user: User,
    member_type: str | None = None,
    branch_id: int | None = None,
    reported_in: bool | None = None,
    within_id: int | None = None,
    q: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[PartyMember]:
    qs = PartyMember.objects.restrict(user, "view").select_related("person", "person__household", "branch", "work_unit")
    if not include_inactive:
        qs = qs.filter(person__is_active=True)
    if member_type:
        qs = qs.filter(member_type=member_type)
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    if reported_in is not None:
        qs = qs.filter(reported_in=reported_in)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("person__household__code", root.code))
    if q:
        qs = qs.filter(Q(person__name__icontains=q) | Q(branch__name__icontains=q) | Q(work_unit__name__icontains=q))
    return qs.order_by("person__name", "person_id")


# --- organisations --------------------------------------------------------------------------------------------------


def organisation_list(
    *,
    user: User,
    kind: str | None = None,
    q: str | None = None,
    within_id: int | None = None,
    include_inactive: bool = False,
) -> QuerySet[Body]:
    """Organisations (the :data:`ORGANISATION_KINDS`) the user may see, with ``contact_count``."""
    qs = (
        Body.objects.restrict(user, "view")
        .filter(kind__in=ORGANISATION_KINDS)
        .select_related("node")
        .annotate(contact_count=Count("contacts", distinct=True))
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("node__code", root.code))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return qs.order_by("kind", "name")


def may_on_body(actor: User, label: str, action: str, body: Body) -> bool:
    """Does ``actor`` hold ``action`` on rows of ``label`` that belong to ``body``: their own body, or a body placed
    in their ground (not above it, nor without a place: those are context to look at, not to edit or reveal).
    The one rule for an organisation's rows: its contacts' single reveal and a revealing export both ask it."""
    scope = actor.scope_for(label, action)
    if scope.everything or body.pk in scope.bodies:
        return True
    node = body.node if body.node_id else None
    return node is not None and scope.covers(node.code, node.lead_body_id)


def organisation_get(*, user: User, body_id: int, action: str = "view") -> Body:
    body = get_in_scope(Body, user, body_id, action, queryset=Body.objects.select_related("node"))
    if body.kind not in ORGANISATION_KINDS:
        raise NotFound(fmt(_("No organisation with id %(body_id)s."), body_id=body_id))
    return body


def contact_list(*, user: User, body_id: int) -> QuerySet[OrgContact]:
    body = organisation_get(user=user, body_id=body_id)
    return OrgContact.objects.restrict(user, "view").filter(body=body).order_by("-is_primary", "name", "id")


def contact_get(*, user: User, contact_id: int, body_id: int | None = None) -> OrgContact:
    row = get_in_scope(OrgContact, user, contact_id, queryset=OrgContact.objects.select_related("body"))
    if (body_id is not None and row.body_id != body_id) or row.body.kind not in ORGANISATION_KINDS:
        raise NotFound(fmt(_("No organisation contact with id %(contact_id)s."), contact_id=contact_id))
    return row


def agreement_list(
    *,
    user: User,
    unit_id: int | None = None,
    partner_id: int | None = None,
    within_id: int | None = None,
    active: bool | None = None,
) -> QuerySet[CoBuildingAgreement]:
    qs = CoBuildingAgreement.objects.restrict(user, "view").select_related("unit", "partner", "party_org")
    if unit_id is not None:
        unit = organisation_get(user=user, body_id=unit_id)
        qs = qs.filter(unit=unit)
    if partner_id is not None:
        qs = qs.filter(partner_id=partner_id)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code_prefix_q("partner__code", root.code))
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-starts", "id")


# The organisations that offer help on a ground of their own (a need taken on, a post, a team, an activity).
UNIT_KINDS: tuple[str, ...] = (
    BodyKind.CO_BUILDING_UNIT,
    BodyKind.ENTERPRISE,
    BodyKind.SCHOOL,
    BodyKind.HOSPITAL,
    BodyKind.SOCIAL_ORGANISATION,
)


def unit_grounds(body_ids: frozenset[int] | set[int]) -> dict[str, int]:
    """The ground of these units (bodies of the kinds in ``UNIT_KINDS``): where each sits (its home place) and the
    community side of each of its co-building agreements in force today, as territory codes, each with its unit."""
    if not body_ids:
        return {}
    today = timezone.localdate()
    ids = sorted(body_ids)
    grounds: dict[str, int] = {}
    signed = (
        CoBuildingAgreement.objects.filter(unit_id__in=ids, unit__kind__in=UNIT_KINDS, is_active=True)
        .filter(Q(ends__isnull=True) | Q(ends__gte=today), starts__lte=today)
        .order_by("-starts", "-pk")
        .values_list("partner__code", "unit_id")
    )
    grounds.update(signed)
    homes = Body.objects.filter(pk__in=ids, kind__in=UNIT_KINDS, node__isnull=False).order_by("-pk")
    grounds.update(homes.values_list("node__code", "pk"))
    return grounds


def partner_ground(*, user: User, label: str, action: str) -> dict[str, int]:
    """The ground on which ``user`` may ``action`` rows of ``label`` through the units they act for (a co-building
    unit's posts, teams and activities): :func:`unit_grounds` of the bodies of that scope."""
    return unit_grounds(user.scope_for(label, action).bodies)


def agreement_get(*, user: User, agreement_id: int, unit_id: int | None = None) -> CoBuildingAgreement:
    queryset = CoBuildingAgreement.objects.select_related("unit", "partner", "party_org")
    row = get_in_scope(CoBuildingAgreement, user, agreement_id, queryset=queryset)
    if unit_id is not None and row.unit_id != unit_id:
        raise NotFound(fmt(_("No co-building agreement with id %(agreement_id)s."), agreement_id=agreement_id))
    return row


# --- imports --------------------------------------------------------------------------------------------------------


def _runs(qs: ScopedQuerySet[ImportRun]) -> ScopedQuerySet[ImportRun]:
    has = ExpressionWrapper(Q(bad_rows__isnull=False), output_field=BooleanField())
    return qs.select_related("actor").defer("bad_rows").annotate(has_bad_rows=has)


def import_run_list(*, user: User, kind: str | None = None) -> QuerySet[ImportRun]:
    """Import runs the user may see: their own and those filed under their ground (``ImportRun.node_code``).
    The bad-rows file is deferred; ``has_bad_rows`` says whether there is one."""
    qs = _runs(ImportRun.objects.restrict(user, "view"))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def import_run_get(*, user: User, run_id: int) -> ImportRun:
    return get_in_scope(ImportRun, user, run_id, queryset=_runs(ImportRun.objects.all()))


def import_run_bad_rows(*, user: User, run_id: int) -> tuple[str, bytes]:
    """The bad rows of a run as (download name, XLSX bytes). They hold the file's own cells (full ID numbers), so
    only the importer gets them: ``NotFound`` for anyone else, when the run has none (or they were purged) or is
    out of scope."""
    run = get_in_scope(ImportRun, user, run_id)
    if run.bad_rows is None or run.actor_id != getattr(user, "pk", None):
        raise NotFound(fmt(_("Import %(run_id)s has no bad-rows file."), run_id=run_id))
    stem = re.sub(r"\.(xlsx|xlsm|csv|txt)$", "", run.file_name or run.kind, flags=re.IGNORECASE)
    return f"{stem}-bad-rows.xlsx", bytes(run.bad_rows)


def export_job_list(*, user: User) -> QuerySet[ExportJob]:
    """The user's own large exports, newest first (nobody else's, not even an administrator's view)."""
    return (
        ExportJob.objects.restrict(user, "view")
        .filter(actor_id=getattr(user, "pk", None))
        .order_by("-created_at", "-id")
    )


def export_job_get(*, user: User, job_id: int) -> ExportJob:
    """One of the user's own exports (``NotFound`` for anyone else's)."""
    job = get_in_scope(ExportJob, user, job_id)
    if job.actor_id != getattr(user, "pk", None):
        raise NotFound(fmt(_("No export %(job_id)s."), job_id=job_id))
    return job


def export_job_file(*, user: User, job_id: int) -> tuple[str, bytes]:
    """The workbook of a finished export, for its requester only; ``NotFound`` while it runs, when it failed or
    after its file was deleted."""
    from gongzhi.core import uploads

    job = export_job_get(user=user, job_id=job_id)
    if not job.file:
        raise NotFound(fmt(_("Export %(job_id)s has no file (not ready, failed or deleted)."), job_id=job_id))
    try:
        return job.file_name or f"export-{job_id}.xlsx", uploads.read(job.file)
    except (OSError, ValueError):
        raise NotFound(fmt(_("Export %(job_id)s has no file (not ready, failed or deleted)."), job_id=job_id)) from None


def occupied_households(*, user: User, area_code: str, tags: list[str] | None = None) -> dict[int, str]:
    """Household id → code for the households under ``area_code`` with at least one active resident the user may
    see; with ``tags``, only those where such a resident carries one of the tags *today*. The target set of a visit
    campaign and the recipients of a notice."""
    from django.utils import timezone

    today = timezone.localdate()
    people = Person.objects.restrict(user, "view").filter(
        code_prefix_q("household__code", area_code), is_active=True, household__kind=NodeKind.HOUSEHOLD
    )
    if tags:
        people = people.filter(
            Q(tags__tag__in=tags), Q(tags__since__lte=today), Q(tags__until__isnull=True) | Q(tags__until__gte=today)
        )
    rows = people.values_list("household_id", "household__code").distinct()
    return {pk: code for pk, code in rows if pk is not None}


def household_past_residents(*, user: User, household: Node, limit: int = 200) -> list[Residence]:
    """Who lived in this household and moved out, newest first (the stays the user may see)."""
    return list(
        Residence.objects.restrict(user, "view")
        .filter(household=household, moved_out__isnull=False)
        .select_related("person")
        .order_by("-moved_out", "-id")[:limit]
    )


def completeness(*, user: User, area_code: str) -> dict[str, int]:
    """How complete the registry is under a place (docs/kpis.md): active residents the user sees, those with both
    an ID number and a phone; households under the place and those with at least one active resident."""
    people = Person.objects.restrict(user, "view").filter(code_prefix_q("household__code", area_code), is_active=True)
    counts = people.aggregate(
        residents=Count("id"),
        complete=Count("id", filter=Q(id_number__isnull=False) & ~Q(id_number="") & ~Q(phone="")),
    )
    households = Node.objects.restrict(user, "view").filter(code_prefix_q("code", area_code), kind=NodeKind.HOUSEHOLD)
    occupied = people.filter(household__kind=NodeKind.HOUSEHOLD).values("household_id").distinct().count()
    return {
        "residents": counts["residents"],
        "complete": counts["complete"],
        "households": households.count(),
        "occupied": occupied,
    }
