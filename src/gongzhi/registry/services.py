"""Writes to the registry: typed, keyword-only, the actor explicit, one transaction, audited.

Audit snapshots keep ID numbers and phones masked: the audit log is read more widely than the registry.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from gongzhi.core import audit, bulk
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import action_word, fmt
from gongzhi.core.models import AuditLog
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.core.scope import ScopedQuerySet
from gongzhi.registry import idcard, selectors, sql
from gongzhi.registry.choices import JobState, PartyMemberType, PopulationType, Sex, TagKind
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
from gongzhi.registry.selectors import ORGANISATION_KINDS
from gongzhi.territory import services as territory_services
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, Node, PartyOrg

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

PERSON_AUDIT_FIELDS = ["name", "sex", "birth_date", "population_type", "household", "room", "is_active"]
REVEALABLE_PERSON_FIELDS = ("id_number", "phone")
_PHONE = re.compile(r"\+?[\d\- ]{5,20}")


def _snapshot(person: Person) -> dict[str, Any]:
    data = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    data["id_number"] = mask_id_number(person.id_number)
    data["phone"] = mask_phone(person.phone)
    return data


def _code(person: Person) -> str:
    return person.household.code if person.household_id and person.household else ""


def _household(actor: User, household_id: int, label: str, field: str) -> Node:
    node = get_in_scope(Node, actor, household_id)
    if node.kind != NodeKind.HOUSEHOLD:
        raise ValidationFailed(
            _("People live in households."),
            [
                ErrorDetail(
                    field=field, message=fmt(_("%(node)s is a %(kind)s"), node=node.name, kind=node.get_kind_display())
                )
            ],
        )
    if not reaches(actor, label, "add", node):
        raise Forbidden(_("You may not register people in this household."))
    return node


def check_tag_kinds(tags: list[str] | None, details: list[ErrorDetail]) -> list[str]:
    """The distinct key-service-target tags of a filter (a campaign's, a notice's), sorted; unknown ones are reported
    as ``tags[i]`` in ``details``."""
    clean = [t for t in (tags or []) if t]
    for i, tag in enumerate(clean):
        if tag not in TagKind.values:
            details.append(
                ErrorDetail(
                    field=f"tags[{i}]", message=fmt(_("expected one of %(values)s"), values=", ".join(TagKind.values))
                )
            )
    return sorted(set(clean))


def _today() -> datetime.date:
    return timezone.localdate()


def _check_person_fields(
    *,
    details: list[ErrorDetail],
    name: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    sex: str | None = None,
    birth_date: datetime.date | None = None,
    population_type: str | None = None,
    exclude_pk: int | None = None,
    check_taken: bool = True,
) -> idcard.IdCard | None:
    """Validate the fields given; returns the parsed ID card when an ID number was given and is valid.

    ``check_taken=False`` skips the "already registered" query (the import looks people up in bulk itself)."""
    if name is not None and not name.strip():
        details.append(ErrorDetail(field="name", message=_("a name is required")))
    card = None
    if id_number:
        errors = idcard.id_number_errors(id_number)
        details.extend(ErrorDetail(field="id_number", message=m) for m in errors)
        if not errors:
            card = idcard.card_of(id_number)  # valid: its parts, without checking it again
            if sex and sex != card.sex:
                details.append(ErrorDetail(field="sex", message=_("does not match the ID number")))
            if birth_date and birth_date != card.birth_date:
                details.append(ErrorDetail(field="birth_date", message=_("does not match the ID number")))
            taken = Person.objects.filter(id_number=card.number) if check_taken else None
            if taken is not None and exclude_pk is not None:
                taken = taken.exclude(pk=exclude_pk)
            if taken is not None and taken.exists():
                raise Conflict(
                    _("This ID number is already registered."),
                    [ErrorDetail(field="id_number", message=_("already registered"))],
                )
    if phone and not _PHONE.fullmatch(phone.strip()):
        details.append(ErrorDetail(field="phone", message=_("a phone number is digits (and + - spaces)")))
    if sex and sex not in Sex.values:
        details.append(
            ErrorDetail(field="sex", message=fmt(_("expected one of %(values)s"), values=", ".join(Sex.values)))
        )
    if birth_date and birth_date > _today():
        details.append(ErrorDetail(field="birth_date", message=_("is in the future")))
    if population_type is not None and population_type not in PopulationType.values:
        details.append(
            ErrorDetail(
                field="population_type",
                message=fmt(_("expected one of %(values)s"), values=", ".join(PopulationType.values)),
            )
        )
    return card


@transaction.atomic
def create_person(
    *,
    actor: User,
    name: str,
    household_id: int | None = None,
    id_number: str | None = None,
    phone: str = "",
    sex: str = "",
    birth_date: datetime.date | None = None,
    population_type: str = PopulationType.REGISTERED,
    room: str = "",
    moved_in: datetime.date | None = None,
) -> Person:
    """Register a person, placing them in a household (an open residence starts on ``moved_in``, default today)."""
    household = _household(actor, household_id, "registry.person", "household_id") if household_id else None
    if household is None and not actor.scope_for("registry.person", "add").everything:
        raise ValidationFailed(
            _("A person needs a household."), [ErrorDetail(field="household_id", message=_("required"))]
        )
    details: list[ErrorDetail] = []
    card = _check_person_fields(
        details=details,
        name=name,
        id_number=id_number,
        phone=phone,
        sex=sex,
        birth_date=birth_date,
        population_type=population_type,
    )
    if details:
        raise ValidationFailed(_("The person cannot be registered."), details)
    person = Person.objects.create(
        name=name.strip(),
        id_number=card.number if card else None,
        phone=phone.strip(),
        sex=sex or (card.sex if card else ""),
        birth_date=birth_date or (card.birth_date if card else None),
        population_type=population_type,
        household=household,
        room=room,
    )
    if household is not None:
        Residence.objects.create(person=person, household=household, moved_in=moved_in or _today())
    audit.record(
        actor=actor, action="registry.person_created", obj=person, node_code=_code(person), after=_snapshot(person)
    )
    return person


def _person_for_update() -> ScopedQuerySet[Person]:
    """People locked for a change. ``of=("self",)``: the household is a nullable join, and PostgreSQL cannot lock the
    nullable side of an outer join (an administrator's unfiltered read joined it so: a 500)."""
    return Person.objects.select_for_update(of=("self",)).select_related("household")


@transaction.atomic
def update_person(*, actor: User, person_id: int, **changes: Any) -> Person:
    """Change a person's own data. Moving house is :func:`move_person`, which keeps the history."""
    allowed = {"name", "id_number", "phone", "sex", "birth_date", "population_type", "room", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here."),
            [ErrorDetail(field=f, message=_("not changeable")) for f in unknown],
        )
    person = get_in_scope(Person, actor, person_id, "change", queryset=_person_for_update())
    before = _snapshot(person)
    details: list[ErrorDetail] = []
    card = _check_person_fields(
        details=details,
        name=changes.get("name"),
        id_number=changes.get("id_number"),
        phone=changes.get("phone"),
        sex=changes.get("sex"),
        birth_date=changes.get("birth_date"),
        population_type=changes.get("population_type"),
        exclude_pk=person.pk,
    )
    if details:
        raise ValidationFailed(_("The person cannot be changed."), details)
    for key, value in changes.items():
        if key == "id_number":
            value = card.number if card else None
        elif value is None and key not in ("birth_date",):
            continue  # only the ID number and birth date can be cleared
        elif key in ("name", "phone") and isinstance(value, str):
            value = value.strip()
        setattr(person, key, value)
    if card is not None:  # the ID number is authoritative for sex and birth date
        person.sex = card.sex
        person.birth_date = card.birth_date
    person.save()
    audit.record(
        actor=actor,
        action="registry.person_updated",
        obj=person,
        node_code=_code(person),
        before=before,
        after=_snapshot(person),
    )
    return person


@transaction.atomic
def move_person(
    *, actor: User, person_id: int, household_id: int, moved_on: datetime.date | None = None, note: str = ""
) -> Person:
    """Move a person to another household: close the open residence, open a new one, keep the history."""
    person = get_in_scope(Person, actor, person_id, "change", queryset=_person_for_update())
    target = _household(actor, household_id, "registry.residence", "household_id")
    day = moved_on or _today()
    if person.household_id == target.pk:
        raise ValidationFailed(
            _("The person already lives there."), [ErrorDetail(field="household_id", message=_("same household"))]
        )
    current = Residence.objects.select_for_update().filter(person=person, moved_out__isnull=True).first()
    if current is not None:
        if day < current.moved_in:
            raise ValidationFailed(
                _("A move cannot predate the current residence."),
                [
                    ErrorDetail(
                        field="moved_on",
                        message=fmt(_("on or after %(moved_in)s"), moved_in=current.moved_in.isoformat()),
                    )
                ],
            )
        current.moved_out = day
        current.save(update_fields=["moved_out", "updated_at"])
    before = _snapshot(person)
    Residence.objects.create(person=person, household=target, moved_in=day, note=note)
    person.household = target
    person.save(update_fields=["household", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.person_moved",
        obj=person,
        node_code=target.code,
        before=before,
        after=_snapshot(person),
        note=note,
    )
    return person


@transaction.atomic
def tag_person(
    *,
    actor: User,
    person_id: int,
    tag: str,
    label: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> PersonTag:
    """Mark a person as a key service target (重点服务对象) from ``since`` (default today)."""
    person = get_in_scope(Person, actor, person_id, "change", queryset=Person.objects.select_related("household"))
    details: list[ErrorDetail] = []
    if tag not in TagKind.values:
        details.append(
            ErrorDetail(field="tag", message=fmt(_("expected one of %(values)s"), values=", ".join(TagKind.values)))
        )
    if tag == TagKind.OTHER and not label.strip():
        details.append(ErrorDetail(field="label", message=_("an 'other' tag needs a label")))
    start = since or _today()
    if until is not None and until < start:
        details.append(ErrorDetail(field="until", message=_("is before since")))
    if details:
        raise ValidationFailed(_("The tag cannot be added."), details)
    open_same = PersonTag.objects.filter(person=person, tag=tag, label=label.strip(), until__isnull=True)
    if until is None and open_same.exists():
        raise Conflict(_("The person already carries this tag."), [ErrorDetail(field="tag", message=_("already open"))])
    row = PersonTag.objects.create(person=person, tag=tag, label=label.strip(), since=start, until=until)
    audit.record(
        actor=actor,
        action="registry.person_tagged",
        obj=row,
        node_code=_code(person),
        after=audit.snapshot(row, ["person", "tag", "label", "since", "until"]),
    )
    return row


@transaction.atomic
def untag_person(*, actor: User, tag_id: int, until: datetime.date | None = None) -> PersonTag:
    """End a tag (kept as history with its end date)."""
    row = get_in_scope(
        PersonTag, actor, tag_id, "change", queryset=PersonTag.objects.select_related("person__household")
    )
    end = until or _today()
    if row.until is not None:
        raise Conflict(_("The tag has already ended."))
    if end < row.since:
        raise ValidationFailed(
            _("The tag cannot end before it began."), [ErrorDetail(field="until", message=_("too early"))]
        )
    row.until = end
    row.save(update_fields=["until", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.person_untagged",
        obj=row,
        node_code=_code(row.person),
        after=audit.snapshot(row, ["person", "tag", "label", "since", "until"]),
    )
    return row


def reveal_person_field(*, actor: User, person_id: int, field: str) -> str:
    """Show a person's ID number or phone unmasked. Allowed only in scope with the reveal right; always audited."""
    if field not in REVEALABLE_PERSON_FIELDS:
        raise ValidationFailed(
            _("This field cannot be revealed."),
            [
                ErrorDetail(
                    field="field",
                    message=fmt(
                        _("expected one of %(values)s"),
                        values=", ".join(REVEALABLE_PERSON_FIELDS),
                    ),
                )
            ],
        )
    person = get_in_scope(Person, actor, person_id, "reveal", queryset=Person.objects.select_related("household"))
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.reveal", obj=person, node_code=_code(person), note=f"field={field}")
    return str(getattr(person, field) or "")


# --- party membership (党员, 双报到) -------------------------------------------------------------------------------

PARTY_AUDIT_FIELDS = ["person", "member_type", "branch", "work_unit", "reported_in", "reported_in_on"]
PARTY_CHANGEABLE = {"member_type", "branch_id", "work_unit_id", "reported_in", "reported_in_on"}


def _party_snapshot(row: PartyMember) -> dict[str, Any]:
    return audit.snapshot(row, PARTY_AUDIT_FIELDS)


def _person_for_membership(actor: User, person_id: int, action: str) -> Person:
    person = get_in_scope(Person, actor, person_id, queryset=Person.objects.select_related("household"))
    scope = actor.scope_for("registry.partymember", action)
    allowed = scope.everything or (
        person.household is not None and scope.covers(person.household.code, person.household.lead_body_id)
    )
    if not allowed:
        raise Forbidden(fmt(_("You may not %(action)s party memberships here."), action=action_word(action)))
    return person


def _membership_refs(
    actor: User, details: list[ErrorDetail], branch_id: int | None, work_unit_id: int | None
) -> tuple[PartyOrg | None, Body | None]:
    branch = work_unit = None
    if branch_id is not None:
        branch = PartyOrg.objects.restrict(actor, "view").filter(pk=branch_id).first()
        if branch is None:
            details.append(
                ErrorDetail(
                    field="branch_id",
                    message=fmt(_("no party organisation with id %(branch_id)s"), branch_id=branch_id),
                )
            )
    if work_unit_id is not None:
        work_unit = Body.objects.restrict(actor, "view").filter(pk=work_unit_id).first()
        if work_unit is None:
            details.append(
                ErrorDetail(
                    field="work_unit_id",
                    message=fmt(_("no organisation with id %(work_unit_id)s"), work_unit_id=work_unit_id),
                )
            )
    return branch, work_unit


def _check_membership(
    details: list[ErrorDetail], member_type: str, reported_in: bool, reported_in_on: datetime.date | None
) -> None:
    if member_type not in PartyMemberType.values:
        details.append(
            ErrorDetail(
                field="member_type",
                message=fmt(_("expected one of %(values)s"), values=", ".join(PartyMemberType.values)),
            )
        )
    if reported_in_on is not None and not reported_in:
        details.append(ErrorDetail(field="reported_in_on", message=_("a report-in date needs reported_in")))
    if reported_in_on is not None and reported_in_on > _today():
        details.append(ErrorDetail(field="reported_in_on", message=_("is in the future")))


@transaction.atomic
def set_party_membership(
    *,
    actor: User,
    person_id: int,
    member_type: str,
    branch_id: int | None = None,
    work_unit_id: int | None = None,
    reported_in: bool = False,
    reported_in_on: datetime.date | None = None,
) -> PartyMember:
    """Record that a person is a party member (type, branch, work unit; 双报到 with its date)."""
    person = _person_for_membership(actor, person_id, "add")
    if PartyMember.objects.filter(person=person).exists():
        raise Conflict(_("The person is already a party member."), [ErrorDetail(field="person", message=_("a member"))])
    details: list[ErrorDetail] = []
    _check_membership(details, member_type, reported_in, reported_in_on)
    branch, work_unit = _membership_refs(actor, details, branch_id, work_unit_id)
    if details:
        raise ValidationFailed(_("The party membership cannot be recorded."), details)
    row = PartyMember.objects.create(
        person=person,
        member_type=member_type,
        branch=branch,
        work_unit=work_unit,
        reported_in=reported_in,
        reported_in_on=reported_in_on,
    )
    audit.record(
        actor=actor,
        action="registry.party_member_added",
        obj=row,
        node_code=_code(person),
        after=_party_snapshot(row),
    )
    return row


def _membership(actor: User, person_id: int, action: str) -> PartyMember:
    person = _person_for_membership(actor, person_id, action)
    row = PartyMember.objects.select_for_update().filter(person=person).first()
    if row is None:
        raise NotFound(fmt(_("Person %(person_id)s is not a party member."), person_id=person_id))
    row.person = person
    return row


@transaction.atomic
def update_party_membership(*, actor: User, person_id: int, **changes: Any) -> PartyMember:
    """Change a membership: ``member_type``, ``branch_id``, ``work_unit_id``, ``reported_in``, ``reported_in_on``
    (``None`` clears the branch, the work unit or the date). Un-reporting clears the date."""
    unknown = set(changes) - PARTY_CHANGEABLE
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here."),
            [ErrorDetail(field=f, message=_("not changeable")) for f in unknown],
        )
    row = _membership(actor, person_id, "change")
    before = _party_snapshot(row)
    member_type = changes.get("member_type") or row.member_type
    reported_in = bool(changes["reported_in"]) if changes.get("reported_in") is not None else row.reported_in
    reported_in_on = changes.get("reported_in_on", row.reported_in_on)
    if "reported_in" in changes and not reported_in and "reported_in_on" not in changes:
        reported_in_on = None
    details: list[ErrorDetail] = []
    _check_membership(details, member_type, reported_in, reported_in_on)
    branch, work_unit = _membership_refs(actor, details, changes.get("branch_id"), changes.get("work_unit_id"))
    if details:
        raise ValidationFailed(_("The party membership cannot be changed."), details)
    row.member_type, row.reported_in, row.reported_in_on = member_type, reported_in, reported_in_on
    if "branch_id" in changes:
        row.branch = branch
    if "work_unit_id" in changes:
        row.work_unit = work_unit
    row.save()
    after = _party_snapshot(row)
    if after != before:
        audit.record(
            actor=actor,
            action="registry.party_member_updated",
            obj=row,
            node_code=_code(row.person),
            before=before,
            after=after,
        )
    return row


@transaction.atomic
def report_in(*, actor: User, person_id: int, on: datetime.date | None = None) -> PartyMember:
    """双报到: the member (and their work unit) reported in to the community where they live, on ``on``."""
    return update_party_membership(actor=actor, person_id=person_id, reported_in=True, reported_in_on=on or _today())


@transaction.atomic
def remove_party_membership(*, actor: User, person_id: int, note: str = "") -> None:
    """End a person's party membership record (it leaves the list; the audit log keeps what it was).

    Needs the *change* right on the membership: the role policy gives no one but administrators *delete* on
    registry rows, and a membership is part of keeping the person's record."""
    row = _membership(actor, person_id, "change")
    before = _party_snapshot(row)
    audit.record(
        actor=actor,
        action="registry.party_member_removed",
        obj=row,
        node_code=_code(row.person),
        before=before,
        note=note,
    )
    row.delete()


# --- organisations (bodies of the organisation kinds), their contacts and co-building agreements ------------------

BODY_AUDIT_FIELDS = ["name", "kind", "node", "contact_name", "description", "is_active"]
CONTACT_AUDIT_FIELDS = ["body", "name", "title", "email", "is_primary"]
AGREEMENT_AUDIT_FIELDS = [
    "unit", "partner", "party_org", "title", "signed_on", "starts", "ends", "commitments", "is_active",
]  # fmt: skip
AGREEMENT_PARTNER_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE)
MAX_COMMITMENTS = 50


def _body_snapshot(body: Body) -> dict[str, Any]:
    data = audit.snapshot(body, BODY_AUDIT_FIELDS)
    data["contact_phone"] = mask_phone(body.contact_phone)
    return data


def _body_code(body: Body) -> str:
    return body.node.code if body.node_id and body.node else ""


may_on_body = selectors.may_on_body  # the one rule for acting on (and revealing) an organisation's rows


def _organisation(actor: User, body_id: int, *, for_update: bool = False) -> Body:
    queryset = Body.objects.select_related("node")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))  # node is nullable: lock the body only
    body = get_in_scope(Body, actor, body_id, queryset=queryset)
    if body.kind not in ORGANISATION_KINDS:
        raise NotFound(fmt(_("No organisation with id %(body_id)s."), body_id=body_id))
    return body


