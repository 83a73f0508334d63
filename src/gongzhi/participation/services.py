"""Writes of the three lists: list a need (or turn a case into one), publish a resource, confirm a match (staff) or
claim a need (a unit), report progress, confirm a project's completion.

Every function takes the acting user explicitly (keyword-only arguments), runs in one transaction, writes an audit
row and tells the people concerned through ``messaging.services.notify`` (inside the transaction).

**One match holds a need.** A staff confirmation and a unit's claim both lock the need's row, check that it is still
open and write the match; the partial unique index ``match_one_active_per_need`` refuses a second active match
even if two transactions got past the check at once. The loser gets a 409 ``conflict`` naming who took the need.
A match becomes a project at once (state ``planned``), linked to the unit's co-building agreement with the need's
community when there is one; the resource's capacity left shrinks by the need's beneficiaries (at most to 0).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import ancestor_codes
from gongzhi.messaging.services import Recipient, notify
from gongzhi.participation import selectors
from gongzhi.participation.choices import (
    MatchState,
    NeedSource,
    NeedStatus,
    ProjectState,
    ResourceKind,
    Slot,
    Urgency,
)
from gongzhi.participation.models import (
    Match,
    Milestone,
    Need,
    NeedCategory,
    ProgressReport,
    Project,
    Resource,
    Wish,
    unit_grounds,
)
from gongzhi.registry.models import CoBuildingAgreement
from gongzhi.registry.selectors import UNIT_KINDS
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

NEED_FIELDS = ["title", "category_id", "place_id", "beneficiary_count", "urgency", "source", "status", "unit_id"]
RESOURCE_FIELDS = ["title", "unit_id", "kind", "category_id", "capacity", "capacity_left", "place_id", "is_active"]
PROJECT_FIELDS = ["state", "progress", "hours", "funds", "people_served", "surveyed", "satisfied"]
NEED_PLACE_KINDS = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID, NodeKind.BUILDING)
DEFAULT_MILESTONES = (_("Plan agreed with the community"), _("Service under way"), _("Residents' feedback gathered"))


def ensure_categories() -> int:
    """The default need categories (as migration 0002 seeds them), where missing: for a database flushed by a test
    or built before the app. Reference data, no audit. Returns how many were added."""
    from gongzhi.participation.choices import DEFAULT_CATEGORIES

    added = 0
    for order, (code, name, keywords) in enumerate(DEFAULT_CATEGORIES, start=1):
        _row, made = NeedCategory.objects.get_or_create(
            code=code, defaults={"name": name, "keywords": keywords, "order": order}
        )
        added += made
    return added


def _now() -> datetime.datetime:
    return timezone.now()


def _category(category_id: int | None, details: list[ErrorDetail], required: bool = True) -> NeedCategory | None:
    if category_id is None:
        if required:
            details.append(ErrorDetail(field="category_id", message=_("This field is required.")))
        return None
    category = NeedCategory.objects.filter(pk=category_id, is_active=True).first()
    if category is None:
        details.append(ErrorDetail(field="category_id", message=_("no such category")))
    return category


def _slots(slots: list[str] | None, details: list[ErrorDetail]) -> list[str]:
    slots = list(dict.fromkeys(slots or []))
    bad = [s for s in slots if s not in Slot.values]
    if bad:
        details.append(ErrorDetail(field="slots", message=fmt(_("unknown time %(value)s"), value=", ".join(bad))))
    return [s for s in slots if s in Slot.values]


def _text(value: str, name: str, limit: int, details: list[ErrorDetail], required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        details.append(ErrorDetail(field=name, message=_("This field is required.")))
    elif len(value) > limit:
        details.append(ErrorDetail(field=name, message=fmt(_("at most %(limit)s characters"), limit=limit)))
    return value


def _community_code(code: str) -> str:
    return code[:12]


def _staff_of(place_code: str) -> list[int]:
    """The community staff of the community (or village) the place lies in: who hears about its needs."""
    community = _community_code(place_code)
    rows = RoleAssignment.objects.filter(
        role=Role.COMMUNITY_STAFF, is_active=True, user__is_active=True, node__code=community
    )
    return sorted(set(rows.values_list("user_id", flat=True)))


def _unit_users(unit_id: int) -> list[int]:
    rows = RoleAssignment.objects.filter(
        role=Role.CO_BUILDING_UNIT, is_active=True, user__is_active=True, body_id=unit_id
    )
    return sorted(set(rows.values_list("user_id", flat=True)))


# --- needs ----------------------------------------------------------------------------------------------------------


def create_need(
    *,
    actor: User,
    title: str,
    category_id: int,
    place_id: int,
    description: str = "",
    beneficiaries: str = "",
    beneficiary_count: int = 1,
    urgency: str = Urgency.NORMAL,
    slots: list[str] | None = None,
    source: str = NeedSource.GRID_WORKER,
    source_note: str = "",
    source_visit_id: int | None = None,
    source_case_id: int | None = None,
) -> Need:
    """List a need (需求清单) on a community, grid or building of the actor's ground."""
    details: list[ErrorDetail] = []
    title = _text(title, "title", 120, details)
    description = _text(description, "description", 4000, details, required=False)
    beneficiaries = _text(beneficiaries, "beneficiaries", 120, details, required=False)
    source_note = _text(source_note, "source_note", 200, details, required=False)
    category = _category(category_id, details)
    if beneficiary_count < 1 or beneficiary_count > 100_000:
        details.append(ErrorDetail(field="beneficiary_count", message=_("between 1 and 100,000")))
    if urgency not in Urgency.values:
        details.append(ErrorDetail(field="urgency", message=_("not a valid choice")))
    if source not in NeedSource.values:
        details.append(ErrorDetail(field="source", message=_("not a valid choice")))
    kept_slots = _slots(slots, details)
    place = Node.objects.filter(pk=place_id).first()
    if place is None or not Node.objects.restrict(actor, "view").filter(pk=place_id).exists():
        raise NotFound(fmt(_("No place with id %(pk)s."), pk=place_id))
    if place.kind not in NEED_PLACE_KINDS:
        details.append(ErrorDetail(field="place_id", message=_("a need belongs to a community, grid or building")))
    elif not reaches(actor, "participation.need", "add", place):
        raise Forbidden(fmt(_("You may not list needs for %(place)s."), place=place.name))
    visit_id = None
    if source_visit_id is not None:
        from gongzhi.visits.models import Visit

        visit = get_in_scope(Visit, actor, source_visit_id)
        visit_id = visit.pk
    if details:
        raise ValidationFailed(_("The need cannot be listed."), details)
    assert category is not None
    with transaction.atomic():
        need = Need.objects.create(
            title=title,
            description=description,
            category=category,
            place=place,
            place_code=place.code,
            lat=place.centroid_lat,
            lng=place.centroid_lng,
            beneficiaries=beneficiaries,
            beneficiary_count=beneficiary_count,
            urgency=urgency,
            slots=kept_slots,
            source=source,
            source_note=source_note,
            source_visit_id=visit_id,
            source_case_id=source_case_id,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="participation.need_created",
            obj=need,
            node_code=place.code,
            after=audit.snapshot(need, NEED_FIELDS),
        )
    return need


