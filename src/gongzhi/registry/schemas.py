"""Registry schemas. ID numbers and phones are always masked; revealing one is ``POST /people/{id}/reveal``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from gongzhi.core.messages import stored
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.core.schemas import Date, InputSchema, Int64
from gongzhi.registry.selectors import household_address

if TYPE_CHECKING:
    from gongzhi.registry.models import PartyMember
    from gongzhi.territory.models import Node


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


class PersonIn(InputSchema):
    name: str
    household_id: Int64 | None = None
    id_number: str | None = None
    phone: str = ""
    sex: str = ""
    birth_date: Date | None = None
    population_type: str = "registered"
    room: str = ""
    moved_in: Date | None = None


class PersonPatch(InputSchema):
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    sex: str | None = None
    birth_date: Date | None = None
    population_type: str | None = None
    room: str | None = None
    is_active: bool | None = None


class MoveIn(InputSchema):
    household_id: Int64
    moved_on: Date | None = None
    note: str = ""


class PersonRevealIn(InputSchema):
    field: str = Field(..., description="id_number or phone")


# --- tags -----------------------------------------------------------------------------------------------------------


class TagIn(InputSchema):
    tag: str = Field(..., description="elderly_alone, elderly, child, disabled, hardship or other")
    label: str = Field("", description="What an 'other' tag means (required for other).")
    since: Date | None = Field(None, description="Default: today.")
    until: Date | None = None


class TagEndIn(InputSchema):
    until: Date | None = Field(None, description="Default: today.")


# --- party members --------------------------------------------------------------------------------------------------


class PartyMembershipIn(InputSchema):
    member_type: str = Field(..., description="community, on_duty, retired, two_new or mobile")
    branch_id: Int64 | None = None
    work_unit_id: Int64 | None = None
    reported_in: bool = False
    reported_in_on: Date | None = None


class PartyMembershipPatch(InputSchema):
    member_type: str | None = None
    branch_id: Int64 | None = None
    work_unit_id: Int64 | None = None
    reported_in: bool | None = None
    reported_in_on: Date | None = None


class PartyMemberListOut(PartyMemberOut):
    person_id: int
    name: str
    id_number_masked: str
    phone_masked: str
    household_id: int | None
    household_name: str | None

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.person.name)

    @staticmethod
    def resolve_id_number_masked(obj: Any) -> str:
        return mask_id_number(obj.person.id_number)

    @staticmethod
    def resolve_phone_masked(obj: Any) -> str:
        return mask_phone(obj.person.phone)

    @staticmethod
    def resolve_household_id(obj: PartyMember) -> int | None:
        return obj.person.household_id

    @staticmethod
    def resolve_household_name(obj: Any) -> str | None:
        return obj.person.household.name if obj.person.household_id else None


# --- households -----------------------------------------------------------------------------------------------------


class HouseholdOut(Schema):
    id: int
    code: str
    name: str
    building_id: int | None
    building_name: str | None
    address: str
    member_count: int

    @staticmethod
    def resolve_building_id(obj: Node) -> int | None:
        return obj.parent_id

    @staticmethod
    def resolve_building_name(obj: Any) -> str | None:
        return obj.parent.name if obj.parent_id and obj.parent else None

    @staticmethod
    def resolve_address(obj: Any) -> str:
        return household_address(obj)


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut] = Field(..., description="Who lives there now (ID numbers and phones masked).")

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return list(obj.member_list)


# --- imports --------------------------------------------------------------------------------------------------------


class ImportErrorOut(Schema):
    row: int | None = Field(None, description="The row in the file; the header is row 1.")
    field: str | None = None
    message: str


class ImportRunOut(Schema):
    id: int
    kind: str
    kind_label: str
    file_name: str
    actor_name: str
    created_at: datetime.datetime
    good_rows_only: bool
    applied: bool = Field(..., description="False when nothing was imported.")
    total_rows: int
    created: int
    updated: int
    unchanged: int
    failed: int = Field(..., description="How many rows are bad.")
    errors: list[ImportErrorOut]
    bad_rows_url: str | None = Field(
        None,
        description="The bad rows as XLSX, to fix and import again (for the importer only; purged after 7 days).",
    )
    state: str = Field(..., description="queued, running, done or failed (an import is a background job).")
    state_label: str
    processed: int = Field(..., description="Rows written so far.")
    progress: float = Field(..., description="0..1 while the job runs; 1 when done.")
    message: str = Field(..., description="Why the job failed (empty otherwise).")
    heartbeat_at: datetime.datetime | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    url: str = Field(..., description="This job: poll it until its state is done or failed.")

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/api/v1/people/imports/{obj.pk}"

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_actor_name(obj: Any) -> str:
        return str(obj.actor)

    @staticmethod
    def resolve_errors(obj: Any) -> list[dict[str, Any]]:
        """Each message kept as a code (with its values): shown in the request's language."""
        return [{**e, "message": stored(e.get("message"))} for e in obj.errors or []]

    @staticmethod
    def resolve_message(obj: Any) -> str:
        return stored(obj.message)

    @staticmethod
    def resolve_bad_rows_url(obj: Any, context: Any) -> str | None:
        has = getattr(obj, "has_bad_rows", None)  # annotated by the selectors, which defer the file itself
        if has is None:
            has = obj.bad_rows is not None
        request = (context or {}).get("request")
        user = getattr(request, "auth", None) or getattr(request, "user", None)
        mine = obj.actor_id == getattr(user, "pk", None)
        return f"/api/v1/people/imports/{obj.pk}/bad-rows.xlsx" if has and mine else None