def _check_phone(details: list[ErrorDetail], field: str, phone: str | None) -> None:
    if phone and not _PHONE.fullmatch(phone.strip()):
        details.append(ErrorDetail(field=field, message=_("a phone number is digits (and + - spaces)")))


@transaction.atomic
def create_organisation(
    *,
    actor: User,
    name: str,
    kind: str,
    node_id: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    description: str = "",
) -> Body:
    """An enterprise, school, hospital, co-building unit, social organisation … placed on a place in scope.
    Created by ``territory.services.create_body`` (its rules: unique kind + name, the *add* right on the place)."""
    details: list[ErrorDetail] = []
    if kind not in ORGANISATION_KINDS:
        details.append(
            ErrorDetail(
                field="kind",
                message=fmt(
                    _("expected one of %(values)s"), values=", ".join(ORGANISATION_KINDS)
                ),
            )
        )
    _check_phone(details, "contact_phone", contact_phone)
    if details:
        raise ValidationFailed(_("The organisation cannot be created."), details)
    return territory_services.create_body(
        actor=actor,
        name=name,
        kind=kind,
        node_id=node_id,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        description=description,
    )


@transaction.atomic
def update_organisation(*, actor: User, body_id: int, **changes: Any) -> Body:
    """Change an organisation: ``name``, ``node_id``, ``contact_name``, ``contact_phone``, ``description``,
    ``is_active``. Needs the *change* right on bodies where it sits (and on the new place when it moves).

    (territory.services has no body update yet; this writes the body itself, audited as ``territory.body_updated``
    with the contact phone masked.)"""
    allowed = {"name", "node_id", "contact_name", "contact_phone", "description", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here."),
            [ErrorDetail(field=f, message=_("not changeable")) for f in unknown],
        )
    body = _organisation(actor, body_id, for_update=True)
    if not may_on_body(actor, "territory.body", "change", body):
        raise Forbidden(_("You may not change this organisation."))
    before = _body_snapshot(body)
    details: list[ErrorDetail] = []
    name = changes.get("name")
    if name is not None:
        if not name.strip():
            details.append(ErrorDetail(field="name", message=_("a name is required")))
        elif Body.objects.filter(kind=body.get_kind_display(), name=name.strip()).exclude(pk=body.pk).exists():
            details.append(
                ErrorDetail(
                    field="name",
                    message=fmt(
                        _("a %(kind)s named %(name)s exists"), kind=body.get_kind_display(), name=repr(name.strip())
                    ),
                )
            )
    _check_phone(details, "contact_phone", changes.get("contact_phone"))
    node = body.node
    if "node_id" in changes:
        node = get_in_scope(Node, actor, changes["node_id"]) if changes["node_id"] is not None else None
        scope = actor.scope_for("territory.body", "change")
        if not (scope.everything or (node is not None and scope.covers(node.code, node.lead_body_id))):
            raise Forbidden(_("You may not place organisations there."))
    if details:
        raise ValidationFailed(_("The organisation cannot be changed."), details)
    if name is not None:
        body.name = name.strip()
    for key in ("contact_name", "contact_phone"):
        if changes.get(key) is not None:
            setattr(body, key, changes[key].strip())
    if changes.get("description") is not None:
        body.description = changes["description"]
    if changes.get("is_active") is not None:
        body.is_active = bool(changes["is_active"])
    body.node = node
    body.save()
    after = _body_snapshot(body)
    if after != before:
        audit.record(
            actor=actor,
            action="territory.body_updated",
            obj=body,
            node_code=_body_code(body),
            before=before,
            after=after,
        )
    return body