def need_from_case(
    *,
    actor: User,
    case_id: int,
    category_id: int,
    beneficiaries: str = "",
    beneficiary_count: int = 1,
    urgency: str = Urgency.NORMAL,
    slots: list[str] | None = None,
) -> Need:
    """Turn a case into a need (a resident's report that is a need, not a fault): its title, text and place, the
    case linked as the source."""
    from gongzhi.cases.models import Case

    case = get_in_scope(Case, actor, case_id, queryset=Case.objects.select_related("node"))
    if Need.objects.filter(source_case_id=case.pk).exclude(status=NeedStatus.WITHDRAWN).exists():
        raise Conflict(fmt(_("Case %(number)s is already on the needs list."), number=case.number))
    place = case.node
    while place.kind not in NEED_PLACE_KINDS and place.parent_id is not None:  # a household's need is its building's
        place = Node.objects.get(pk=place.parent_id)
    return create_need(
        actor=actor,
        title=case.title[:120],
        description=case.description,
        category_id=category_id,
        place_id=place.pk,
        beneficiaries=beneficiaries,
        beneficiary_count=beneficiary_count,
        urgency=urgency,
        slots=slots,
        source=NeedSource.CASE,
        source_note=case.number,
        source_case_id=case.pk,
    )


def withdraw_need(*, actor: User, need_id: int) -> Need:
    with transaction.atomic():
        need = get_in_scope(Need, actor, need_id, "change", queryset=Need.objects.select_for_update())
        if need.status != NeedStatus.OPEN:
            raise Conflict(_("Only an open need can be withdrawn."))
        before = audit.snapshot(need, NEED_FIELDS)
        need.status = NeedStatus.WITHDRAWN
        need.closed_at = _now()
        need.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(
            actor=actor, action="participation.need_withdrawn", obj=need, node_code=need.place_code, before=before,
            after=audit.snapshot(need, NEED_FIELDS),
        )  # fmt: skip
    return need


# --- resources ------------------------------------------------------------------------------------------------------


def _unit_for(actor: User, unit_id: int, label: str, action: str) -> Body:
    """The unit the actor acts for (a unit's own user) or one in their scope (staff listing for a unit)."""
    unit = Body.objects.filter(pk=unit_id).first()
    if unit is None or not Body.objects.restrict(actor, "view").filter(pk=unit_id).exists():
        raise NotFound(fmt(_("No organisation with id %(pk)s."), pk=unit_id))
    if unit.kind not in UNIT_KINDS:
        raise ValidationFailed(
            _("Only a co-building unit, school, company, hospital or social organisation offers resources."),
            [ErrorDetail(field="unit_id", message=_("not a unit"))],
        )
    scope = actor.scope_for(label, action)
    if not (scope.everything or unit.pk in scope.bodies or scope.prefixes):
        raise Forbidden(fmt(_("You may not act for %(unit)s."), unit=unit.name))
    return unit