class ExportJobOut(Schema):
    """A large export made in the background: poll ``url`` until ``state`` is done, then download ``file_url``."""

    id: int
    kind: str
    kind_label: str
    state: str = Field(..., description="queued, running, done or failed.")
    state_label: str
    reveal: bool
    filters: dict[str, Any]
    rows: int
    revealed: int
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = Field(None, description="When the file is deleted.")
    url: str
    file_url: str | None = Field(None, description="The workbook, for the requester only, once the job is done.")

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/api/v1/people/exports/{obj.pk}"

    @staticmethod
    def resolve_message(obj: Any) -> str:
        return stored(obj.message)

    @staticmethod
    def resolve_file_url(obj: Any) -> str | None:
        return f"/api/v1/people/exports/{obj.pk}/file.xlsx" if obj.file else None


# --- organisations --------------------------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    node_id: int | None
    node_name: str | None
    contact_name: str
    contact_phone_masked: str
    description: str
    is_active: bool

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_node_name(obj: Any) -> str | None:
        return obj.node.name if obj.node_id and obj.node else None

    @staticmethod
    def resolve_contact_phone_masked(obj: Any) -> str:
        return mask_phone(obj.contact_phone)


class OrganisationIn(InputSchema):
    name: str
    kind: str = Field(..., description="co_building_unit, enterprise, school, hospital, social_organisation, …")
    node_id: Int64 | None = Field(None, description="Where it sits (required unless you are an administrator).")
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""


class OrganisationPatch(InputSchema):
    name: str | None = None
    node_id: Int64 | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None
    is_active: bool | None = None


class ContactOut(Schema):
    id: int
    body_id: int
    name: str
    title: str
    phone_masked: str
    email: str
    is_primary: bool

    @staticmethod
    def resolve_phone_masked(obj: Any) -> str:
        return mask_phone(obj.phone)


class ContactIn(InputSchema):
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""
    is_primary: bool = False


class ContactPatch(InputSchema):
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    is_primary: bool | None = None


class AgreementOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    partner_id: int
    partner_name: str
    party_org_id: int | None
    party_org_name: str | None
    title: str
    signed_on: datetime.date
    starts: datetime.date
    ends: datetime.date | None
    commitments: list[str]
    is_active: bool

    @staticmethod
    def resolve_unit_name(obj: Any) -> str:
        return str(obj.unit.name)

    @staticmethod
    def resolve_partner_name(obj: Any) -> str:
        return str(obj.partner.name)

    @staticmethod
    def resolve_party_org_name(obj: Any) -> str | None:
        return obj.party_org.name if obj.party_org_id and obj.party_org else None


class AgreementIn(InputSchema):
    partner_id: Int64 = Field(..., description="The community, village or subdistrict that signs.")
    title: str
    signed_on: Date
    starts: Date
    ends: Date | None = None
    party_org_id: Int64 | None = None
    commitments: list[str] = Field(default_factory=list, description="What each party commits to, one per item.")


class AgreementPatch(InputSchema):
    title: str | None = None
    signed_on: Date | None = None
    starts: Date | None = None
    ends: Date | None = None
    party_org_id: Int64 | None = None
    commitments: list[str] | None = None


class AgreementEndIn(InputSchema):
    ends: Date | None = Field(None, description="Default: today.")
    note: str = ""