def _contact_snapshot(row: OrgContact) -> dict[str, Any]:
    data = audit.snapshot(row, CONTACT_AUDIT_FIELDS)
    data["phone"] = mask_phone(row.phone)
    return data


def _check_contact(details: list[ErrorDetail], name: str | None, phone: str | None, email: str | None) -> None:
    if name is not None and not name.strip():
        details.append(ErrorDetail(field="name", message=_("a name is required")))
    _check_phone(details, "phone", phone)
    if email:
        try:
            validate_email(email.strip())
        except DjangoValidationError:
            details.append(ErrorDetail(field="email", message=_("not an e-mail address")))


def _only_primary(row: OrgContact) -> None:
    if row.is_primary:
        OrgContact.objects.filter(body_id=row.body_id, is_primary=True).exclude(pk=row.pk).update(is_primary=False)


@transaction.atomic
def add_contact(
    *,
    actor: User,
    body_id: int,
    name: str,
    title: str = "",
    phone: str = "",
    email: str = "",
    is_primary: bool = False,
) -> OrgContact:
    """A contact person of an organisation; a primary contact replaces the previous primary one."""
    body = _organisation(actor, body_id)
    if not may_on_body(actor, "registry.orgcontact", "add", body):
        raise Forbidden(_("You may not add contacts to this organisation."))
    details: list[ErrorDetail] = []
    _check_contact(details, name, phone, email)
    if details:
        raise ValidationFailed(_("The contact cannot be added."), details)
    row = OrgContact.objects.create(
        body=body,
        name=name.strip(),
        title=title.strip(),
        phone=phone.strip(),
        email=email.strip(),
        is_primary=is_primary,
    )
    _only_primary(row)
    audit.record(
        actor=actor, action="registry.contact_added", obj=row, node_code=_body_code(body), after=_contact_snapshot(row)
    )
    return row


