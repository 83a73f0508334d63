"""Registry schemas. ID numbers and phones are always masked; revealing one is ``POST /people/{id}/reveal``."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Schema

from gongzhi.core.privacy import mask_id_number, mask_phone


class PersonTagOut(Schema):
    id: int
    tag: str
    tag_label: str
    label: str
    since: datetime.date
    until: datetime.date | None

    @staticmethod
    def resolve_tag_label(obj: Any) -> str:
        return str(obj.label or obj.get_tag_display())


class PersonOut(Schema):
    id: int
    name: str
    id_number_masked: str
    phone_masked: str
    sex: str
    birth_date: datetime.date | None
    population_type: str
    population_type_label: str
    household_id: int | None
    household_name: str | None
    room: str
    is_active: bool
    tags: list[PersonTagOut]

    @staticmethod
    def resolve_id_number_masked(obj: Any) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone_masked(obj: Any) -> str:
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_population_type_label(obj: Any) -> str:
        return str(obj.get_population_type_display())

    @staticmethod
    def resolve_household_name(obj: Any) -> str | None:
        return obj.household.name if obj.household_id else None

    @staticmethod
    def resolve_tags(obj: Any) -> list[Any]:
        return list(obj.tags.all())


class ResidenceOut(Schema):
    id: int
    household_id: int
    household_name: str
    moved_in: datetime.date
    moved_out: datetime.date | None
    note: str

    @staticmethod
    def resolve_household_name(obj: Any) -> str:
        return str(obj.household.name)


class PartyMemberOut(Schema):
    member_type: str
    member_type_label: str
    branch_id: int | None
    branch_name: str | None
    work_unit_id: int | None
    work_unit_name: str | None
    reported_in: bool = Field(..., description="双报到: the member and their work unit reported in here.")
    reported_in_on: datetime.date | None

    @staticmethod
    def resolve_member_type_label(obj: Any) -> str:
        return str(obj.get_member_type_display())

    @staticmethod
    def resolve_branch_name(obj: Any) -> str | None:
        return obj.branch.name if obj.branch_id else None

    @staticmethod
    def resolve_work_unit_name(obj: Any) -> str | None:
        return obj.work_unit.name if obj.work_unit_id else None


class PersonDetailOut(PersonOut):
    residences: list[ResidenceOut]
    party_membership: PartyMemberOut | None

    @staticmethod
    def resolve_residences(obj: Any) -> list[Any]:
        return list(obj.residences.all())

    @staticmethod
    def resolve_party_membership(obj: Any) -> Any:
        return getattr(obj, "party_membership", None)


class PersonIn(Schema):
    name: str
    household_id: int | None = None
    id_number: str | None = None
    phone: str = ""
    sex: str = ""
    birth_date: datetime.date | None = None
    population_type: str = "registered"
    room: str = ""
    moved_in: datetime.date | None = None


class PersonPatch(Schema):
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    sex: str | None = None
    birth_date: datetime.date | None = None
    population_type: str | None = None
    room: str | None = None
    is_active: bool | None = None


class MoveIn(Schema):
    household_id: int
    moved_on: datetime.date | None = None
    note: str = ""


class PersonRevealIn(Schema):
    field: str = Field(..., description="id_number or phone")