def _agreement(unit_id: int, place_code: str) -> CoBuildingAgreement | None:
    """The unit's active co-building agreement that covers this place (its community's, or the subdistrict's)."""
    codes = [*ancestor_codes(place_code), place_code]
    rows = CoBuildingAgreement.objects.filter(unit_id=unit_id, is_active=True, partner__code__in=codes)
    return rows.order_by("-partner__code", "-starts", "-id").first()


def create_resource(
    *,
    actor: User,
    unit_id: int,
    title: str,
    kind: str,
    place_id: int,
    description: str = "",
    category_id: int | None = None,
    capacity: int = 1,
    slots: list[str] | None = None,
    contact_name: str = "",
    contact_phone: str = "",
) -> Resource:
    """Publish a resource (资源清单) a unit offers: a unit's own user, or staff on the unit's behalf."""
    details: list[ErrorDetail] = []
    title = _text(title, "title", 120, details)
    description = _text(description, "description", 4000, details, required=False)
    contact_name = _text(contact_name, "contact_name", 60, details, required=False)
    contact_phone = _text(contact_phone, "contact_phone", 20, details, required=False)
    if contact_phone and not contact_phone.replace("-", "").isdigit():
        details.append(ErrorDetail(field="contact_phone", message=_("digits only")))
    if kind not in ResourceKind.values:
        details.append(ErrorDetail(field="kind", message=_("not a valid choice")))
    category = _category(category_id, details, required=False)
    if capacity < 1 or capacity > 1_000_000:
        details.append(ErrorDetail(field="capacity", message=_("between 1 and 1,000,000")))
    kept_slots = _slots(slots, details)
    unit = _unit_for(actor, unit_id, "participation.resource", "add")
    place = Node.objects.filter(pk=place_id).first()
    scope = actor.scope_for("participation.resource", "add")
    own_unit = unit.pk in scope.bodies
    # A unit offers on its ground (where it sits, and the communities it signed with); staff on theirs.
    on_unit_ground = place is not None and own_unit and any(place.code.startswith(p) for p in unit_grounds({unit.pk}))
    if place is None or not (on_unit_ground or Node.objects.restrict(actor, "view").filter(pk=place_id).exists()):
        raise NotFound(fmt(_("No place with id %(pk)s."), pk=place_id))
    if not on_unit_ground and not reaches(actor, "participation.resource", "add", place):
        raise Forbidden(fmt(_("You may not publish resources at %(place)s."), place=place.name))
    if details:
        raise ValidationFailed(_("The resource cannot be published."), details)
    with transaction.atomic():
        res = Resource.objects.create(
            unit=unit,
            title=title,
            description=description,
            kind=kind,
            category=category,
            capacity=capacity,
            capacity_left=capacity,
            slots=kept_slots,
            place=place,
            lat=place.centroid_lat,
            lng=place.centroid_lng,
            contact_name=contact_name or unit.contact_name,
            contact_phone=contact_phone or unit.contact_phone,
            agreement=_agreement(unit.pk, place.code),
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="participation.resource_published",
            obj=res,
            node_code=place.code,
            after=audit.snapshot(res, RESOURCE_FIELDS),
        )
    return res


def set_resource_published(*, actor: User, resource_id: int, published: bool) -> Resource:
    with transaction.atomic():
        res = get_in_scope(Resource, actor, resource_id, "change", queryset=Resource.objects.select_for_update())
        before = audit.snapshot(res, RESOURCE_FIELDS)
        res.is_active = published
        res.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor, action="participation.resource_changed", obj=res, node_code=res.place.code, before=before,
            after=audit.snapshot(res, RESOURCE_FIELDS),
        )  # fmt: skip
    return res


def reveal_contact(*, actor: User, resource_id: int) -> str:
    """The resource's contact phone in full (audited)."""
    res = get_in_scope(Resource, actor, resource_id, "reveal")
    audit.record(actor=actor, action="participation.contact_revealed", obj=res, node_code=res.place.code)
    return res.contact_phone


# --- matches and claims ---------------------------------------------------------------------------------------------


