"""Writes for inspections: checklists, sites, plans and the rounds they generate, a round's submission (failed items
become hazards; a serious one becomes a case), re-checks, and the notifications of rounds due and hazards overdue.

Every write: keyword-only arguments, the acting user explicit (None: the scheduler), one transaction, audited. A
case is born only through ``cases.intake.report_case``; its status is never written here.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import selectors as accounts
from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.cases.choices import Channel
from gongzhi.cases.intake import MAX_ATTACHMENTS, check_attachment, report_case
from gongzhi.cases.models import Category
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import code_prefix_q
from gongzhi.inspections.choices import (
    SEVERITY_ORDER,
    AssignTo,
    HazardStatus,
    PlaceKind,
    Result,
    Severity,
    rectify_deadline,
)
from gongzhi.inspections.defaults import DEFAULT_CHECKLISTS
from gongzhi.inspections.models import Checklist, ChecklistItem, Hazard, HazardCheck, Plan, Round, RoundPhoto, Site
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.messaging.services import Recipient
from gongzhi.territory.choices import CODE_LENGTH, NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

GRID_LEN = CODE_LENGTH[NodeKind.GRID]
COMMUNITY_LEN = CODE_LENGTH[NodeKind.COMMUNITY]
FALLBACK_CATEGORY = "0403"  # 火灾隐患: a hazard whose item names no case category
MAX_KEY = 64
ROUND_FIELDS = ["plan", "building", "period_start", "due", "assignee", "done_at", "done_by", "failed", "client_key"]
HAZARD_FIELDS = ["building", "title", "severity", "status", "deadline", "responsible", "escalations", "case"]
PLAN_FIELDS = ["area", "name", "kind", "every_months", "assign_to", "starts", "is_active"]
ITEM_FIELDS = ["checklist", "position", "question", "basis", "photo_required", "severity", "category_code", "is_active"]

KIND_LABELS = {
    "inspections.assigned": _("Inspection rounds assigned"),
    "inspections.due": _("Inspection rounds due today"),
    "inspections.hazard_overdue": _("Hazard not rectified in time"),
}
for _code, _label in KIND_LABELS.items():
    kinds.register(_code, _label)


def _now() -> datetime.datetime:
    return timezone.now()


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_of(plan: Plan, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The plan's period containing ``day``: its first day and its last (the rounds' due date)."""
    first = plan.starts.replace(day=1)
    months = (day.year * 12 + day.month) - (first.year * 12 + first.month)
    start = _add_months(first, (months // plan.every_months) * plan.every_months)
    end = _add_months(start, plan.every_months) - datetime.timedelta(days=1)
    return start, end


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- checklists and sites ----------------------------------------------------------------------------------------


@transaction.atomic
def ensure_checklists(*, actor: User | None, subdistrict_id: int) -> list[Checklist]:
    """Give a subdistrict the default checklist of every kind of place it has none of (``defaults.py``); the
    subdistrict edits them as its own afterwards. Returns the checklists made."""
    area = Node.objects.get(pk=subdistrict_id) if actor is None else get_in_scope(Node, actor, subdistrict_id)
    if area.kind != NodeKind.SUBDISTRICT:
        raise ValidationFailed(
            _("Checklists belong to a subdistrict."),
            [ErrorDetail(field="subdistrict_id", message=_("not a subdistrict"))],
        )
    if actor is not None and not reaches(actor, "inspections.checklist", "add", area):
        raise Forbidden(_("You may not keep this subdistrict's checklists."))
    have = set(Checklist.objects.filter(area=area, is_active=True).values_list("kind", flat=True))
    made = []
    for kind, (name, items) in DEFAULT_CHECKLISTS.items():
        if kind in have:
            continue
        checklist = Checklist.objects.create(area=area, kind=kind, name=name)
        ChecklistItem.objects.bulk_create(
            [
                ChecklistItem(
                    checklist=checklist,
                    position=i,
                    question=q,
                    basis=basis,
                    photo_required=photo,
                    severity=sev,
                    category_code=code,
                )
                for i, (q, basis, photo, sev, code) in enumerate(items, start=1)
            ]
        )
        made.append(checklist)
        audit.record(
            actor=actor,
            action="inspections.checklist_created",
            obj=checklist,
            node_code=area.code,
            after={"kind": kind, "items": len(items)},
        )
    return made


def _item_details(question: str, basis: str, severity: str) -> list[ErrorDetail]:
    details = []
    if not question.strip():
        details.append(ErrorDetail(field="question", message=_("say what to check")))
    elif len(question.strip()) > 200:
        details.append(ErrorDetail(field="question", message=_("at most 200 characters")))
    if len(basis.strip()) > 200:
        details.append(ErrorDetail(field="basis", message=_("at most 200 characters")))
    if severity not in Severity.values:
        details.append(
            ErrorDetail(
                field="severity", message=fmt(_("expected one of %(values)s"), values=", ".join(Severity.values))
            )
        )
    return details


@transaction.atomic
def save_item(
    *,
    actor: User,
    checklist_id: int,
    question: str,
    basis: str = "",
    photo_required: bool = False,
    severity: str = Severity.MINOR,
    category_code: str = "",
    is_active: bool = True,
    item_id: int | None = None,
) -> ChecklistItem:
    """Add an item to a checklist (``item_id`` None) or change one. Only the subdistrict that keeps the checklist."""
    checklist = get_in_scope(Checklist, actor, checklist_id, queryset=Checklist.objects.select_related("area"))
    if not reaches(actor, "inspections.checklistitem", "change", checklist.area):
        raise Forbidden(_("Only the subdistrict edits its checklists."))
    details = _item_details(question, basis, severity)
    if details:
        raise ValidationFailed(_("The item cannot be saved."), details)
    if item_id is None:
        last = checklist.items.order_by("-position").values_list("position", flat=True).first() or 0
        item = ChecklistItem(checklist=checklist, position=last + 1)
        before = None
    else:
        item = get_in_scope(ChecklistItem, actor, item_id, "change")
        if item.checklist_id != checklist.pk:
            raise ValidationFailed(
                _("The item cannot be saved."), [ErrorDetail(field="item_id", message=_("not on this checklist"))]
            )
        before = audit.snapshot(item, ITEM_FIELDS)
    item.question = question.strip()
    item.basis = basis.strip()
    item.photo_required = photo_required
    item.severity = severity
    item.category_code = category_code.strip()[:16]
    item.is_active = is_active
    item.save()
    audit.record(
        actor=actor,
        action="inspections.item_saved",
        obj=item,
        node_code=checklist.area.code,
        before=before,
        after=audit.snapshot(item, ITEM_FIELDS),
    )
    return item


@transaction.atomic
def set_site(*, actor: User, building_id: int, kind: str, responsible: str = "") -> Site:
    """Say what kind of place a building is (and who answers for it); the next rounds use that kind's checklist."""
    building = get_in_scope(Node, actor, building_id)
    details = []
    if building.kind != NodeKind.BUILDING:
        details.append(ErrorDetail(field="building_id", message=_("not a building")))
    if kind not in PlaceKind.values:
        details.append(
            ErrorDetail(field="kind", message=fmt(_("expected one of %(values)s"), values=", ".join(PlaceKind.values)))
        )
    if len(responsible) > 60:
        details.append(ErrorDetail(field="responsible", message=_("at most 60 characters")))
    if details:
        raise ValidationFailed(_("The place cannot be saved."), details)
    if not reaches(actor, "inspections.site", "change", building):
        raise Forbidden(_("You may not change this building's kind of place."))
    site, _created = Site.objects.update_or_create(
        building=building, defaults={"kind": kind, "responsible": responsible.strip()}
    )
    audit.record(
        actor=actor,
        action="inspections.site_set",
        obj=site,
        node_code=building.code,
        after={"kind": kind, "responsible": site.responsible},
    )
    return site


# --- plans and rounds ----------------------------------------------------------------------------------------------


@transaction.atomic
def create_plan(
    *,
    actor: User,
    area_id: int,
    kind: str,
    every_months: int,
    assign_to: str = AssignTo.GRID_WORKER,
    starts: datetime.date | None = None,
    name: str = "",
) -> Plan:
    """Plan rounds of every building of ``kind`` under ``area`` (a subdistrict or a community), one per period of
    ``every_months`` months. The period of today is generated at once; later ones by the scheduler."""
    area = get_in_scope(Node, actor, area_id)
    details: list[ErrorDetail] = []
    if area.kind not in (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID):
        details.append(ErrorDetail(field="area_id", message=_("plan rounds for a subdistrict, community or grid")))
    elif not reaches(actor, "inspections.plan", "add", area):
        raise Forbidden(_("You may not plan inspections here."))
    if kind not in PlaceKind.values:
        details.append(
            ErrorDetail(field="kind", message=fmt(_("expected one of %(values)s"), values=", ".join(PlaceKind.values)))
        )
    if not 1 <= every_months <= 12:
        details.append(ErrorDetail(field="every_months", message=_("between 1 and 12")))
    if assign_to not in AssignTo.values:
        details.append(
            ErrorDetail(
                field="assign_to", message=fmt(_("expected one of %(values)s"), values=", ".join(AssignTo.values))
            )
        )
    if len(name) > 120:
        details.append(ErrorDetail(field="name", message=_("at most 120 characters")))
    if details:
        raise ValidationFailed(_("The plan cannot be created."), details)
    if _checklist_for(area.code[:9], kind) is None:
        raise ValidationFailed(
            _("The subdistrict has no checklist for this kind of place yet."),
            [ErrorDetail(field="kind", message=_("no checklist"))],
        )
    with translation.override(settings.LANGUAGE_CODE):  # a stored name, in the site's language
        default_name = f"{area.name}{PlaceKind(kind).label}"
    plan = Plan.objects.create(
        area=area,
        name=name.strip() or default_name,
        kind=kind,
        every_months=every_months,
        assign_to=assign_to,
        starts=starts or timezone.localdate(),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="inspections.plan_created",
        obj=plan,
        node_code=area.code,
        after=audit.snapshot(plan, PLAN_FIELDS),
    )
    generate_rounds(actor=actor, plan_id=plan.pk)
    return plan


def _checklist_for(subdistrict_code: str, kind: str) -> Checklist | None:
    return Checklist.objects.filter(area__code=subdistrict_code, kind=kind, is_active=True).first()


def plan_buildings(plan: Plan) -> list[tuple[int, str]]:
    """(id, code) of the buildings a plan covers: under its area, of its kind (no site row: residential)."""
    qs = Node.objects.filter(code_prefix_q("code", plan.area.code), kind=NodeKind.BUILDING)
    if plan.kind == PlaceKind.RESIDENTIAL:
        qs = qs.filter(Q(inspection_site__isnull=True) | Q(inspection_site__kind=PlaceKind.RESIDENTIAL))
    else:
        qs = qs.filter(inspection_site__kind=plan.kind)
    return list(qs.order_by("code").values_list("pk", "code"))


def building_heads(codes: list[str]) -> dict[str, int]:
    """Building code → the user id of its building head (the longest-serving active one)."""
    rows = (
        RoleAssignment.objects.filter(
            role=Role.BUILDING_HEAD, is_active=True, user__is_active=True, node__code__in=codes
        )
        .order_by("node__code", "id")
        .values_list("node__code", "user_id")
    )
    heads: dict[str, int] = {}
    for code, user_id in rows:
        heads.setdefault(code, user_id)
    return heads


def assignees(plan: Plan, codes: list[str]) -> dict[str, int | None]:
    """Who does each building's round: the building head when the plan says so (else the grid's worker)."""
    workers = accounts.grid_workers_under(code=plan.area.code)
    heads = building_heads(codes) if plan.assign_to == AssignTo.BUILDING_HEAD else {}
    return {code: heads.get(code) or workers.get(code[:GRID_LEN]) for code in codes}


@transaction.atomic
def generate_rounds(*, actor: User | None, today: datetime.date | None = None, plan_id: int | None = None) -> int:
    """The rounds of the current period of every active plan (or one): one per building, never twice (the unique
    period of a round; run it as often as you like). Each assignee is told once per plan and period."""
    today = today or timezone.localdate()
    plans = Plan.objects.filter(is_active=True, starts__lte=today).select_related("area")
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    made = 0
    for plan in plans:
        checklist = _checklist_for(plan.area.code[:9], plan.kind)
        if checklist is None:
            continue
        start, end = period_of(plan, today)
        buildings = plan_buildings(plan)
        have = set(Round.objects.filter(plan=plan, period_start=start).values_list("building_id", flat=True))
        todo = [(pk, code) for pk, code in buildings if pk not in have]
        if not todo:
            continue
        who = assignees(plan, [code for _pk, code in todo])
        rows = [
            Round(plan=plan, checklist=checklist, building_id=pk, period_start=start, due=end, assignee_id=who[code])
            for pk, code in todo
        ]
        Round.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        made += len(rows)
        per_user: dict[int, int] = defaultdict(int)
        for code in who.values():
            if code is not None:
                per_user[code] += 1
        for user_id, count in per_user.items():
            messaging.notify(
                actor=actor,
                recipients=[Recipient(user_id)],
                kind="inspections.assigned",
                text=_("%(count)s inspection rounds assigned to you (%(plan)s), due %(due)s."),
                params={"count": count, "plan": plan.name, "due": end.isoformat()},
                link=reverse("inspections-home"),
                obj=plan,
                dedupe=f"inspections:assigned:{plan.pk}:{start.isoformat()}",
            )
        audit.record(
            actor=actor,
            action="inspections.rounds_generated",
            obj=plan,
            node_code=plan.area.code,
            after={"period_start": start.isoformat(), "rounds": len(rows)},
        )
    return made


@dataclass
class Photo:
    """A photo sent with a round: the item it shows (None: the round as a whole) and the file."""

    item_id: int | None
    file: UploadedFile[bytes]


def _clean_answers(
    round_: Round, answers: list[dict[str, Any]], photos: list[Photo]
) -> tuple[list[dict[str, Any]], list[ErrorDetail]]:
    items = {i.pk: i for i in round_.checklist.items.filter(is_active=True)}
    details: list[ErrorDetail] = []
    seen: dict[int, dict[str, Any]] = {}
    for row, answer in enumerate(answers):
        try:
            item_id = int(answer.get("item"))  # type: ignore[arg-type]  # checked: a bad value is a ValueError
        except (TypeError, ValueError):
            details.append(ErrorDetail(field="answers", row=row, message=_("no such item on this checklist")))
            continue
        if item_id not in items:
            details.append(ErrorDetail(field="answers", row=row, message=_("no such item on this checklist")))
            continue
        result = str(answer.get("result") or "")
        if result not in Result.values:
            details.append(
                ErrorDetail(
                    field="answers",
                    row=row,
                    message=fmt(_("expected one of %(values)s"), values=", ".join(Result.values)),
                )
            )
            continue
        severity = str(answer.get("severity") or items[item_id].severity)
        if severity not in Severity.values:
            details.append(ErrorDetail(field="answers", row=row, message=_("no such severity")))
            continue
        note = str(answer.get("note") or "").strip()[:500]
        seen[item_id] = {"item": item_id, "result": result, "note": note, "severity": severity}
    missing = [i for i in items if i not in seen]
    for item_id in missing:
        details.append(
            ErrorDetail(
                field="answers", message=fmt(_("no answer for “%(question)s”"), question=items[item_id].question)
            )
        )
    photographed = {p.item_id for p in photos}
    for item_id, answer in seen.items():
        if answer["result"] == Result.FAIL and items[item_id].photo_required and item_id not in photographed:
            details.append(
                ErrorDetail(
                    field="photos",
                    message=fmt(_("a photo is required for “%(question)s”"), question=items[item_id].question),
                )
            )
    for i, photo in enumerate(photos):
        if photo.item_id is not None and photo.item_id not in items:
            details.append(ErrorDetail(field="photos", row=i, message=_("no such item on this checklist")))
        details.extend(check_attachment(photo.file, f"photos[{i}]"))
    if len(photos) > MAX_ATTACHMENTS * 2:
        details.append(
            ErrorDetail(field="photos", message=fmt(_("at most %(count)s photos"), count=MAX_ATTACHMENTS * 2))
        )
    ordered = [seen[i] for i in items if i in seen]
    return ordered, details


@transaction.atomic
def submit_round(
    *,
    actor: User,
    round_id: int,
    answers: list[dict[str, Any]],
    note: str = "",
    photos: list[Photo] | None = None,
    client_key: str = "",
) -> Round:
    """Record a round: each item's answer (pass / fail / n.a., a note, the severity of a failure) and its photos.
    Each failed item becomes a hazard of the building (unless one is already open for that item); a serious one
    becomes a case at once. ``client_key``: the phone's idempotency key — the same submission sent again by the same
    person answers the round it made, changing nothing."""
    client_key = (client_key or "").strip()
    if len(client_key) > MAX_KEY:
        raise ValidationFailed(
            _("The round cannot be recorded."),
            [ErrorDetail(field="client_key", message=fmt(_("at most %(limit)s characters"), limit=MAX_KEY))],
        )
    round_ = get_in_scope(
        Round,
        actor,
        round_id,
        "change",
        queryset=Round.objects.select_for_update(of=("self",)).select_related("building", "checklist", "plan"),
    )
    if client_key:
        earlier = Round.objects.filter(done_by=actor, client_key=client_key).first()
        if earlier is not None:
            if earlier.pk != round_.pk:
                raise Conflict(
                    _("This submission key was already used for another round."),
                    [ErrorDetail(field="client_key", message=_("already used"))],
                )
            return earlier  # a replay: the round as the first submission left it
    if round_.done_at is not None:
        raise Conflict(
            fmt(
                _("This round was already done on %(day)s by %(who)s: your answers were not recorded."),
                day=timezone.localdate(round_.done_at).isoformat(),
                who=str(round_.done_by) if round_.done_by_id else "—",
            )
        )
    photos = photos or []
    clean, details = _clean_answers(round_, answers, photos)
    if len(note) > 2000:
        details.append(ErrorDetail(field="note", message=_("at most 2000 characters")))
    if details:
        raise ValidationFailed(_("The round cannot be recorded."), details)
    now = _now()
    before = audit.snapshot(round_, ROUND_FIELDS)
    round_.answers = clean
    round_.failed = sum(1 for a in clean if a["result"] == Result.FAIL)
    round_.note = note.strip()
    round_.done_at = now
    round_.done_by = actor
    round_.client_key = client_key
    round_.save()
    for photo in photos:
        RoundPhoto.objects.create(
            round=round_,
            item_id=photo.item_id,
            file=photo.file,
            name=(photo.file.name or "photo")[:200],
            content_type=photo.file.content_type or "",
            size=photo.file.size or 0,
            uploaded_by=actor,
        )
    audit.record(
        actor=actor,
        action="inspections.round_done",
        obj=round_,
        node_code=round_.building.code,
        before=before,
        after=audit.snapshot(round_, ROUND_FIELDS),
    )
    _hazards_from(round_, clean, actor, now)
    return round_


def _hazards_from(round_: Round, answers: list[dict[str, Any]], actor: User, now: datetime.datetime) -> list[Hazard]:
    failed = [a for a in answers if a["result"] == Result.FAIL]
    if not failed:
        return []
    items = {i.pk: i for i in ChecklistItem.objects.filter(pk__in=[a["item"] for a in failed])}
    already = set(
        Hazard.objects.filter(building=round_.building, status=HazardStatus.OPEN, item_id__in=list(items)).values_list(
            "item_id", flat=True
        )
    )
    site = Site.objects.filter(building=round_.building).first()
    responsible = site.responsible if site is not None and site.responsible else ""
    today = timezone.localdate(now)
    made = []
    for answer in failed:
        if answer["item"] in already:
            continue
        item = items[answer["item"]]
        deadline = rectify_deadline(today, answer["severity"])
        hazard = Hazard.objects.create(
            building=round_.building,
            round=round_,
            item=item,
            title=item.question,
            basis=item.basis,
            note=answer["note"],
            severity=answer["severity"],
            found_at=now,
            found_by=actor,
            first_deadline=deadline,
            deadline=deadline,
            responsible=responsible,
            responsible_user_id=round_.assignee_id or actor.pk,
        )
        audit.record(
            actor=actor,
            action="inspections.hazard_found",
            obj=hazard,
            node_code=round_.building.code,
            after=audit.snapshot(hazard, HAZARD_FIELDS),
        )
        if hazard.severity == Severity.SERIOUS:
            _to_case(hazard, actor, category_id=None)
        made.append(hazard)
    return made


def _category_for(hazard: Hazard) -> int:
    codes = [c for c in ((hazard.item.category_code if hazard.item else ""), FALLBACK_CATEGORY) if c]
    for code in codes:
        pk = (
            Category.objects.filter(code=code, is_active=True, parent__isnull=False)
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            return int(pk)
    pk = (
        Category.objects.filter(is_active=True, parent__isnull=False)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise ValidationFailed(_("No case category is set up."), [ErrorDetail(field="category_id", message=_("none"))])
    return int(pk)


def _to_case(hazard: Hazard, actor: User, *, category_id: int | None) -> Hazard:
    building = hazard.building
    channel = Channel.BUILDING_HEAD if actor.roles() == {Role.BUILDING_HEAD} else Channel.PATROL
    description = "\n".join(x for x in (hazard.note, hazard.basis) if x)
    case = report_case(
        actor=actor,
        channel=channel,
        title=hazard.title[:200],
        category_id=category_id or _category_for(hazard),
        description=description,
        node_id=building.pk,
        address=(building.address or building.name)[:200],
        lat=building.centroid_lat,
        lng=building.centroid_lng,
    )
    before = audit.snapshot(hazard, HAZARD_FIELDS)
    hazard.case = case
    hazard.save(update_fields=["case", "updated_at"])
    audit.record(
        actor=actor,
        action="inspections.hazard_to_case",
        obj=hazard,
        node_code=building.code,
        before=before,
        after={**audit.snapshot(hazard, HAZARD_FIELDS), "case_number": case.number},
    )
    return hazard


@transaction.atomic
def hazard_to_case(*, actor: User, hazard_id: int, category_id: int | None = None) -> Hazard:
    """Turn an open hazard into a case (intake, then the desk dispatches it through the workflow); linked both ways."""
    hazard = get_in_scope(
        Hazard,
        actor,
        hazard_id,
        "change",
        queryset=Hazard.objects.select_for_update(of=("self",)).select_related("building", "item"),
    )
    if hazard.case_id is not None:
        raise Conflict(_("This hazard is already a case."))
    if hazard.status != HazardStatus.OPEN:
        raise Conflict(_("This hazard was already rectified."))
    return _to_case(hazard, actor, category_id=category_id)


@transaction.atomic
def recheck_hazard(*, actor: User, hazard_id: int, rectified: bool, note: str = "") -> Hazard:
    """A re-check: rectified closes the hazard; not rectified escalates it — one severity up, a new deadline, and
    once serious, a case (if it is not one yet)."""
    hazard = get_in_scope(
        Hazard,
        actor,
        hazard_id,
        "change",
        queryset=Hazard.objects.select_for_update(of=("self",)).select_related("building", "item"),
    )
    if hazard.status != HazardStatus.OPEN:
        raise Conflict(_("This hazard was already rectified."))
    if not rectified and not note.strip():
        raise ValidationFailed(
            _("The re-check cannot be recorded."), [ErrorDetail(field="note", message=_("say what is still wrong"))]
        )
    now = _now()
    before = audit.snapshot(hazard, HAZARD_FIELDS)
    HazardCheck.objects.create(hazard=hazard, checked_at=now, checked_by=actor, rectified=rectified, note=note.strip())
    if rectified:
        hazard.status = HazardStatus.CLOSED
        hazard.closed_at = now
        hazard.closed_by = actor
        hazard.rectified_on_time = timezone.localdate(now) <= hazard.first_deadline
        hazard.save()
        action = "inspections.hazard_rectified"
    else:
        level = SEVERITY_ORDER.index(Severity(hazard.severity))
        hazard.severity = SEVERITY_ORDER[min(level + 1, len(SEVERITY_ORDER) - 1)]
        hazard.escalations += 1
        hazard.deadline = rectify_deadline(timezone.localdate(now), hazard.severity)
        hazard.save()
        action = "inspections.hazard_escalated"
    audit.record(
        actor=actor,
        action=action,
        obj=hazard,
        node_code=hazard.building.code,
        before=before,
        after=audit.snapshot(hazard, HAZARD_FIELDS),
        note=note.strip(),
    )
    if not rectified and hazard.severity == Severity.SERIOUS and hazard.case_id is None:
        _to_case(hazard, actor, category_id=None)
    return hazard


# --- the scheduler's notifications -----------------------------------------------------------------------------------


def community_staff(codes: set[str]) -> dict[str, list[int]]:
    """Community code → the active community staff posted on it."""
    out: dict[str, list[int]] = defaultdict(list)
    rows = RoleAssignment.objects.filter(
        role=Role.COMMUNITY_STAFF, is_active=True, user__is_active=True, node__code__in=sorted(codes)
    ).values_list("node__code", "user_id")
    for code, user_id in rows:
        out[code].append(user_id)
    return out


@transaction.atomic
def notify_due_today(*, today: datetime.date | None = None) -> int:
    """Tell each assignee how many of their rounds are due today (once a day). Returns the people told."""
    today = today or timezone.localdate()
    counts: dict[int, int] = defaultdict(int)
    for user_id in Round.objects.filter(due=today, done_at__isnull=True, assignee__isnull=False).values_list(
        "assignee_id", flat=True
    ):
        counts[user_id] += 1
    for user_id, count in counts.items():
        messaging.notify(
            actor=None,
            recipients=[Recipient(user_id)],
            kind="inspections.due",
            text=_("%(count)s inspection rounds are due today."),
            params={"count": count},
            link=reverse("inspections-home"),
            dedupe=f"inspections:due:{today.isoformat()}",
        )
    return len(counts)


@transaction.atomic
def notify_overdue_hazards(*, today: datetime.date | None = None) -> int:
    """Tell the responsible person and the community's staff of each open hazard past its deadline (once per
    deadline: an escalated hazard that misses its new deadline is told again). Returns the hazards told about."""
    today = today or timezone.localdate()
    hazards = list(
        Hazard.objects.filter(status=HazardStatus.OPEN, deadline__lt=today).select_related("building")[:2000]
    )
    staff = community_staff({h.building.code[:COMMUNITY_LEN] for h in hazards})
    for hazard in hazards:
        users = [hazard.responsible_user_id] if hazard.responsible_user_id else []
        users += staff.get(hazard.building.code[:COMMUNITY_LEN], [])
        messaging.notify(
            actor=None,
            recipients=[Recipient(u) for u in users],
            kind="inspections.hazard_overdue",
            text=_("Hazard not rectified by %(deadline)s: %(building)s, %(title)s."),
            params={"deadline": hazard.deadline.isoformat(), "building": hazard.building.name, "title": hazard.title},
            link=reverse("inspections-hazard", args=[hazard.pk]),
            obj=hazard,
            urgency="A" if hazard.severity == Severity.SERIOUS else "",
            dedupe=f"inspections:hazard:{hazard.pk}:overdue:{hazard.deadline.isoformat()}",
        )
    return len(hazards)
