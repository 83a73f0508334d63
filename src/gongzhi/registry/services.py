"""Writes to the registry: typed, keyword-only, the actor explicit, one transaction, audited.

Audit snapshots keep ID numbers and phones masked: the audit log is read more widely than the registry.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry import idcard
from gongzhi.registry.choices import PopulationType, Sex, TagKind
from gongzhi.registry.models import Person, PersonTag, Residence
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

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


def _may(actor: Any, label: str, action: str, node: Node) -> bool:
    return bool(actor.scope_for(label, action).covers(node.code, node.lead_body_id))


def _household(actor: Any, household_id: int, label: str, field: str) -> Node:
    node = get_in_scope(Node, actor, household_id)
    if node.kind != NodeKind.HOUSEHOLD:
        raise ValidationFailed(
            "People live in households.", [ErrorDetail(field=field, message=f"{node.name} is a {node.kind}")]
        )
    if not _may(actor, label, "add", node):
        raise Forbidden("You may not register people in this household.")
    return node


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
) -> idcard.IdCard | None:
    """Validate the fields given; returns the parsed ID card when an ID number was given and is valid."""
    if name is not None and not name.strip():
        details.append(ErrorDetail(field="name", message="a name is required"))
    card = None
    if id_number:
        errors = idcard.id_number_errors(id_number)
        details.extend(ErrorDetail(field="id_number", message=m) for m in errors)
        if not errors:
            card = idcard.parse_id_number(id_number)
            if sex and sex != card.sex:
                details.append(ErrorDetail(field="sex", message="does not match the ID number"))
            if birth_date and birth_date != card.birth_date:
                details.append(ErrorDetail(field="birth_date", message="does not match the ID number"))
            taken = Person.objects.filter(id_number=card.number)
            if exclude_pk is not None:
                taken = taken.exclude(pk=exclude_pk)
            if taken.exists():
                raise Conflict(
                    "This ID number is already registered.",
                    [ErrorDetail(field="id_number", message="already registered")],
                )
    if phone and not _PHONE.fullmatch(phone.strip()):
        details.append(ErrorDetail(field="phone", message="a phone number is digits (and + - spaces)"))
    if sex and sex not in Sex.values:
        details.append(ErrorDetail(field="sex", message=f"expected one of {', '.join(Sex.values)}"))
    if birth_date and birth_date > _today():
        details.append(ErrorDetail(field="birth_date", message="is in the future"))
    if population_type is not None and population_type not in PopulationType.values:
        details.append(
            ErrorDetail(field="population_type", message=f"expected one of {', '.join(PopulationType.values)}")
        )
    return card


@transaction.atomic
def create_person(
    *,
    actor: Any,
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
        raise ValidationFailed("A person needs a household.", [ErrorDetail(field="household_id", message="required")])
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
        raise ValidationFailed("The person cannot be registered.", details)
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


@transaction.atomic
def update_person(*, actor: Any, person_id: int, **changes: Any) -> Person:
    """Change a person's own data. Moving house is :func:`move_person`, which keeps the history."""
    allowed = {"name", "id_number", "phone", "sex", "birth_date", "population_type", "room", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here.", [ErrorDetail(field=f, message="not changeable") for f in unknown]
        )
    person = get_in_scope(
        Person, actor, person_id, "change", queryset=Person.objects.select_for_update().select_related("household")
    )
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
        raise ValidationFailed("The person cannot be changed.", details)
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
    *, actor: Any, person_id: int, household_id: int, moved_on: datetime.date | None = None, note: str = ""
) -> Person:
    """Move a person to another household: close the open residence, open a new one, keep the history."""
    person = get_in_scope(
        Person, actor, person_id, "change", queryset=Person.objects.select_for_update().select_related("household")
    )
    target = _household(actor, household_id, "registry.residence", "household_id")
    day = moved_on or _today()
    if person.household_id == target.pk:
        raise ValidationFailed(
            "The person already lives there.", [ErrorDetail(field="household_id", message="same household")]
        )
    current = Residence.objects.select_for_update().filter(person=person, moved_out__isnull=True).first()
    if current is not None:
        if day < current.moved_in:
            raise ValidationFailed(
                "A move cannot predate the current residence.",
                [ErrorDetail(field="moved_on", message=f"on or after {current.moved_in.isoformat()}")],
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
    actor: Any,
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
        details.append(ErrorDetail(field="tag", message=f"expected one of {', '.join(TagKind.values)}"))
    if tag == TagKind.OTHER and not label.strip():
        details.append(ErrorDetail(field="label", message="an 'other' tag needs a label"))
    start = since or _today()
    if until is not None and until < start:
        details.append(ErrorDetail(field="until", message="is before since"))
    if details:
        raise ValidationFailed("The tag cannot be added.", details)
    open_same = PersonTag.objects.filter(person=person, tag=tag, label=label.strip(), until__isnull=True)
    if until is None and open_same.exists():
        raise Conflict("The person already carries this tag.", [ErrorDetail(field="tag", message="already open")])
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
def untag_person(*, actor: Any, tag_id: int, until: datetime.date | None = None) -> PersonTag:
    """End a tag (kept as history with its end date)."""
    row = get_in_scope(
        PersonTag, actor, tag_id, "change", queryset=PersonTag.objects.select_related("person__household")
    )
    end = until or _today()
    if row.until is not None:
        raise Conflict("The tag has already ended.")
    if end < row.since:
        raise ValidationFailed("The tag cannot end before it began.", [ErrorDetail(field="until", message="too early")])
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


def reveal_person_field(*, actor: Any, person_id: int, field: str) -> str:
    """Show a person's ID number or phone unmasked. Allowed only in scope with the reveal right; always audited."""
    if field not in REVEALABLE_PERSON_FIELDS:
        raise ValidationFailed(
            "This field cannot be revealed.",
            [ErrorDetail(field="field", message=f"expected one of {', '.join(REVEALABLE_PERSON_FIELDS)}")],
        )
    person = get_in_scope(Person, actor, person_id, "reveal", queryset=Person.objects.select_related("household"))
    with transaction.atomic():
        audit.record(actor=actor, action="privacy.reveal", obj=person, node_code=_code(person), note=f"field={field}")
    return str(getattr(person, field) or "")