def _take(
    *,
    actor: User,
    need: Need,
    unit: Body,
    resource: Resource | None,
    state: str,
    score: float | None,
    reasons: list[Any],
) -> Project:
    """Write the match that holds the need, and its project (the caller holds the need's row lock)."""
    holder = selectors.active_match(need=need)
    if need.status != NeedStatus.OPEN or holder is not None:
        taken_by = holder.unit.name if holder is not None else (need.unit.name if need.unit else "")
        raise Conflict(
            fmt(_("This need has already been taken on by %(unit)s."), unit=taken_by or "—"),
            [ErrorDetail(field="need_id", message=fmt(_("status: %(status)s"), status=need.get_status_display()))],
        )
    if resource is not None:
        if resource.unit_id != unit.pk:
            raise ValidationFailed(
                _("The resource belongs to another unit."),
                [ErrorDetail(field="resource_id", message=_("not this unit's resource"))],
            )
        if not resource.is_active or resource.capacity_left <= 0:
            raise Conflict(
                fmt(_("%(resource)s has no capacity left."), resource=resource.title),
                [ErrorDetail(field="resource_id", message=_("no capacity left"))],
            )
    now = _now()
    try:
        with transaction.atomic():
            match = Match.objects.create(
                need=need, resource=resource, unit=unit, state=state, score=score, reasons=reasons, actor=actor
            )
    except IntegrityError:  # another transaction's match got in first (match_one_active_per_need)
        raise Conflict(_("This need has just been taken on by another unit.")) from None
    if resource is not None:
        resource.capacity_left = max(0, resource.capacity_left - need.beneficiary_count)
        resource.save(update_fields=["capacity_left", "updated_at"])
    before = audit.snapshot(need, NEED_FIELDS)
    need.status = NeedStatus.MATCHED
    need.unit = unit
    need.save(update_fields=["status", "unit", "updated_at"])
    project = Project.objects.create(
        title=need.title,
        need=need,
        match=match,
        unit=unit,
        owner=actor if state == MatchState.CLAIMED else None,
        place=need.place,
        place_code=need.place_code,
        agreement=(resource.agreement if resource is not None and resource.agreement_id else None)
        or _agreement(unit.pk, need.place_code),
        state=ProjectState.PLANNED,
    )
    with translation.override(settings.LANGUAGE_CODE):  # stored text, in the site's language (not the caller's)
        titles = [str(title) for title in DEFAULT_MILESTONES]
    Milestone.objects.bulk_create([Milestone(project=project, title=t, order=i) for i, t in enumerate(titles, start=1)])
    audit.record(
        actor=actor,
        action=f"participation.need_{state}",
        obj=need,
        node_code=need.place_code,
        before=before,
        after={**audit.snapshot(need, NEED_FIELDS), "match_id": match.pk, "project_id": project.pk},
    )
    link = f"/participation/projects/{project.pk}/"
    if state == MatchState.CLAIMED:
        notify(
            actor=actor,
            recipients=[Recipient(uid) for uid in _staff_of(need.place_code)],
            kind="participation.claimed",
            text=_("%(unit)s took on the need “%(need)s”."),
            params={"unit": unit.name, "need": need.title},
            link=link,
            obj=need,
            dedupe=f"need:{need.pk}:match:{match.pk}",
            now=now,
        )
    else:
        notify(
            actor=actor,
            recipients=[Recipient(uid) for uid in _unit_users(unit.pk)],
            kind="participation.matched",
            text=_("The community matched the need “%(need)s” to your unit: the project has begun."),
            params={"need": need.title},
            link=link,
            obj=need,
            dedupe=f"need:{need.pk}:match:{match.pk}",
            now=now,
        )
    return project


def _reasons_for(user: User, need: Need, resource: Resource | None) -> tuple[float | None, list[Any]]:
    """The suggestion's score and reasons for this pair, kept on the match (as portable messages)."""
    from gongzhi.core.messages import portable
    from gongzhi.participation import matching

    if resource is None:
        return None, []
    scored = matching.score_all([selectors.need_row(need)], [selectors.resource_row(resource)], selectors.done_counts())
    if not scored.resources or scored.score.size == 0:
        return None, []
    found = matching.for_each_need(scored, 1).get(need.pk, [])
    if not found:
        return None, []
    return found[0].score, [portable(r) for r in found[0].reasons]


def confirm_match(*, actor: User, need_id: int, resource_id: int) -> Project:
    """A staff member confirms a suggested (or any) resource for a need: the match and its project."""
    with transaction.atomic():
        need = get_in_scope(Need, actor, need_id, queryset=Need.objects.select_for_update())
        if not selectors.may(user=actor, label="participation.match", action="add", place_code=need.place_code):
            raise Forbidden(_("Only the community's staff confirm a match."))
        resource = get_in_scope(Resource, actor, resource_id, queryset=Resource.objects.select_for_update())
        need = Need.objects.select_related("category", "place", "unit").get(pk=need.pk)
        score, reasons = _reasons_for(actor, need, resource)
        unit = Body.objects.get(pk=resource.unit_id)
        return _take(
            actor=actor, need=need, unit=unit, resource=resource, state=MatchState.CONFIRMED, score=score,
            reasons=reasons,
        )  # fmt: skip


def claim_need(*, actor: User, need_id: int, unit_id: int | None = None, resource_id: int | None = None) -> Project:
    """A unit claims a need itself (认领). Of two units claiming at once, one wins and the other gets a 409."""
    units = selectors.my_units(user=actor)
    if unit_id is None and len(units) == 1:
        unit_id = units[0].pk
    unit = next((u for u in units if u.pk == unit_id), None)
    if unit is None:
        raise Forbidden(_("Only a co-building unit claims a need, for itself."))
    with transaction.atomic():
        need = get_in_scope(Need, actor, need_id, queryset=Need.objects.select_for_update())
        need = Need.objects.select_related("category", "place", "unit").get(pk=need.pk)
        resource = None
        if resource_id is not None:
            resource = get_in_scope(Resource, actor, resource_id, queryset=Resource.objects.select_for_update())
        score, reasons = _reasons_for(actor, need, resource)
        return _take(
            actor=actor, need=need, unit=unit, resource=resource, state=MatchState.CLAIMED, score=score,
            reasons=reasons,
        )  # fmt: skip


