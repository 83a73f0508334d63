"""The registry API: people (with tags, party membership, imports and exports), households and organisations
(with contacts and co-building agreements). Everything is limited to the caller's scope (out of scope: 404);
ID numbers and phones are masked, revealing one is its own audited call."""

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from gongzhi.accounts.schemas import RevealOut
from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64
from gongzhi.core.tabular import XLSX_CONTENT_TYPE
from gongzhi.registry import exports, imports, selectors, services
from gongzhi.registry.choices import ExportKind
from gongzhi.registry.models import (
    CoBuildingAgreement,
    ExportJob,
    ImportRun,
    OrgContact,
    PartyMember,
    Person,
    PersonTag,
)
from gongzhi.registry.schemas import (
    AgreementEndIn,
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    ExportJobOut,
    HouseholdDetailOut,
    HouseholdOut,
    ImportRunOut,
    MoveIn,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    PartyMemberListOut,
    PartyMemberOut,
    PartyMembershipIn,
    PartyMembershipPatch,
    PersonDetailOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    PersonRevealIn,
    PersonTagOut,
    TagEndIn,
    TagIn,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

people_router = Router(tags=["registry"])
households_router = Router(tags=["registry"])
organisations_router = Router(tags=["registry"])

XLSX_RESPONSE = {
    "responses": {
        200: {
            "description": "An XLSX workbook (attachment).",
            "content": {XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _xlsx(file_name: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response["Cache-Control"] = "no-store"  # may carry personal data
    return response


# --- people: imports and exports (before /{person_id}) ---------------------------------------------------------------


@people_router.post(
    "/imports",
    response={201: ImportRunOut, 202: ImportRunOut},
    summary="Import residents, households, party members or organisations (XLSX/CSV)",
)
def import_create(
    request: ApiRequest,
    file: File[UploadedFile],
    kind: Form[str],
    mapping: Form[str] = "",
    good_rows_only: Form[bool] = True,
    all_or_nothing: Form[bool] = False,
) -> Status[ImportRun]:
    """``kind``: residents, households, party_members or organisations. ``mapping``: an optional JSON object of our
    field names to the file's headers. By default the good rows go in and the bad ones come back (``errors``: row,
    field, reason; ``bad_rows_url``: an XLSX of them to fix and import again). With ``all_or_nothing`` (or
    ``good_rows_only`` false) nothing is written when any row is bad. Re-importing the same file changes nothing.

    A file of up to 2,000 rows is imported at once (**201**, the finished report); a bigger one becomes a
    background job (**202**, state ``queued``): poll ``url`` (``GET /people/imports/{id}``) for its progress and
    result."""
    run = imports.import_upload(
        actor=request.auth,
        kind=kind,
        upload=file,
        mapping_json=mapping,
        good_rows_only=good_rows_only and not all_or_nothing,
    )
    return Status(202 if run.is_active else 201, selectors.import_run_get(user=request.auth, run_id=run.pk))


@people_router.get("/imports", response=list[ImportRunOut], summary="Registry imports in scope, newest first")
@paginate(PageNumberPagination)
def import_list(request: ApiRequest, kind: str | None = None) -> QuerySet[ImportRun]:
    return selectors.import_run_list(user=request.auth, kind=kind)


@people_router.get("/imports/{run_id}", response=ImportRunOut, summary="One import: its progress or its report")
def import_detail(request: ApiRequest, run_id: Int64) -> Any:
    run = selectors.import_run_get(user=request.auth, run_id=run_id)
    if run.is_active:  # a job whose worker died is failed now, with its reason
        services.expire_dead_jobs(run_id=run.pk)
        run = selectors.import_run_get(user=request.auth, run_id=run_id)
    return run


@people_router.get(
    "/imports/{run_id}/bad-rows.xlsx", summary="The bad rows of an import as XLSX", openapi_extra=XLSX_RESPONSE
)
def import_bad_rows(request: ApiRequest, run_id: Int64) -> HttpResponse:
    name, data = selectors.import_run_bad_rows(user=request.auth, run_id=run_id)
    return _xlsx(name, data)


EXPORT_RESPONSES = {
    "responses": {
        200: XLSX_RESPONSE["responses"][200],
        202: {
            "description": "More rows than fit a request: a background job (poll its url, then download its file).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExportJobOut"}}},
        },
    }
}


def _export_answer(request: ApiRequest, result: exports.XlsxFile | ExportJob) -> Any:
    if isinstance(result, exports.XlsxFile):
        return _xlsx(result.file_name, result.data)
    return Status(202, selectors.export_job_get(user=request.auth, job_id=result.pk))


@people_router.get(
    "/export.xlsx",
    response={202: ExportJobOut},
    summary="Export the residents list (masked unless reveal and the right to reveal; audited)",
    openapi_extra=EXPORT_RESPONSES,
)
def people_export(
    request: ApiRequest,
    q: str | None = None,
    household_id: Int64 | None = None,
    within_id: Int64 | None = None,
    population_type: str | None = None,
    tag: str | None = None,
    include_inactive: bool = False,
    reveal: bool = False,
) -> Any:
    """Up to 5,000 rows: the workbook (200). More: a background job (202) whose file only the requester downloads
    (``file_url`` once done; deleted after 7 days)."""
    result = exports.request_export(
        user=request.auth,
        kind=ExportKind.PEOPLE,
        reveal=reveal,
        q=q,
        household_id=household_id,
        within_id=within_id,
        population_type=population_type,
        tag=tag,
        include_inactive=include_inactive,
    )
    return _export_answer(request, result)


@people_router.get("/exports", response=list[ExportJobOut], summary="My large exports, newest first")
@paginate(PageNumberPagination)
def export_list(request: ApiRequest) -> QuerySet[ExportJob]:
    return selectors.export_job_list(user=request.auth)


@people_router.get("/exports/{job_id}", response=ExportJobOut, summary="One of my large exports")
def export_detail(request: ApiRequest, job_id: int) -> Any:
    job = selectors.export_job_get(user=request.auth, job_id=job_id)
    if job.is_active:
        services.expire_dead_jobs(job_id=job.pk)
        job = selectors.export_job_get(user=request.auth, job_id=job_id)
    return job


@people_router.get(
    "/exports/{job_id}/file.xlsx", summary="The workbook of one of my large exports", openapi_extra=XLSX_RESPONSE
)
def export_file(request: ApiRequest, job_id: int) -> HttpResponse:
    name, data = selectors.export_job_file(user=request.auth, job_id=job_id)
    return _xlsx(name, data)


# --- people: party members ---------------------------------------------------------------------------------------


@people_router.get("/party-members", response=list[PartyMemberListOut], summary="Party members in scope")
@paginate(PageNumberPagination)
def party_members(
    request: ApiRequest,
    member_type: str | None = None,
    branch_id: Int64 | None = None,
    reported_in: bool | None = None,
    within_id: Int64 | None = None,
    q: str | None = None,
) -> QuerySet[PartyMember]:
    return selectors.party_member_list(
        user=request.auth,
        member_type=member_type,
        branch_id=branch_id,
        reported_in=reported_in,
        within_id=within_id,
        q=q,
    )


@people_router.get(
    "/party-members/export.xlsx",
    response={202: ExportJobOut},
    summary="Export party members",
    openapi_extra=EXPORT_RESPONSES,
)
def party_members_export(
    request: ApiRequest,
    member_type: str | None = None,
    branch_id: Int64 | None = None,
    reported_in: bool | None = None,
    within_id: Int64 | None = None,
    q: str | None = None,
    reveal: bool = False,
) -> Any:
    """Up to 5,000 rows: the workbook (200). More: a background job (202), as for the residents."""
    result = exports.request_export(
        user=request.auth,
        kind=ExportKind.PARTY_MEMBERS,
        reveal=reveal,
        member_type=member_type,
        branch_id=branch_id,
        reported_in=reported_in,
        within_id=within_id,
        q=q,
    )
    return _export_answer(request, result)


# --- people: tags ------------------------------------------------------------------------------------------------


@people_router.post("/tags/{tag_id}/end", response=PersonTagOut, summary="End a key-service tag (history kept)")
def tag_end(request: ApiRequest, tag_id: Int64, payload: TagEndIn) -> Any:
    return services.untag_person(actor=request.auth, tag_id=tag_id, until=payload.until)


# --- people ------------------------------------------------------------------------------------------------------


@people_router.get("", response=list[PersonOut], summary="Residents in scope (ID numbers and phones masked)")
@paginate(PageNumberPagination)
def people(
    request: ApiRequest,
    q: str | None = None,
    household_id: Int64 | None = None,
    within_id: Int64 | None = None,
    population_type: str | None = None,
    tag: str | None = None,
) -> QuerySet[Person]:
    return selectors.person_list(
        user=request.auth,
        q=q,
        household_id=household_id,
        within_id=within_id,
        population_type=population_type,
        tag=tag,
    )


def _detail(user: "User", person_id: int) -> Any:
    return selectors.person_get(user=user, person_id=person_id)


@people_router.post("", response={201: PersonDetailOut}, summary="Register a resident in a household")
def person_create(request: ApiRequest, payload: PersonIn) -> Status[Any]:
    person = services.create_person(actor=request.auth, **payload.dict())
    return Status(201, _detail(request.auth, person.pk))


@people_router.get("/{person_id}", response=PersonDetailOut)
def person_detail(request: ApiRequest, person_id: Int64) -> Any:
    return _detail(request.auth, person_id)


@people_router.patch("/{person_id}", response=PersonDetailOut)
def person_update(request: ApiRequest, person_id: Int64, payload: PersonPatch) -> Any:
    services.update_person(actor=request.auth, person_id=person_id, **payload.dict(exclude_unset=True))
    return _detail(request.auth, person_id)


@people_router.post("/{person_id}/move", response=PersonOut, summary="Move to another household (history kept)")
def person_move(request: ApiRequest, person_id: Int64, payload: MoveIn) -> Any:
    person = services.move_person(actor=request.auth, person_id=person_id, **payload.dict())
    return selectors.person_list(user=request.auth, include_inactive=True).filter(pk=person.pk).first() or person


@people_router.post("/{person_id}/reveal", response=RevealOut, summary="Reveal an ID number or phone (audited)")
def person_reveal(request: ApiRequest, person_id: Int64, payload: PersonRevealIn) -> RevealOut:
    value = services.reveal_person_field(actor=request.auth, person_id=person_id, field=payload.field)
    return RevealOut(field=payload.field, value=value)


@people_router.get("/{person_id}/tags", response=list[PersonTagOut], summary="A person's key-service tags")
def person_tags(request: ApiRequest, person_id: Int64, include_ended: bool = True) -> Any:
    return list(selectors.tag_list(user=request.auth, person_id=person_id, include_ended=include_ended))


@people_router.post("/{person_id}/tags", response={201: PersonTagOut}, summary="Tag a key service target")
def person_tag(request: ApiRequest, person_id: Int64, payload: TagIn) -> Status[PersonTag]:
    return Status(201, services.tag_person(actor=request.auth, person_id=person_id, **payload.dict()))


def _membership(user: "User", person_id: int) -> Any:
    return selectors.person_get(user=user, person_id=person_id).party_membership


@people_router.post(
    "/{person_id}/party-membership", response={201: PartyMemberOut}, summary="Record a party membership"
)
def membership_create(request: ApiRequest, person_id: Int64, payload: PartyMembershipIn) -> Status[Any]:
    services.set_party_membership(actor=request.auth, person_id=person_id, **payload.dict())
    return Status(201, _membership(request.auth, person_id))


@people_router.patch(
    "/{person_id}/party-membership",
    response=PartyMemberOut,
    summary="Change a party membership (双报到: reported_in and reported_in_on)",
)
def membership_update(request: ApiRequest, person_id: Int64, payload: PartyMembershipPatch) -> Any:
    services.update_party_membership(actor=request.auth, person_id=person_id, **payload.dict(exclude_unset=True))
    return _membership(request.auth, person_id)


@people_router.delete("/{person_id}/party-membership", response={204: None}, summary="Remove a party membership")
def membership_delete(request: ApiRequest, person_id: Int64) -> Status[None]:
    services.remove_party_membership(actor=request.auth, person_id=person_id)
    return Status(204, None)


# --- households --------------------------------------------------------------------------------------------------


@households_router.get("", response=list[HouseholdOut], summary="Households in scope with how many live there")
@paginate(PageNumberPagination)
def households(
    request: ApiRequest, within_id: Int64 | None = None, building_id: Int64 | None = None, q: str | None = None
) -> QuerySet[Any]:
    return selectors.household_list(user=request.auth, within_id=within_id, building_id=building_id, q=q)


@households_router.get("/export.xlsx", summary="Export households (no personal data)", openapi_extra=XLSX_RESPONSE)
def households_export(
    request: ApiRequest, within_id: Int64 | None = None, building_id: Int64 | None = None, q: str | None = None
) -> HttpResponse:
    result = exports.export_households(user=request.auth, within_id=within_id, building_id=building_id, q=q)
    return _xlsx(result.file_name, result.data)


@households_router.get("/{household_id}", response=HouseholdDetailOut, summary="A household and who lives there")
def household_detail(request: ApiRequest, household_id: Int64) -> Any:
    return selectors.household_detail(user=request.auth, household_id=household_id)


@households_router.get("/{household_id}/members", response=list[PersonOut], summary="Who lives in a household")
def household_members(request: ApiRequest, household_id: Int64) -> Any:
    return list(selectors.household_members(user=request.auth, household_id=household_id))


# --- organisations -----------------------------------------------------------------------------------------------


@organisations_router.get("", response=list[OrganisationOut], summary="Organisations in scope")
@paginate(PageNumberPagination)
def organisations(
    request: ApiRequest, kind: str | None = None, q: str | None = None, within_id: Int64 | None = None
) -> QuerySet[Any]:
    return selectors.organisation_list(user=request.auth, kind=kind, q=q, within_id=within_id)


@organisations_router.post("", response={201: OrganisationOut}, summary="Add an organisation")
def organisation_create(request: ApiRequest, payload: OrganisationIn) -> Status[Any]:
    body = services.create_organisation(actor=request.auth, **payload.dict())
    return Status(201, selectors.organisation_get(user=request.auth, body_id=body.pk))


@organisations_router.get(
    "/export.xlsx", summary="Export organisations and their contacts", openapi_extra=XLSX_RESPONSE
)
def organisations_export(
    request: ApiRequest,
    kind: str | None = None,
    q: str | None = None,
    within_id: Int64 | None = None,
    reveal: bool = False,
) -> HttpResponse:
    result = exports.export_organisations(user=request.auth, reveal=reveal, kind=kind, q=q, within_id=within_id)
    return _xlsx(result.file_name, result.data)


@organisations_router.get("/{body_id}", response=OrganisationOut)
def organisation_detail(request: ApiRequest, body_id: Int64) -> Any:
    return selectors.organisation_get(user=request.auth, body_id=body_id)


@organisations_router.patch("/{body_id}", response=OrganisationOut)
def organisation_update(request: ApiRequest, body_id: Int64, payload: OrganisationPatch) -> Any:
    services.update_organisation(actor=request.auth, body_id=body_id, **payload.dict(exclude_unset=True))
    return selectors.organisation_get(user=request.auth, body_id=body_id)


@organisations_router.get("/{body_id}/contacts", response=list[ContactOut], summary="Contacts (phones masked)")
def contacts(request: ApiRequest, body_id: Int64) -> Any:
    return list(selectors.contact_list(user=request.auth, body_id=body_id))


@organisations_router.post("/{body_id}/contacts", response={201: ContactOut}, summary="Add a contact")
def contact_create(request: ApiRequest, body_id: Int64, payload: ContactIn) -> Status[OrgContact]:
    return Status(201, services.add_contact(actor=request.auth, body_id=body_id, **payload.dict()))


@organisations_router.patch("/{body_id}/contacts/{contact_id}", response=ContactOut)
def contact_update(request: ApiRequest, body_id: Int64, contact_id: Int64, payload: ContactPatch) -> Any:
    return services.update_contact(
        actor=request.auth, contact_id=contact_id, body_id=body_id, **payload.dict(exclude_unset=True)
    )


@organisations_router.delete("/{body_id}/contacts/{contact_id}", response={204: None})
def contact_delete(request: ApiRequest, body_id: Int64, contact_id: Int64) -> Status[None]:
    services.remove_contact(actor=request.auth, contact_id=contact_id, body_id=body_id)
    return Status(204, None)


@organisations_router.post(
    "/{body_id}/contacts/{contact_id}/reveal", response=RevealOut, summary="Reveal a contact's phone (audited)"
)
def contact_reveal(request: ApiRequest, body_id: Int64, contact_id: Int64) -> RevealOut:
    value = services.reveal_contact_phone(actor=request.auth, contact_id=contact_id, body_id=body_id)
    return RevealOut(field="phone", value=value)


@organisations_router.get(
    "/{body_id}/agreements", response=list[AgreementOut], summary="Co-building agreements (共建协议)"
)
def agreements(request: ApiRequest, body_id: Int64, active: bool | None = None) -> Any:
    return list(selectors.agreement_list(user=request.auth, unit_id=body_id, active=active))


@organisations_router.post("/{body_id}/agreements", response={201: AgreementOut}, summary="Record an agreement")
def agreement_create(request: ApiRequest, body_id: Int64, payload: AgreementIn) -> Status[CoBuildingAgreement]:
    row = services.create_agreement(actor=request.auth, unit_id=body_id, **payload.dict())
    return Status(201, selectors.agreement_get(user=request.auth, agreement_id=row.pk))


@organisations_router.get("/{body_id}/agreements/{agreement_id}", response=AgreementOut)
def agreement_detail(request: ApiRequest, body_id: Int64, agreement_id: Int64) -> Any:
    return selectors.agreement_get(user=request.auth, agreement_id=agreement_id, unit_id=body_id)


@organisations_router.patch("/{body_id}/agreements/{agreement_id}", response=AgreementOut)
def agreement_update(request: ApiRequest, body_id: Int64, agreement_id: Int64, payload: AgreementPatch) -> Any:
    services.update_agreement(
        actor=request.auth, agreement_id=agreement_id, unit_id=body_id, **payload.dict(exclude_unset=True)
    )
    return selectors.agreement_get(user=request.auth, agreement_id=agreement_id)


@organisations_router.post(
    "/{body_id}/agreements/{agreement_id}/end", response=AgreementOut, summary="End an agreement (kept on record)"
)
def agreement_end(request: ApiRequest, body_id: Int64, agreement_id: Int64, payload: AgreementEndIn) -> Any:
    services.end_agreement(
        actor=request.auth, agreement_id=agreement_id, unit_id=body_id, ends=payload.ends, note=payload.note
    )
    return selectors.agreement_get(user=request.auth, agreement_id=agreement_id)