def _contact(actor: User, contact_id: int, action: str, body_id: int | None = None) -> OrgContact:
    queryset = OrgContact.objects.select_related("body__node")
    row = get_in_scope(OrgContact, actor, contact_id, queryset=queryset)
    if (body_id is not None and row.body_id != body_id) or row.body.kind not in ORGANISATION_KINDS:
        raise NotFound(fmt(_("No organisation contact with id %(contact_id)s."), contact_id=contact_id))
    if not may_on_body(actor, "registry.orgcontact", action, row.body):
        raise Forbidden(fmt(_("You may not %(action)s this contact."), action=action_word(action)))
    return row


@transaction.atomic
def update_contact(*, actor: User, contact_id: int, body_id: int | None = None, **changes: Any) -> OrgContact:
    """Change a contact's ``name``, ``title``, ``phone``, ``email`` or ``is_primary``."""
    allowed = {"name", "title", "phone", "email", "is_primary"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here."),
            [ErrorDetail(field=f, message=_("not changeable")) for f in unknown],
        )
    row = _contact(actor, contact_id, "change", body_id)
    before = _contact_snapshot(row)
    details: list[ErrorDetail] = []
    _check_contact(details, changes.get("name"), changes.get("phone"), changes.get("email"))
    if details:
        raise ValidationFailed(_("The contact cannot be changed."), details)
    for key, value in changes.items():
        if value is None:
            continue
        setattr(row, key, value.strip() if isinstance(value, str) else value)
    row.save()
    _only_primary(row)
    after = _contact_snapshot(row)
    if after != before:
        audit.record(
            actor=actor,
            action="registry.contact_updated",
            obj=row,
            node_code=_body_code(row.body),
            before=before,
            after=after,
        )
    return row


@transaction.atomic
def remove_contact(*, actor: User, contact_id: int, body_id: int | None = None) -> None:
    row = _contact(actor, contact_id, "delete", body_id)
    audit.record(
        actor=actor,
        action="registry.contact_removed",
        obj=row,
        node_code=_body_code(row.body),
        before=_contact_snapshot(row),
    )
    row.delete()


def reveal_contact_phone(*, actor: User, contact_id: int, body_id: int | None = None) -> str:
    """A contact's phone unmasked: the *reveal* right on the contact, in scope; always audited."""
    row = _contact(actor, contact_id, "reveal", body_id)
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.reveal", obj=row, node_code=_body_code(row.body), note="field=phone")
    return row.phone


def _agreement_snapshot(row: CoBuildingAgreement) -> dict[str, Any]:
    return audit.snapshot(row, AGREEMENT_AUDIT_FIELDS)


def _commitments(details: list[ErrorDetail], items: Any) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        details.append(ErrorDetail(field="commitments", message=_("a list of texts")))
        return []
    kept = [i.strip() for i in items if i.strip()]
    if len(kept) > MAX_COMMITMENTS:
        details.append(
            ErrorDetail(
                field="commitments",
                message=fmt(_("at most %(max_commitments)s items"), max_commitments=MAX_COMMITMENTS),
            )
        )
    for index, item in enumerate(kept):
        if len(item) > 500:
            details.append(ErrorDetail(field=f"commitments[{index}]", message=_("longer than 500 characters")))
    return kept