# --- projects -------------------------------------------------------------------------------------------------------


def _project_for_update(actor: User, project_id: int, action: str = "change") -> Project:
    return get_in_scope(Project, actor, project_id, action, queryset=Project.objects.select_for_update())


def report_progress(
    *,
    actor: User,
    project_id: int,
    progress: int,
    note: str = "",
    hours: Decimal | float | int = 0,
    funds: Decimal | float | int = 0,
    people_served: int = 0,
    milestones_done: list[int] | None = None,
    photo: UploadedFile[Any] | None = None,
) -> ProgressReport:
    """The unit (or the community) reports on a project: progress %, hours, funds, people served, a photo, milestones
    done. 100 % reports the project completed; the community then confirms it (:func:`accept_project`)."""
    details: list[ErrorDetail] = []
    note = _text(note, "note", 2000, details, required=False)
    hours_d, funds_d = Decimal(str(hours or 0)), Decimal(str(funds or 0))
    if not 0 <= progress <= 100:
        details.append(ErrorDetail(field="progress", message=_("between 0 and 100")))
    if hours_d < 0 or hours_d > 100_000:
        details.append(ErrorDetail(field="hours", message=_("between 0 and 100,000")))
    if funds_d < 0 or funds_d > 100_000_000:
        details.append(ErrorDetail(field="funds", message=_("between 0 and 100,000,000")))
    if people_served < 0 or people_served > 100_000:
        details.append(ErrorDetail(field="people_served", message=_("between 0 and 100,000")))
    if photo is not None and not (photo.content_type or "").startswith("image/"):
        details.append(ErrorDetail(field="photo", message=_("a photo (an image file)")))
    with transaction.atomic():
        project = _project_for_update(actor, project_id)
        if project.state not in (ProjectState.PLANNED, ProjectState.IN_PROGRESS):
            raise Conflict(
                fmt(_("The project is %(state)s: no more progress reports."), state=project.get_state_display())
            )
        if progress < project.progress:
            details.append(ErrorDetail(field="progress", message=fmt(_("not below %(now)s%%"), now=project.progress)))
        if details:
            raise ValidationFailed(_("The progress report cannot be saved."), details)
        before = audit.snapshot(project, PROJECT_FIELDS)
        now = _now()
        report = ProgressReport.objects.create(
            project=project,
            author=actor,
            progress=progress,
            note=note,
            hours=hours_d,
            funds=funds_d,
            people_served=people_served,
        )
        if photo is not None:
            report.photo.save(photo.name or "photo.jpg", photo, save=True)
        if milestones_done:
            Milestone.objects.filter(project=project, pk__in=milestones_done, done_at__isnull=True).update(done_at=now)
        project.progress = progress
        project.hours += hours_d
        project.funds += funds_d
        project.people_served += people_served
        if project.started_at is None:
            project.started_at = now
        project.state = ProjectState.IN_PROGRESS
        if progress == 100:
            project.state = ProjectState.COMPLETED
            project.completed_at = now
            Milestone.objects.filter(project=project, done_at__isnull=True).update(done_at=now)
        project.save()
        audit.record(
            actor=actor,
            action="participation.progress_reported",
            obj=project,
            node_code=project.place_code,
            before=before,
            after=audit.snapshot(project, PROJECT_FIELDS),
        )
        if project.state == ProjectState.COMPLETED:
            notify(
                actor=actor,
                recipients=[Recipient(uid) for uid in _staff_of(project.place_code)],
                kind="participation.completed",
                text=_("The project “%(project)s” reports completion: please confirm it."),
                params={"project": project.title},
                link=f"/participation/projects/{project.pk}/",
                obj=project,
                dedupe=f"project:{project.pk}:completed",
                now=now,
            )
    return report


def add_milestone(*, actor: User, project_id: int, title: str, due: datetime.date | None = None) -> Milestone:
    details: list[ErrorDetail] = []
    title = _text(title, "title", 120, details)
    if details:
        raise ValidationFailed(_("The milestone cannot be added."), details)
    with transaction.atomic():
        project = _project_for_update(actor, project_id)
        last = Milestone.objects.filter(project=project).order_by("-order").values_list("order", flat=True).first()
        milestone = Milestone.objects.create(project=project, title=title, due=due, order=(last or 0) + 1)
        audit.record(
            actor=actor, action="participation.milestone_added", obj=milestone, node_code=project.place_code,
            after={"title": title, "due": str(due or "")},
        )  # fmt: skip
    return milestone


