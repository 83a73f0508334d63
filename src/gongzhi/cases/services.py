"""Writes for cases other than status changes (those are ``workflow.perform``): intake, attachments, handover,
the 12345 hotline import."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from gongzhi.cases import tiers, workflow
from gongzhi.cases.choices import Channel, Urgency
from gongzhi.cases.models import Attachment, Case, CaseEvent, Category
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, Forbidden, ValidationFailed
from gongzhi.territory import selectors as territory

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 9
ALLOWED_IMAGE_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "image/heic": (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheim", b"ftypheis"),
}


@dataclass
class Placement:
    node: Any
    unplaced: bool
    how: str


def place(
    *, lat: float | None, lng: float | None, address: str = "", node_id: int | None = None, actor: Any = None
) -> Placement:
    """Resolve where a case is: a given place, else GPS → grid → nearest building, else an address → building,
    else the subdistrict desk, flagged. Never fails."""
    from gongzhi.territory.models import Node

    if node_id is not None:
        node = (
            territory.node_get(user=actor, node_id=node_id)
            if actor is not None
            else Node.objects.select_related("lead_body").get(pk=node_id)
        )
        return Placement(node, False, "given")
    if lat is not None and lng is not None:
        location = territory.locate(user=actor, lat=lat, lng=lng)
        if location.grid is not None:
            building = territory.nearest_building(grid=location.grid, lat=lat, lng=lng)
            return Placement(building or location.grid, False, "gps")
        fallback = location.fallback
    else:
        fallback = None
    if address.strip():
        building = territory.building_by_address(address=address, user=actor)
        if building is not None:
            return Placement(building, False, "address")
    if fallback is None:
        fallback = territory.default_desk(user=actor)
    if fallback is None:
        raise ValidationFailed("No subdistrict is set up yet.", [ErrorDetail(field="node_id", message="no territory")])
    return Placement(fallback, True, "desk")


@transaction.atomic
def report_case(
    *,
    actor: Any,
    channel: str,
    title: str,
    category_id: int,
    description: str = "",
    urgency: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    node_id: int | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    hotline_ticket: str | None = None,
    reported_at: datetime | None = None,
    fixed_on_spot_note: str = "",
    files: list[UploadedFile] | None = None,
) -> Case:
    """Take a case in. The actor (None for a resident without an account) becomes its first-contact owner."""
    details: list[ErrorDetail] = []
    if channel not in Channel.values:
        details.append(ErrorDetail(field="channel", message=f"one of {', '.join(Channel.values)}"))
    if not title.strip():
        details.append(ErrorDetail(field="title", message="say what the problem is"))
    category = Category.objects.filter(pk=category_id, is_active=True).select_related("parent").first()
    if category is None:
        details.append(ErrorDetail(field="category_id", message=f"no active category {category_id}"))
    if urgency is not None and urgency not in Urgency.values:
        details.append(ErrorDetail(field="urgency", message="A, B or C"))
    if actor is None and not reporter_phone.strip():
        details.append(ErrorDetail(field="reporter_phone", message="a phone number is needed to follow the case"))
    for name, value, limit in (("title", title, 200), ("address", address, 200), ("reporter_name", reporter_name, 60),
                               ("reporter_phone", reporter_phone, 20)):
        if len(value or "") > limit:
            details.append(ErrorDetail(field=name, message=f"at most {limit} characters"))
    if reporter_phone and not reporter_phone.strip().isdigit():
        details.append(ErrorDetail(field="reporter_phone", message="digits only"))
    for i, f in enumerate(files or []):
        details.extend(check_attachment(f, f"files[{i}]"))
    if len(files or []) > MAX_ATTACHMENTS:
        details.append(ErrorDetail(field="files", message=f"at most {MAX_ATTACHMENTS} photos"))
    if details:
        raise ValidationFailed("The case cannot be taken in.", details)
    assert category is not None
    placement = place(lat=lat, lng=lng, address=address, node_id=node_id, actor=actor)
    now = timezone.now()
    case = Case.objects.create(
        number=f"TMP{secrets.token_hex(8)}",
        title=title.strip()[:200],
        description=description,
        category=category,
        urgency=urgency or category.default_urgency,
        channel=channel,
        status=workflow.create_status(),
        tier=tiers.initial_tier(placement.node.kind),
        node=placement.node,
        unplaced=placement.unplaced,
        lat=lat,
        lng=lng,
        address=address,
        owner_body=placement.node.lead_body,
        owner_user=actor if getattr(actor, "pk", None) else None,
        reporter_user=actor if getattr(actor, "pk", None) else None,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone.strip(),
        tracking_code=secrets.token_hex(4).upper(),
        hotline_ticket=hotline_ticket or None,
        reported_at=reported_at or now,
    )
    case.number = f"{timezone.localtime(case.reported_at):%Y%m%d}{case.pk:07d}"
    case.save(update_fields=["number"])
    event = CaseEvent.objects.create(
        case=case,
        at=case.reported_at,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=str(actor) if getattr(actor, "pk", None) else (reporter_name or "resident"),
        action="report",
        to_status=case.status,
        note=("Location matched no grid: held by the subdistrict desk." if placement.unplaced else ""),
        data={"channel": channel, "placed_by": placement.how},
    )
    for f in files or []:
        _store_attachment(case, event, f, actor)
    audit.record(
        actor=actor,
        action="cases.reported",
        obj=case,
        node_code=case.node.code,
        after={"number": case.number, "node": case.node_id, "unplaced": case.unplaced, "channel": channel},
    )
    if fixed_on_spot_note:
        workflow.perform(actor=actor, case_id=case.pk, action="fix_on_spot", note=fixed_on_spot_note)
        case.refresh_from_db()
    return case


def check_attachment(f: UploadedFile, where: str) -> list[ErrorDetail]:
    errors = []
    size = f.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors.append(ErrorDetail(field=where, message=f"{f.name}: {size // 1024} KB is over the 10 MB limit"))
    ctype = (f.content_type or "").lower()
    if ctype == "image/heif":
        ctype = "image/heic"
    signatures = ALLOWED_IMAGE_TYPES.get(ctype)
    if signatures is None:
        errors.append(
            ErrorDetail(
                field=where, message=f"{f.name}: {ctype or 'unknown type'} is not a photo (jpeg, png, webp or heic)"
            )
        )
        return errors
    head = f.read(32)
    f.seek(0)
    if not any(sig in head[:16] for sig in signatures):
        errors.append(ErrorDetail(field=where, message=f"{f.name}: the content is not a {ctype} image"))
    return errors


def _store_attachment(case: Case, event: CaseEvent | None, f: UploadedFile, actor: Any) -> Attachment:
    return Attachment.objects.create(
        case=case,
        event=event,
        file=f,
        name=(f.name or "photo")[:200],
        content_type=f.content_type or "",
        size=f.size or 0,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def add_attachments(*, actor: Any, case_id: int, files: list[UploadedFile], note: str = "") -> list[Attachment]:
    case = get_in_scope(Case, actor, case_id, "change")
    details = [e for i, f in enumerate(files) for e in check_attachment(f, f"files[{i}]")]
    if not files:
        details.append(ErrorDetail(field="files", message="no file"))
    if case.attachments.count() + len(files) > MAX_ATTACHMENTS * 3:
        details.append(ErrorDetail(field="files", message="too many attachments on this case"))
    if details:
        raise ValidationFailed("The attachments were not accepted.", details)
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="attach",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=False,
    )
    stored = [_store_attachment(case, event, f, actor) for f in files]
    audit.record(
        actor=actor,
        action="cases.attached",
        obj=case,
        node_code=case.node.code,
        after={"files": [a.name for a in stored]},
    )
    return stored


@transaction.atomic
def hand_over(*, actor: Any, case_id: int, to_user_id: int, note: str) -> Case:
    """首问负责: the responsible person changes only by a recorded handover."""
    from gongzhi.accounts.models import User

    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed("Say why the case is handed over.", [ErrorDetail(field="note", message="required")])
    target = User.objects.filter(pk=to_user_id, is_active=True).first()
    if target is None or not Case.objects.restrict(target, "change").filter(pk=case.pk).exists():
        raise Forbidden("The new owner must be able to act on this case.")
    before = {"owner_user": case.owner_user_id}
    case.owner_user = target
    case.save(update_fields=["owner_user", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="hand_over",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=False,
        data={"to_user": target.pk},
    )
    audit.record(
        actor=actor,
        action="cases.handed_over",
        obj=case,
        node_code=case.node.code,
        before=before,
        after={"owner_user": target.pk},
        note=note,
    )
    return case


@transaction.atomic
def add_note(*, actor: Any, case_id: int, note: str, public: bool = False) -> CaseEvent:
    case = get_in_scope(Case, actor, case_id, "change")
    if not note.strip():
        raise ValidationFailed("The note is empty.", [ErrorDetail(field="note", message="required")])
    event = CaseEvent.objects.create(
        case=case,
        at=timezone.now(),
        actor=actor,
        actor_label=str(actor),
        action="note",
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=public,
    )
    audit.record(actor=actor, action="cases.noted", obj=case, node_code=case.node.code, note=note)
    return event


@dataclass
class HotlineResult:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tickets already imported
    errors: list[ErrorDetail] = field(default_factory=list)


def reveal_reporter_phone(*, actor: Any, case_id: int) -> str:
    """The reporter's phone unmasked: only in scope with the reveal right, always audited."""
    case = get_in_scope(Case, actor, case_id, "reveal")
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.reveal", obj=case, node_code=case.node.code,
                     note="field=reporter_phone")
    return case.reporter_phone