def _check_agreement_dates(
    details: list[ErrorDetail], signed_on: datetime.date, starts: datetime.date, ends: datetime.date | None
) -> None:
    if ends is not None and ends < starts:
        details.append(ErrorDetail(field="ends", message=_("is before the start")))
    if signed_on > _today():
        details.append(ErrorDetail(field="signed_on", message=_("is in the future")))


def _agreement_partner(actor: User, partner_id: int, action: str) -> Node:
    partner = get_in_scope(Node, actor, partner_id)
    if partner.kind not in AGREEMENT_PARTNER_KINDS:
        raise ValidationFailed(
            _("A co-building agreement is signed by a community, village or the subdistrict."),
            [
                ErrorDetail(
                    field="partner_id",
                    message=fmt(_("%(partner)s is a %(kind)s"), partner=partner.name, kind=partner.get_kind_display()),
                )
            ],
        )
    if not reaches(actor, "registry.cobuildingagreement", action, partner):
        raise Forbidden(
            fmt(
                _("You may not %(action)s agreements for %(partner)s."),
                action=action_word(action),
                partner=partner.name,
            )
        )
    return partner


@transaction.atomic
def create_agreement(
    *,
    actor: User,
    unit_id: int,
    partner_id: int,
    title: str,
    signed_on: datetime.date,
    starts: datetime.date,
    ends: datetime.date | None = None,
    party_org_id: int | None = None,
    commitments: list[str] | None = None,
) -> CoBuildingAgreement:
    """A co-building agreement (共建协议) between an organisation and a community, village or the subdistrict
    (optionally with a party organisation as a party), for a period, with what each side commits to."""
    unit = _organisation(actor, unit_id)
    partner = _agreement_partner(actor, partner_id, "add")
    details: list[ErrorDetail] = []
    if not title.strip():
        details.append(ErrorDetail(field="title", message=_("a title is required")))
    _check_agreement_dates(details, signed_on, starts, ends)
    items = _commitments(details, commitments)
    party_org = None
    if party_org_id is not None:
        party_org = PartyOrg.objects.restrict(actor, "view").filter(pk=party_org_id).first()
        if party_org is None:
            details.append(
                ErrorDetail(
                    field="party_org_id",
                    message=fmt(_("no party organisation with id %(party_org_id)s"), party_org_id=party_org_id),
                )
            )
    if details:
        raise ValidationFailed(_("The agreement cannot be recorded."), details)
    row = CoBuildingAgreement.objects.create(
        unit=unit,
        partner=partner,
        party_org=party_org,
        title=title.strip(),
        signed_on=signed_on,
        starts=starts,
        ends=ends,
        commitments=items,
        is_active=ends is None or ends >= _today(),
    )
    audit.record(
        actor=actor,
        action="registry.agreement_created",
        obj=row,
        node_code=partner.code,
        after=_agreement_snapshot(row),
    )
    return row


def _agreement(actor: User, agreement_id: int, action: str, unit_id: int | None) -> CoBuildingAgreement:
    queryset = CoBuildingAgreement.objects.select_for_update().select_related("partner", "unit")
    row = get_in_scope(CoBuildingAgreement, actor, agreement_id, queryset=queryset)
    if unit_id is not None and row.unit_id != unit_id:
        raise NotFound(fmt(_("No co-building agreement with id %(agreement_id)s."), agreement_id=agreement_id))
    if not reaches(actor, "registry.cobuildingagreement", action, row.partner):
        raise Forbidden(fmt(_("You may not %(action)s this agreement."), action=action_word(action)))
    return row


@transaction.atomic
def update_agreement(
    *, actor: User, agreement_id: int, unit_id: int | None = None, **changes: Any
) -> CoBuildingAgreement:
    """Change an agreement's ``title``, ``signed_on``, ``starts``, ``ends``, ``party_org_id`` or ``commitments``."""
    allowed = {"title", "signed_on", "starts", "ends", "party_org_id", "commitments"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here."),
            [ErrorDetail(field=f, message=_("not changeable")) for f in unknown],
        )
    row = _agreement(actor, agreement_id, "change", unit_id)
    before = _agreement_snapshot(row)
    details: list[ErrorDetail] = []
    title = changes.get("title")
    if title is not None and not title.strip():
        details.append(ErrorDetail(field="title", message=_("a title is required")))
    signed_on = changes.get("signed_on") or row.signed_on
    starts = changes.get("starts") or row.starts
    ends = changes.get("ends", row.ends)
    _check_agreement_dates(details, signed_on, starts, ends)
    items = _commitments(details, changes["commitments"]) if changes.get("commitments") is not None else None
    if "party_org_id" in changes:
        party_org = None
        if changes["party_org_id"] is not None:
            party_org = PartyOrg.objects.restrict(actor, "view").filter(pk=changes["party_org_id"]).first()
            if party_org is None:
                details.append(ErrorDetail(field="party_org_id", message=_("no such party organisation")))
        row.party_org = party_org
    if details:
        raise ValidationFailed(_("The agreement cannot be changed."), details)
    if title is not None:
        row.title = title.strip()
    row.signed_on, row.starts, row.ends = signed_on, starts, ends
    if items is not None:
        row.commitments = items
    row.save()
    after = _agreement_snapshot(row)
    if after != before:
        audit.record(
            actor=actor,
            action="registry.agreement_updated",
            obj=row,
            node_code=row.partner.code,
            before=before,
            after=after,
        )
    return row