def accept_project(*, actor: User, project_id: int, surveyed: int, satisfied: int) -> Project:
    """The community confirms a project's completion, with the residents' satisfaction (how many were asked, how
    many were satisfied). The need closes."""
    details: list[ErrorDetail] = []
    if surveyed < 0 or surveyed > 100_000:
        details.append(ErrorDetail(field="surveyed", message=_("between 0 and 100,000")))
    if satisfied < 0 or satisfied > surveyed:
        details.append(ErrorDetail(field="satisfied", message=_("between 0 and the residents asked")))
    with transaction.atomic():
        project = _project_for_update(actor, project_id, "view")
        if not selectors.may(user=actor, label="participation.project", action="change", place_code=project.place_code):
            raise Forbidden(_("Only the community confirms a project's completion."))
        if project.state != ProjectState.COMPLETED:
            raise Conflict(
                fmt(
                    _("The project is %(state)s: only a completed project is confirmed."),
                    state=project.get_state_display(),
                )
            )
        if details:
            raise ValidationFailed(_("The completion cannot be confirmed."), details)
        before = audit.snapshot(project, PROJECT_FIELDS)
        now = _now()
        project.state = ProjectState.ACCEPTED
        project.accepted_at = now
        project.accepted_by = actor
        project.surveyed = surveyed
        project.satisfied = satisfied
        project.save()
        Need.objects.filter(pk=project.need_id).update(status=NeedStatus.CLOSED, closed_at=now, updated_at=now)
        audit.record(
            actor=actor,
            action="participation.project_accepted",
            obj=project,
            node_code=project.place_code,
            before=before,
            after=audit.snapshot(project, PROJECT_FIELDS),
        )
        notify(
            actor=actor,
            recipients=[Recipient(uid) for uid in _unit_users(project.unit_id)],
            kind="participation.accepted",
            text=_("The community confirmed the completion of “%(project)s”. Thank you!"),
            params={"project": project.title},
            link=f"/participation/projects/{project.pk}/",
            obj=project,
            dedupe=f"project:{project.pk}:accepted",
            now=now,
        )
    return project


def cancel_project(*, actor: User, project_id: int) -> Project:
    """Staff call a project off: the match is withdrawn and the need is open again for another unit."""
    with transaction.atomic():
        project = _project_for_update(actor, project_id, "view")
        if not selectors.may(user=actor, label="participation.project", action="change", place_code=project.place_code):
            raise Forbidden(_("Only the community calls a project off."))
        if project.state not in (ProjectState.PLANNED, ProjectState.IN_PROGRESS):
            raise Conflict(fmt(_("The project is %(state)s."), state=project.get_state_display()))
        before = audit.snapshot(project, PROJECT_FIELDS)
        project.state = ProjectState.CANCELLED
        project.save(update_fields=["state", "updated_at"])
        Match.objects.filter(pk=project.match_id).update(state=MatchState.WITHDRAWN)
        Need.objects.filter(pk=project.need_id).update(status=NeedStatus.OPEN, unit=None)
        audit.record(
            actor=actor, action="participation.project_cancelled", obj=project, node_code=project.place_code,
            before=before, after=audit.snapshot(project, PROJECT_FIELDS),
        )  # fmt: skip
    return project


# --- micro-wishes (微心愿 / 点亮心愿) ---------------------------------------------------------------------------

WISH_FIELDS = ["title", "state", "place_id", "claimant_id", "claimant_kind", "claimant_unit_id"]
WISH_PLACE_KINDS = (NodeKind.GRID, NodeKind.BUILDING, NodeKind.HOUSEHOLD)


def _public_name(person: Any) -> str:
    """The surname's first character and 先生/女士 (or 居民 when the sex is not known): all the wall shows of a name."""
    from gongzhi.registry.choices import Sex

    first = (person.name or "").strip()[:1] or "*"
    title = {Sex.MALE: "先生", Sex.FEMALE: "女士"}.get(person.sex, "居民")
    return f"{first}{title}"


def age_band(birth_date: datetime.date | None, today: datetime.date | None = None) -> str:
    """A decade, never the age: 7岁以下 / 10多岁 … / 80岁以上 (empty when the birth date is not known)."""
    if birth_date is None:
        return ""
    today = today or timezone.localdate()
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age < 10:
        return "10岁以下"
    if age >= 80:
        return "80岁以上"
    return f"{age // 10 * 10}多岁"


def _grid_of(code: str) -> Node | None:
    return Node.objects.filter(code=code[:15], kind=NodeKind.GRID).first()


def record_wish(
    *,
    actor: User,
    person_id: int,
    title: str,
    consent_note: str,
    description: str = "",
    category_id: int | None = None,
) -> Wish:
    """A grid worker records a resident's small wish, with the resident's consent (how it was given is kept), and
    publishes it on the community's wish wall under the grid's name, the surname's first character and an age band."""
    from gongzhi.registry.models import Person

    details: list[ErrorDetail] = []
    title = _text(title, "title", 60, details)
    description = _text(description, "description", 300, details, required=False)
    consent_note = _text(consent_note, "consent_note", 120, details)
    category = _category(category_id, details, required=False)
    person = get_in_scope(Person, actor, person_id, queryset=Person.objects.select_related("household"))
    household = person.household
    grid = _grid_of(household.code) if household is not None else None
    if grid is None:
        details.append(ErrorDetail(field="person_id", message=_("the resident has no household in a grid")))
    elif not reaches(actor, "participation.wish", "add", grid):
        raise Forbidden(fmt(_("You may not record wishes in %(place)s."), place=grid.name))
    for word in (person.name, person.phone, person.id_number):
        if word and len(word) >= 2 and any(word in text for text in (title, description)):
            message = _("the wall is public: leave out names, phones and ID numbers")
            details.append(ErrorDetail(field="description", message=message))
            break
    if details:
        raise ValidationFailed(_("The wish cannot be recorded."), details)
    assert grid is not None
    now = _now()
    with transaction.atomic():
        wish = Wish.objects.create(
            title=title,
            description=description,
            category=category,
            person=person,
            consent_note=consent_note,
            consent_at=now,
            public_name=_public_name(person),
            age_band=age_band(person.birth_date),
            place=grid,
            place_code=grid.code,
            community_code=_community_code(grid.code),
            recorded_by=actor,
        )
        audit.record(
            actor=actor, action="participation.wish_recorded", obj=wish, node_code=grid.code,
            after={**audit.snapshot(wish, WISH_FIELDS), "consent_note": consent_note},
        )  # fmt: skip
    return wish


def claimant_of(user: User) -> tuple[str, Body | None] | None:
    """Who the user claims wishes as: their co-building unit, else a party member or a volunteer (their post)."""
    from gongzhi.accounts.choices import Post
    from gongzhi.participation.choices import ClaimantKind

    units = selectors.my_units(user=user, label="participation.wish", action="change")
    if units:
        return ClaimantKind.UNIT, units[0]
    posts = set(
        RoleAssignment.objects.filter(user=user, is_active=True).exclude(post="").values_list("post", flat=True)
    )
    if Post.PARTY_MEMBER in posts:
        return ClaimantKind.PARTY_MEMBER, None
    if Post.VOLUNTEER in posts:
        return ClaimantKind.VOLUNTEER, None
    return None


def _wish_for(actor: User, wish_id: int, action: str, lock: bool = True) -> Wish:
    qs = Wish.objects.select_for_update() if lock else Wish.objects.all()
    return get_in_scope(Wish, actor, wish_id, action, queryset=qs)


def _wish_link(wish: Wish) -> str:
    return f"/participation/wishes/{wish.pk}/"


def claim_wish(*, actor: User, wish_id: int) -> Wish:
    """点亮: a party member, volunteer or unit claims a published wish. Of two claiming at once one wins (a
    conditional update on the state); the other gets a 409 ``conflict``."""
    from gongzhi.participation.choices import WishState

    who = claimant_of(actor)
    if who is None:
        raise Forbidden(_("Only a party member, volunteer or co-building unit claims a wish."))
    kind, unit = who
    now = _now()
    with transaction.atomic():
        wish = _wish_for(actor, wish_id, "change", lock=False)
        won = Wish.objects.filter(pk=wish.pk, state=WishState.PUBLISHED).update(
            state=WishState.CLAIMED, claimant=actor, claimant_kind=kind, claimant_unit=unit, claimed_at=now,
            updated_at=now,
        )  # fmt: skip
        if not won:
            raise Conflict(
                _("This wish has already been claimed by someone else."),
                [ErrorDetail(field="wish_id", message=fmt(_("status: %(status)s"), status=wish.get_state_display()))],
            )
        wish.refresh_from_db()
        audit.record(
            actor=actor, action="participation.wish_claimed", obj=wish, node_code=wish.place_code,
            before={"state": WishState.PUBLISHED}, after=audit.snapshot(wish, WISH_FIELDS),
        )  # fmt: skip
        if wish.recorded_by_id:
            notify(
                actor=actor,
                recipients=[Recipient(wish.recorded_by_id)],
                kind="participation.wish_claimed",
                text=_("The wish “%(wish)s” of %(who)s was claimed by %(by)s."),
                params={"wish": wish.title, "who": wish.public_name, "by": _claimant_name(wish)},
                link=_wish_link(wish),
                obj=wish,
                dedupe=f"wish:{wish.pk}:claimed:{now.isoformat()}",
                now=now,
            )
    return wish


def _claimant_name(wish: Wish) -> str:
    if wish.claimant_unit_id:
        return wish.claimant_unit.name if wish.claimant_unit else ""
    return str(wish.get_claimant_kind_display())


def _own_claim(actor: User, wish: Wish) -> bool:
    return wish.claimant_id == actor.pk or (
        wish.claimant_unit_id is not None
        and wish.claimant_unit_id in actor.scope_for("participation.wish", "change").bodies
    )


def give_up_wish(*, actor: User, wish_id: int) -> Wish:
    """The claimant gives a claim up (or the grid worker releases it): the wish is back on the wall, unclaimed."""
    from gongzhi.participation.choices import WishState

    with transaction.atomic():
        wish = _wish_for(actor, wish_id, "change")
        if wish.state != WishState.CLAIMED:
            raise Conflict(_("Only a claimed wish can be given up."))
        staff = selectors.may(user=actor, label="participation.wish", action="add", place_code=wish.place_code)
        if not (_own_claim(actor, wish) or staff):
            raise Forbidden(_("Only the claimant gives a claim up."))
        before = audit.snapshot(wish, WISH_FIELDS)
        wish.state = WishState.PUBLISHED
        wish.claimant = None
        wish.claimant_kind = ""
        wish.claimant_unit = None
        wish.claimed_at = None
        wish.save(update_fields=["state", "claimant", "claimant_kind", "claimant_unit", "claimed_at", "updated_at"])
        audit.record(
            actor=actor, action="participation.wish_given_up", obj=wish, node_code=wish.place_code, before=before,
            after=audit.snapshot(wish, WISH_FIELDS),
        )  # fmt: skip
    return wish