@transaction.atomic
def end_agreement(
    *, actor: User, agreement_id: int, ends: datetime.date | None = None, unit_id: int | None = None, note: str = ""
) -> CoBuildingAgreement:
    """End an agreement on ``ends`` (default today); it stays on record, inactive."""
    row = _agreement(actor, agreement_id, "change", unit_id)
    if not row.is_active:
        raise Conflict(_("The agreement has already ended."))
    day = ends or _today()
    if day < row.starts:
        raise ValidationFailed(
            _("An agreement cannot end before it starts."),
            [ErrorDetail(field="ends", message=fmt(_("on or after %(starts)s"), starts=row.starts.isoformat()))],
        )
    before = _agreement_snapshot(row)
    row.ends, row.is_active = day, False
    row.save(update_fields=["ends", "is_active", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.agreement_ended",
        obj=row,
        node_code=row.partner.code,
        before=before,
        after=_agreement_snapshot(row),
        note=note,
    )
    return row


# --- imports: one row at a time, inside the import's transaction (see registry.imports) -----------------------------

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class PersonRow:
    """One validated resident row of an import. ``None`` / empty means "not given": an existing person keeps it.
    Sex and birth date come from the (valid) ID number."""

    name: str
    id_number: str
    household: Node
    room: str
    phone: str = ""
    population_type: str | None = None
    moved_in: datetime.date | None = None
    tags: tuple[tuple[str, str], ...] = ()


def _tag_names(tags: Any) -> list[str]:
    return sorted(f"{tag}:{label}" if label else str(tag) for tag, label in tags)


@transaction.atomic(savepoint=False)
def import_person(
    *,
    actor: User,
    row: PersonRow,
    person: Person | None,
    open_residence: Residence | None = None,
    open_tags: Collection[tuple[str, str]] = (),
) -> str:
    """Create or update one resident from an import row; ``created`` / ``updated`` / ``unchanged``.

    ``person`` is the registered person with the row's ID number (or ``None``); for an existing person the caller
    passes what it prefetched: the open residence and the open tags as (tag, label) pairs. The row's household must
    be in the actor's *add* scope. A different household is a move (the old residence closes on ``moved_in`` or
    today); tags are added when missing and never ended by an import; an existing person is marked active."""
    household = row.household
    if not reaches(actor, "registry.person", "add", household):
        raise Forbidden(_("The household is outside your area."))
    card = idcard.parse_id_number(row.id_number)
    today = _today()
    if person is None:
        person = Person.objects.create(
            name=row.name,
            id_number=card.number,
            phone=row.phone,
            sex=card.sex,
            birth_date=card.birth_date,
            population_type=row.population_type or PopulationType.REGISTERED,
            household=household,
            room=row.room,
        )
        Residence.objects.create(person=person, household=household, moved_in=row.moved_in or today)
        PersonTag.objects.bulk_create(PersonTag(person=person, tag=t, label=lb, since=today) for t, lb in row.tags)
        after = {**_snapshot(person), "tags": _tag_names(row.tags)}
        audit.record(actor=actor, action="registry.person_created", obj=person, node_code=household.code, after=after)
        return CREATED

    before = {**_snapshot(person), "tags": _tag_names(open_tags)}
    wanted: dict[str, Any] = {"name": row.name, "sex": card.sex, "birth_date": card.birth_date, "is_active": True}
    if person.household_id != household.pk or not person.room:
        wanted["room"] = row.room  # in the same household another spelling of the room is no change
    if row.phone:
        wanted["phone"] = row.phone
    if row.population_type:
        wanted["population_type"] = row.population_type
    changed = False
    for key, value in wanted.items():
        if getattr(person, key) != value:
            setattr(person, key, value)
            changed = True
    moved = person.household_id != household.pk
    if moved:
        day = row.moved_in or today
        if open_residence is not None:
            if day < open_residence.moved_in:
                raise ValidationFailed(
                    _("A move cannot predate the current residence."),
                    [
                        ErrorDetail(
                            field="moved_in",
                            message=fmt(_("on or after %(moved_in)s"), moved_in=open_residence.moved_in.isoformat()),
                        )
                    ],
                )
            open_residence.moved_out = day
            open_residence.save(update_fields=["moved_out", "updated_at"])
        Residence.objects.create(person=person, household=household, moved_in=day, note="import")
        person.household = household
        changed = True
    have = set(open_tags)
    missing = [(t, lb) for t, lb in dict.fromkeys(row.tags) if (t, lb) not in have]
    if missing:
        PersonTag.objects.bulk_create(PersonTag(person=person, tag=t, label=lb, since=today) for t, lb in missing)
        changed = True
    if not changed:
        return UNCHANGED
    person.save()
    audit.record(
        actor=actor,
        action="registry.person_moved" if moved else "registry.person_updated",
        obj=person,
        node_code=household.code,
        before=before,
        after={**_snapshot(person), "tags": _tag_names(have | set(missing))},
        note="import",
    )
    return UPDATED


PERSON_COPY_COLUMNS = [
    "id", "created_at", "updated_at", "name", "id_number", "phone", "sex", "birth_date", "population_type",
    "household_id", "room", "is_active",
]  # fmt: skip


@dataclass(frozen=True)
class NewPerson:
    """A validated import row of someone not registered yet, in a household that exists (set-based import)."""

    name: str
    id_number: str
    sex: str
    birth_date: datetime.date
    household: Node
    room: str
    phone: str = ""
    population_type: str | None = None
    moved_in: datetime.date | None = None
    tags: tuple[tuple[str, str], ...] = ()


@transaction.atomic(savepoint=False)
def import_new_people(*, actor: User, rows: list[NewPerson]) -> int:
    """Register many new residents at once: what :func:`import_person` writes for a new person (the person, the open
    residence, the tags, a ``registry.person_created`` audit record each), set-based: one ``COPY`` per table on
    PostgreSQL, ``bulk_create`` elsewhere. The caller (the import) has validated the rows, checked the actor's
    *add* scope on every household and that no ID number is registered; a clash meanwhile raises
    ``IntegrityError`` and writes nothing. Returns how many."""
    if not rows:
        return 0
    today = _today()
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    label = Person._meta.label_lower
    registered = PopulationType.REGISTERED
    if connection.vendor == "postgresql":
        ids = bulk.reserve_ids(Person, len(rows))
        bulk.copy_rows(
            Person,
            sql.PERSON_COPY_COLUMNS,
            [
                (
                    pk,
                    now,
                    now,
                    r.name,
                    r.id_number,
                    r.phone,
                    r.sex,
                    r.birth_date,
                    r.population_type or registered,
                    r.household.pk,
                    r.room,
                    True,
                )
                for pk, r in zip(ids, rows, strict=True)
            ],
        )
    else:
        people = Person.objects.bulk_create(
            Person(
                name=r.name,
                id_number=r.id_number,
                phone=r.phone,
                sex=r.sex,
                birth_date=r.birth_date,
                population_type=r.population_type or registered,
                household=r.household,
                room=r.room,
                is_active=True,
            )
            for r in rows
        )
        ids = [p.pk for p in people]
    residences = [(pk, r.household.pk, r.moved_in or today) for pk, r in zip(ids, rows, strict=True)]
    tags = [(pk, t, lb) for pk, r in zip(ids, rows, strict=True) for t, lb in dict.fromkeys(r.tags)]
    audits = []
    for pk, r in zip(ids, rows, strict=True):
        after = {
            "name": r.name,
            "sex": r.sex,
            "birth_date": r.birth_date.isoformat() if r.birth_date else None,
            "population_type": str(r.population_type or registered),
            "household": r.household.pk,
            "room": r.room,
            "is_active": True,
            "id_number": mask_id_number(r.id_number),
            "phone": mask_phone(r.phone),
            "tags": _tag_names(r.tags),
        }
        audits.append((now, actor_id, "registry.person_created", label, str(pk), r.name[:200], r.household.code, after))
    if connection.vendor == "postgresql":
        bulk.copy_rows(
            Residence,
            sql.RESIDENCE_COPY_COLUMNS,
            [(now, now, pid, hid, day, "") for pid, hid, day in residences],
        )
        if tags:
            bulk.copy_rows(
                PersonTag,
                sql.TAG_COPY_COLUMNS,
                [(now, now, pid, str(t), lb, today) for pid, t, lb in tags],
            )
        bulk.copy_rows(
            AuditLog,
            sql.AUDIT_COPY_COLUMNS,
            [(*a[:7], json.dumps(a[7], ensure_ascii=False), "") for a in audits],  # text into jsonb
        )
    else:
        Residence.objects.bulk_create(
            Residence(person_id=pid, household_id=hid, moved_in=day) for pid, hid, day in residences
        )
        PersonTag.objects.bulk_create(PersonTag(person_id=pid, tag=t, label=lb, since=today) for pid, t, lb in tags)
        AuditLog.objects.bulk_create(
            AuditLog(
                at=a[0],
                actor_id=a[1],
                action=a[2],
                object_type=a[3],
                object_id=a[4],
                object_repr=a[5],
                node_code=a[6],
                after=a[7],
            )
            for a in audits
        )
    return len(ids)


@transaction.atomic(savepoint=False)
def import_household(
    *, actor: User, building: Node, room: str, household: Node | None, address: str = ""
) -> tuple[Node, str]:
    """Create a household node under ``building`` (named ``room``), or update the address of the existing one.
    Through ``territory.services`` (its rights: *add* / *change* on places; its audit records)."""
    if household is None:
        node = territory_services.create_node(
            actor=actor, parent_id=building.pk, kind=NodeKind.HOUSEHOLD, name=room, address=address
        )
        return node, CREATED
    if address and household.address != address:
        node = territory_services.update_node(actor=actor, node_id=household.pk, address=address)
        return node, UPDATED
    return household, UNCHANGED


@transaction.atomic(savepoint=False)
def import_party_member(
    *,
    actor: User,
    person: Person,
    membership: PartyMember | None,
    member_type: str,
    branch: PartyOrg | None = None,
    work_unit: Body | None = None,
    reported_in: bool | None = None,
    reported_in_on: datetime.date | None = None,
) -> str:
    """Create or update a person's party membership from an import row. ``None`` = not given (kept as it is);
    a report-in date implies reported in; "not reported in" clears the date."""
    household = person.household
    scope = actor.scope_for("registry.partymember", "add" if membership is None else "change")
    if not (scope.everything or (household is not None and scope.covers(household.code, household.lead_body_id))):
        raise Forbidden(_("The person is outside your area."))
    if reported_in_on is not None:
        reported_in = True
    if membership is None:
        row = PartyMember.objects.create(
            person=person,
            member_type=member_type,
            branch=branch,
            work_unit=work_unit,
            reported_in=bool(reported_in),
            reported_in_on=reported_in_on if reported_in else None,
        )
        after = _party_snapshot(row)
        audit.record(actor=actor, action="registry.party_member_added", obj=row, node_code=_code(person), after=after)
        return CREATED
    before = _party_snapshot(membership)
    membership.member_type = member_type
    if branch is not None:
        membership.branch = branch
    if work_unit is not None:
        membership.work_unit = work_unit
    if reported_in is not None:
        membership.reported_in = reported_in
        if not reported_in:
            membership.reported_in_on = None
        elif reported_in_on is not None:
            membership.reported_in_on = reported_in_on
    after = _party_snapshot(membership)
    if after == before:
        return UNCHANGED
    membership.save()
    audit.record(
        actor=actor,
        action="registry.party_member_updated",
        obj=membership,
        node_code=_code(person),
        before=before,
        after=after,
        note="import",
    )
    return UPDATED


@transaction.atomic(savepoint=False)
def import_organisation(
    *,
    actor: User,
    body: Body | None,
    name: str,
    kind: str,
    node: Node | None,
    contact_name: str = "",
    contact_phone: str = "",
    description: str = "",
) -> str:
    """Create an organisation (matched on kind + name) or update what the row gives (empty cells keep the stored
    value) through :func:`create_organisation` / :func:`update_organisation`."""
    if body is None:
        create_organisation(
            actor=actor,
            name=name,
            kind=kind,
            node_id=node.pk if node is not None else None,
            contact_name=contact_name,
            contact_phone=contact_phone,
            description=description,
        )
        return CREATED
    changes: dict[str, Any] = {}
    if node is not None and body.node_id != node.pk:
        changes["node_id"] = node.pk
    for key, value in (("contact_name", contact_name), ("contact_phone", contact_phone), ("description", description)):
        if value and getattr(body, key) != value:
            changes[key] = value
    if not changes:
        return UNCHANGED
    update_organisation(actor=actor, body_id=body.pk, **changes)
    return UPDATED


# --- import and export jobs (see registry.imports and registry.exports) ---------------------------------------------

JOB_STALE_AFTER = datetime.timedelta(minutes=10)  # a running job without a heartbeat for this long: its worker died
QUEUED_STALE_AFTER = datetime.timedelta(days=1)  # a job never picked up by a worker in a day
BAD_ROWS_KEPT = datetime.timedelta(days=7)  # the bad-rows XLSX (full ID numbers) is purged after this
EXPORT_KEPT = datetime.timedelta(days=7)  # a large export's file is deleted after this
IMPORT_UPLOADS = "registry-imports"  # core.uploads areas
EXPORT_FILES = "registry-exports"

IMPORT_STALE_MESSAGE = gettext_noop(
    "The import stopped without finishing: its background worker stopped. The rows written before that are in; "
    "importing the file again is safe (rows already in change nothing)."
)
IMPORT_NEVER_RAN_MESSAGE = gettext_noop(
    "The import never started: no background worker took it. Please import the file again."
)
EXPORT_STALE_MESSAGE = gettext_noop(
    "The export stopped without finishing: its background worker stopped. Please ask for it again."
)


@transaction.atomic
def create_import_run(
    *,
    actor: User,
    kind: str,
    file_name: str,
    good_rows_only: bool,
    mapping: dict[str, str] | None,
    upload: str,
    node_code: str,
    running: bool = False,
) -> ImportRun:
    """A new import job: queued with its stored upload (the caller enqueues the task after commit), or ``running``
    at once when the request runs it itself (small files)."""
    now = timezone.now()
    run = ImportRun.objects.create(
        kind=kind,
        actor=actor,
        file_name=(file_name or "")[:200],
        good_rows_only=good_rows_only,
        mapping=mapping or None,
        upload=upload,
        state=JobState.RUNNING if running else JobState.QUEUED,
        started_at=now if running else None,
        heartbeat_at=now,
        node_code=node_code,
    )
    if not running:
        audit.record(
            actor=actor,
            action="registry.import_queued",
            obj=run,
            node_code=node_code,
            after={"kind": kind, "file": file_name, "good_rows_only": good_rows_only},
        )
    return run


@transaction.atomic
def start_import_run(*, run_id: int) -> ImportRun | None:
    """Mark a queued import running (once: a job already started or finished is left alone, ``None`` returned)."""
    run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.state != JobState.QUEUED:
        return None
    now = timezone.now()
    ImportRun.objects.filter(pk=run_id).update(state=JobState.RUNNING, started_at=now, heartbeat_at=now, updated_at=now)
    return ImportRun.objects.select_related("actor").get(pk=run_id)


def record_import_progress(*, run_id: int, processed: int, progress: float) -> None:
    """How far a running import got, and its heartbeat (its own short transaction)."""
    now = timezone.now()
    ImportRun.objects.filter(pk=run_id, state=JobState.RUNNING).update(
        processed=processed, progress=max(0.0, min(1.0, progress)), heartbeat_at=now, updated_at=now
    )


@transaction.atomic
def finish_import_run(
    *,
    run_id: int,
    failed: bool,
    message: str = "",
    applied: bool = False,
    total_rows: int = 0,
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    bad: int = 0,
    errors: list[dict[str, Any]] | None = None,
    bad_rows: bytes | None = None,
    extra: dict[str, int] | None = None,
) -> ImportRun:
    """An import ended (done, or failed with ``message``): its counts, its bad rows (kept :data:`BAD_ROWS_KEPT`),
    the one ``registry.imported`` audit record; the stored upload is deleted."""
    from gongzhi.core import uploads

    run = ImportRun.objects.select_for_update().select_related("actor").get(pk=run_id)
    stored = run.upload
    now = timezone.now()
    run.state = JobState.FAILED if failed else JobState.DONE
    run.message = message
    run.applied = applied
    run.total_rows = total_rows
    run.created, run.updated, run.unchanged = created, updated, unchanged
    run.processed = total_rows if not failed else run.processed
    run.progress = 1.0 if not failed else run.progress
    run.failed = bad
    run.errors = errors or []
    run.bad_rows = bad_rows
    run.bad_rows_until = now + BAD_ROWS_KEPT if bad_rows is not None else None
    run.upload = ""
    run.heartbeat_at = now
    run.finished_at = now
    run.save()
    audit.record(
        actor=run.actor,
        action="registry.imported",
        obj=run,
        node_code=run.node_code,
        after={
            "kind": run.kind,
            "file": run.file_name,
            "good_rows_only": run.good_rows_only,
            "applied": applied,
            "rows": total_rows,
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "failed": bad,
            **({"error": message} if failed else {}),
            **(extra or {}),
        },
    )
    if stored:
        transaction.on_commit(lambda: uploads.delete(stored))
    return run


@transaction.atomic
def create_export_job(*, actor: User, kind: str, filters: dict[str, Any], reveal: bool) -> ExportJob:
    """A large export, queued (the caller enqueues the task after commit)."""
    now = timezone.now()
    job = ExportJob.objects.create(
        kind=kind, actor=actor, filters=filters, reveal=reveal, state=JobState.QUEUED, heartbeat_at=now
    )
    audit.record(
        actor=actor,
        action="registry.export_queued",
        obj=job,
        after={"kind": kind, "filters": filters, "reveal": reveal},
    )
    return job


@transaction.atomic
def start_export_job(*, job_id: int) -> ExportJob | None:
    job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.state != JobState.QUEUED:
        return None
    now = timezone.now()
    ExportJob.objects.filter(pk=job_id).update(state=JobState.RUNNING, started_at=now, heartbeat_at=now, updated_at=now)
    return ExportJob.objects.select_related("actor").get(pk=job_id)


def record_export_heartbeat(*, job_id: int) -> None:
    now = timezone.now()
    ExportJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(heartbeat_at=now, updated_at=now)


@transaction.atomic
def finish_export_job(
    *,
    job_id: int,
    failed: bool,
    message: str = "",
    file: str = "",
    file_name: str = "",
    rows: int = 0,
    revealed: int = 0,
) -> ExportJob:
    """An export ended: its private file (kept :data:`EXPORT_KEPT`), or why it failed."""
    now = timezone.now()
    job = ExportJob.objects.select_for_update().get(pk=job_id)
    job.state = JobState.FAILED if failed else JobState.DONE
    job.message = message
    job.file = file
    job.file_name = file_name[:200]
    job.rows = rows
    job.revealed = revealed
    job.heartbeat_at = now
    job.finished_at = now
    job.expires_at = now + EXPORT_KEPT if file else None
    job.save()
    return job


def expire_dead_jobs(
    *, now: datetime.datetime | None = None, run_id: int | None = None, job_id: int | None = None
) -> dict[str, int]:
    """Mark failed the running imports and exports whose worker died (no heartbeat for :data:`JOB_STALE_AFTER`)
    and those queued for longer than :data:`QUEUED_STALE_AFTER`; their stored uploads are deleted. Only the import
    ``run_id`` / the export ``job_id`` when given (a page or the API looking at one job)."""
    now = now or timezone.now()
    out = {"imports_failed": 0, "exports_failed": 0}
    dead = Q(state=JobState.RUNNING, heartbeat_at__lt=now - JOB_STALE_AFTER) | Q(
        state=JobState.QUEUED, created_at__lt=now - QUEUED_STALE_AFTER
    )
    runs = ImportRun.objects.filter(dead)
    jobs = ExportJob.objects.filter(dead)
    if run_id is not None or job_id is not None:
        runs = runs.filter(pk=run_id) if run_id is not None else runs.none()
        jobs = jobs.filter(pk=job_id) if job_id is not None else jobs.none()
    for pk, state in list(runs.values_list("pk", "state")):
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().filter(dead, pk=pk).first()
            if run is None:
                continue
            finish_import_run(
                run_id=pk,
                failed=True,
                message=IMPORT_STALE_MESSAGE if state == JobState.RUNNING else IMPORT_NEVER_RAN_MESSAGE,
                applied=run.processed > 0,
                total_rows=run.total_rows,
                errors=run.errors,
            )
            out["imports_failed"] += 1
    for pk in list(jobs.values_list("pk", flat=True)):
        with transaction.atomic():
            if ExportJob.objects.select_for_update().filter(dead, pk=pk).exists():
                finish_export_job(job_id=pk, failed=True, message=EXPORT_STALE_MESSAGE)
                out["exports_failed"] += 1
    return out


def sweep_jobs(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Housekeeping of the registry's jobs (run by ``registry_sweep`` and before every new job):

    * a running import or export whose heartbeat is older than :data:`JOB_STALE_AFTER` (its worker was killed) is
      marked failed with a clear message and its stored upload deleted; a job queued for more than
      :data:`QUEUED_STALE_AFTER` likewise;
    * bad-rows files older than :data:`BAD_ROWS_KEPT` and export files older than :data:`EXPORT_KEPT` are purged;
    * private files no job refers to any more (left by a crash) are deleted."""
    from gongzhi.core import uploads

    now = now or timezone.now()
    out = {**expire_dead_jobs(now=now), "bad_rows_purged": 0, "exports_purged": 0, "orphans": 0}
    out["bad_rows_purged"] = ImportRun.objects.filter(bad_rows__isnull=False, bad_rows_until__lt=now).update(
        bad_rows=None, bad_rows_until=None, updated_at=now
    )
    for job_id, name in list(ExportJob.objects.filter(expires_at__lt=now).exclude(file="").values_list("pk", "file")):
        ExportJob.objects.filter(pk=job_id).update(file="", updated_at=now)
        uploads.delete(name)
        out["exports_purged"] += 1
    keep_uploads = set(ImportRun.objects.exclude(upload="").values_list("upload", flat=True))
    keep_exports = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    out["orphans"] = uploads.sweep(IMPORT_UPLOADS, 3600, keep_uploads) + uploads.sweep(EXPORT_FILES, 3600, keep_exports)
    return out