def fulfil_wish(*, actor: User, wish_id: int, note: str, photo: UploadedFile[Any] | None = None) -> Wish:
    """The claimant reports the wish fulfilled, with evidence (a note, a photo); the grid worker is told."""
    from gongzhi.participation.choices import WishState

    details: list[ErrorDetail] = []
    note = _text(note, "note", 300, details)
    if photo is not None and not (photo.content_type or "").startswith("image/"):
        details.append(ErrorDetail(field="photo", message=_("a photo (an image file)")))
    if details:
        raise ValidationFailed(_("Say how the wish was fulfilled."), details)
    now = _now()
    with transaction.atomic():
        wish = _wish_for(actor, wish_id, "change")
        if wish.state != WishState.CLAIMED:
            raise Conflict(_("Only a claimed wish can be reported fulfilled."))
        if not _own_claim(actor, wish):
            raise Forbidden(_("Only the claimant reports the wish fulfilled."))
        before = audit.snapshot(wish, WISH_FIELDS)
        wish.state = WishState.FULFILLED
        wish.fulfilled_at = now
        wish.evidence_note = note
        wish.save(update_fields=["state", "fulfilled_at", "evidence_note", "updated_at"])
        if photo is not None:
            wish.evidence_photo.save(photo.name or "photo.jpg", photo, save=True)
        audit.record(
            actor=actor, action="participation.wish_fulfilled", obj=wish, node_code=wish.place_code, before=before,
            after=audit.snapshot(wish, WISH_FIELDS),
        )  # fmt: skip
        if wish.recorded_by_id:
            notify(
                actor=actor,
                recipients=[Recipient(wish.recorded_by_id)],
                kind="participation.wish_fulfilled",
                text=_("The wish “%(wish)s” of %(who)s is reported fulfilled: please confirm it with the resident."),
                params={"wish": wish.title, "who": wish.public_name},
                link=_wish_link(wish),
                obj=wish,
                dedupe=f"wish:{wish.pk}:fulfilled",
                now=now,
            )
    return wish


def confirm_wish(*, actor: User, wish_id: int) -> Wish:
    """The grid worker confirms, for the wisher, that the wish was fulfilled (it is lit); the claimant is told."""
    from gongzhi.participation.choices import WishState

    now = _now()
    with transaction.atomic():
        wish = _wish_for(actor, wish_id, "change")
        if not selectors.may(user=actor, label="participation.wish", action="add", place_code=wish.place_code):
            raise Forbidden(_("The grid worker confirms a wish with the resident."))
        if wish.state != WishState.FULFILLED:
            raise Conflict(_("Only a wish reported fulfilled can be confirmed."))
        before = audit.snapshot(wish, WISH_FIELDS)
        wish.state = WishState.CONFIRMED
        wish.confirmed_at = now
        wish.save(update_fields=["state", "confirmed_at", "updated_at"])
        audit.record(
            actor=actor, action="participation.wish_confirmed", obj=wish, node_code=wish.place_code, before=before,
            after=audit.snapshot(wish, WISH_FIELDS),
        )  # fmt: skip
        if wish.claimant_id:
            notify(
                actor=actor,
                recipients=[Recipient(wish.claimant_id)],
                kind="participation.wish_confirmed",
                text=_("%(who)s confirmed the wish “%(wish)s” fulfilled. Thank you!"),
                params={"wish": wish.title, "who": wish.public_name},
                link=_wish_link(wish),
                obj=wish,
                dedupe=f"wish:{wish.pk}:confirmed",
                now=now,
            )
    return wish


def withdraw_wish(*, actor: User, wish_id: int) -> Wish:
    """The grid worker takes an unclaimed wish off the wall (the resident changed their mind)."""
    from gongzhi.participation.choices import WishState

    with transaction.atomic():
        wish = _wish_for(actor, wish_id, "change")
        if not selectors.may(user=actor, label="participation.wish", action="add", place_code=wish.place_code):
            raise Forbidden(_("The grid worker withdraws a wish."))
        if wish.state != WishState.PUBLISHED:
            raise Conflict(_("Only a wish nobody has claimed can be withdrawn."))
        before = audit.snapshot(wish, WISH_FIELDS)
        wish.state = WishState.WITHDRAWN
        wish.save(update_fields=["state", "updated_at"])
        audit.record(
            actor=actor, action="participation.wish_withdrawn", obj=wish, node_code=wish.place_code, before=before,
            after=audit.snapshot(wish, WISH_FIELDS),
        )  # fmt: skip
    return wish


def reveal_wisher(*, actor: User, wish_id: int) -> Any:
    """The wisher (the registry's person) for the grid worker who confirms with them (audited)."""
    wish = get_in_scope(Wish, actor, wish_id, "reveal", queryset=Wish.objects.select_related("person"))
    audit.record(actor=actor, action="participation.wisher_revealed", obj=wish, node_code=wish.place_code)
    return wish.person
