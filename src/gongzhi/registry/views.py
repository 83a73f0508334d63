"""Pages of the registry for community staff and grid workers: the registry search with its XLSX export, a person's
page (masked data with an audited "show", residence history, tags, party membership), a household, the import with
its validation report, organisations with contacts and co-building agreements, and party members.

Views hold no business logic. Reads go through ``registry.selectors`` (and the territory selectors), writes through
``registry.services``, imports through ``registry.imports`` and exports through ``registry.exports``. ID numbers and
phones reach a page masked (``core.privacy``); the clear value only comes back from
``services.reveal_person_field``, which checks the right and writes the audit record. A service's refusal
(``ValidationFailed``, ``Conflict``) is shown on the form; ``NotFound`` (out of scope) and ``Forbidden`` go to the
error middleware (404 / 403 pages).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.core import tabular, uploads
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest
from gongzhi.core.messages import fmt, stored
from gongzhi.core.middleware import is_htmx
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry import exports, imports, selectors, services
from gongzhi.registry.choices import ImportKind
from gongzhi.registry.forms import (
    AgreementForm,
    ContactForm,
    EndAgreementForm,
    ImportMappingForm,
    ImportUploadForm,
    OrganisationFilterForm,
    PartyMemberFilterForm,
    PersonFilterForm,
    TagForm,
    UntagForm,
)
from gongzhi.registry.models import ExportJob, ImportRun, Person, PersonTag
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import BodyKind, NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

PAGE_SIZE = 25
AREA_KINDS = [NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID]
PARTNER_KINDS = [NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE]
AGREEMENT_FIELDS = {"partner_id": "partner", "party_org_id": "party_org", "commitments": "commitments"}


def _paginate(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def _areas(user: User) -> Any:
    return territory.node_list(user=user).filter(kind__in=AREA_KINDS)[:1000]


def _may(user: User, model: Any, action: str, obj: Any) -> bool:
    """Does the user hold ``action`` on this object in scope? (Which buttons the page shows; the service decides.)"""
    return bool(model.objects.allows(user, action, obj))


def _may_anywhere(user: User, label: str, action: str) -> bool:
    return not user.scope_for(label, action).is_empty


def person_row(person: Person) -> dict[str, Any]:
    """A person as a table row: their ID number and phone masked."""
    return {
        "person": person,
        "id_masked": mask_id_number(person.id_number),
        "phone_masked": mask_phone(person.phone),
        "open_tags": [t for t in person.tags.all() if t.until is None],
    }


# --- the registry search ------------------------------------------------------------------------------------------


@login_required
@pages.page("registry-people")
def people(request: AuthedRequest) -> HttpResponse:
    """人员查询: residents in scope by name or room, area, population type and tag; masked; paginated."""
    form = PersonFilterForm(request.GET or None, places=_areas(request.user))
    if form.is_bound and not form.is_valid():
        rows = selectors.person_list(user=request.user).none()
    else:
        rows = selectors.person_list(user=request.user, **form.selector_kwargs())
    page = _paginate(request, rows.select_related("household__parent"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "registry/people.html",
        {
            "form": form,
            "page": page,
            "rows": [person_row(p) for p in page.object_list],
            "export_query": filters.urlencode(),
            "may_reveal": _may_anywhere(request.user, "registry.person", "reveal"),
            "may_import": _may_anywhere(request.user, "registry.importrun", "add"),
        },
    )


# --- a person -----------------------------------------------------------------------------------------------------


def _person_context(
    request: AuthedRequest,
    person: Person,
    *,
    untag_form: tuple[int, UntagForm] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    user = request.user
    may_change = _may(user, Person, "change", person)
    tags = list(person.tags.all())
    tag_rows = []
    for row in tags:
        form = None
        if may_change and row.until is None:
            bound = untag_form is not None and untag_form[0] == row.pk
            form = untag_form[1] if bound and untag_form else UntagForm(prefix=f"untag{row.pk}")
        tag_rows.append({"tag": row, "form": form, "open": untag_form is not None and untag_form[0] == row.pk})
    context: dict[str, Any] = {
        "person": person,
        "id_masked": mask_id_number(person.id_number),
        "phone_masked": mask_phone(person.phone),
        "may_reveal": _may(user, Person, "reveal", person),
        "may_change": may_change,
        "residences": list(person.residences.all()),
        "tag_rows": tag_rows,
        "open_tags": [t for t in tags if t.until is None],
        "membership": getattr(person, "party_membership", None),
        "tag_form": TagForm(prefix="tag") if may_change else None,
        "revealed": {},
        "open_form": "",
        "path": territory.node_ancestors(node=person.household) if person.household else [],
    }
    context.update(extra)
    return context


@login_required
def person(request: AuthedRequest, person_id: int) -> HttpResponse:
    """A person: masked ID number and phone with "show" buttons, where they lived, tags, party membership."""
    item = selectors.person_get(user=request.user, person_id=person_id)
    return render(request, "registry/person.html", _person_context(request, item))


@login_required
@require_POST
def reveal(request: AuthedRequest, person_id: int) -> HttpResponse:
    """One field in clear (ID number or phone): the service checks the right and writes the audit record."""
    field = request.POST.get("field", "")
    value = services.reveal_person_field(actor=request.user, person_id=person_id, field=field)
    if is_htmx(request):
        return render(request, "registry/_revealed.html", {"value": value, "field": field})
    item = selectors.person_get(user=request.user, person_id=person_id)
    return render(request, "registry/person.html", _person_context(request, item, revealed={field: value}))


@login_required
@require_POST
def tag(request: AuthedRequest, person_id: int) -> HttpResponse:
    """Add a key-service tag (重点服务对象)."""
    form = TagForm(request.POST, prefix="tag")
    if form.is_valid():
        try:
            services.tag_person(actor=request.user, person_id=person_id, **form.service_kwargs())
        except (ValidationFailed, Conflict) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The tag was added."))
            return redirect("registry-person", person_id=person_id)
    item = selectors.person_get(user=request.user, person_id=person_id)
    context = _person_context(request, item, tag_form=form, open_form="tag")
    return render(request, "registry/person.html", context, status=400)


@login_required
@require_POST
def untag(request: AuthedRequest, tag_id: int) -> HttpResponse:
    """End a tag (kept as history with its end date)."""
    row = get_in_scope(PersonTag, request.user, tag_id)
    form = UntagForm(request.POST, prefix=f"untag{tag_id}")
    if form.is_valid():
        try:
            services.untag_person(actor=request.user, tag_id=tag_id, until=form.cleaned_data.get("until"))
        except (ValidationFailed, Conflict) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The tag was ended."))
            return redirect("registry-person", person_id=row.person_id)
    item = selectors.person_get(user=request.user, person_id=row.person_id)
    context = _person_context(request, item, untag_form=(tag_id, form))
    return render(request, "registry/person.html", context, status=400)


# --- a household --------------------------------------------------------------------------------------------------


@login_required
def household(request: AuthedRequest, household_id: int) -> HttpResponse:
    """A household: who lives there now (masked), and who lived there before."""
    node = selectors.household_get(user=request.user, household_id=household_id)
    members = [person_row(p) for p in selectors.household_members(user=request.user, household_id=node.pk)]
    return render(
        request,
        "registry/household.html",
        {
            "household": node,
            "path": territory.node_ancestors(node=node),
            "address": selectors.household_address(node),
            "members": members,
            "past": selectors.household_past_residents(user=request.user, household=node),
        },
    )


# --- party members ------------------------------------------------------------------------------------------------


@login_required
@pages.page("registry-party-members")
def party_members(request: AuthedRequest) -> HttpResponse:
    """党员: by type, branch and 双报到; masked like everyone; exportable."""
    branches = territory.party_org_list(user=request.user)[:500]
    form = PartyMemberFilterForm(request.GET or None, places=_areas(request.user), branches=branches)
    if form.is_bound and not form.is_valid():
        rows = selectors.party_member_list(user=request.user).none()
    else:
        rows = selectors.party_member_list(user=request.user, **form.selector_kwargs())
    page = _paginate(request, rows)
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "registry/party_members.html",
        {
            "form": form,
            "page": page,
            "export_query": filters.urlencode(),
            "may_reveal": _may_anywhere(request.user, "registry.person", "reveal"),
            "may_import": _may_anywhere(request.user, "registry.importrun", "add"),
        },
    )


# --- organisations ------------------------------------------------------------------------------------------------


@login_required
@pages.page("registry-organisations")
def organisations(request: AuthedRequest) -> HttpResponse:
    """组织: enterprises, schools, hospitals, co-building units … with their contacts and agreements."""
    kinds = [(k, BodyKind(k).label) for k in selectors.ORGANISATION_KINDS]
    form = OrganisationFilterForm(request.GET or None, kinds=kinds)
    if form.is_bound and not form.is_valid():
        rows = selectors.organisation_list(user=request.user).none()
    else:
        rows = selectors.organisation_list(user=request.user, **form.selector_kwargs())
    page = _paginate(request, rows)
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "registry/organisations.html",
        {
            "form": form,
            "page": page,
            "rows": [{"body": b, "phone_masked": mask_phone(b.contact_phone)} for b in page.object_list],
            "export_query": filters.urlencode(),
            "may_reveal": _may_anywhere(request.user, "registry.orgcontact", "reveal"),
            "may_import": _may_anywhere(request.user, "registry.importrun", "add"),
        },
    )


def _agreement_partners(user: User) -> list[Any]:
    """The communities, villages and subdistricts the user may sign agreements for."""
    return territory.places_for(user=user, label="registry.cobuildingagreement", action="add", kinds=PARTNER_KINDS)


def _organisation_context(request: AuthedRequest, body: Any, **extra: Any) -> dict[str, Any]:
    user: User = request.user
    may_add_contact = services.may_on_body(user, "registry.orgcontact", "add", body)
    may_change_contact = services.may_on_body(user, "registry.orgcontact", "change", body)
    may_remove_contact = services.may_on_body(user, "registry.orgcontact", "delete", body)
    may_reveal_contact = services.may_on_body(user, "registry.orgcontact", "reveal", body)
    bound_contact = extra.pop("contact_form", None)  # (contact id or 0, form)
    bound_agreement = extra.pop("agreement_form", None)  # (agreement id or 0, form)
    bound_end = extra.pop("end_form", None)  # (agreement id, form)
    revealed = extra.pop("revealed", {})  # contact id → phone in clear
    party_orgs = list(territory.party_org_list(user=user)[:500])
    contacts = []
    for c in selectors.contact_list(user=user, body_id=body.pk):
        form = None
        if may_change_contact:
            if bound_contact and bound_contact[0] == c.pk:
                form = bound_contact[1]
            else:
                initial = {"name": c.name, "title": c.title, "email": c.email, "is_primary": c.is_primary}
                form = ContactForm(prefix=f"contact{c.pk}", initial=initial, editing=True)
        contacts.append(
            {
                "contact": c,
                "phone_masked": mask_phone(c.phone),
                "revealed": revealed.get(c.pk, ""),
                "form": form,
                "open": bool(bound_contact and bound_contact[0] == c.pk),
            }
        )
    change_scope = user.scope_for("registry.cobuildingagreement", "change")
    agreements = []
    for a in selectors.agreement_list(user=user, unit_id=body.pk):
        may_change = change_scope.covers(a.partner.code, a.partner.lead_body_id)
        form = end = None
        if may_change:
            if bound_agreement and bound_agreement[0] == a.pk:
                form = bound_agreement[1]
            else:
                initial = {
                    "title": a.title,
                    "party_org": str(a.party_org_id or ""),
                    "signed_on": a.signed_on,
                    "starts": a.starts,
                    "ends": a.ends,
                    "commitments": "\n".join(str(i) for i in a.commitments or []),
                }
                form = AgreementForm(prefix=f"agreement{a.pk}", initial=initial, party_orgs=party_orgs, editing=True)
            if a.is_active:
                end = bound_end[1] if bound_end and bound_end[0] == a.pk else EndAgreementForm(prefix=f"end{a.pk}")
        agreements.append(
            {
                "agreement": a,
                "form": form,
                "end_form": end,
                "open": bool(bound_agreement and bound_agreement[0] == a.pk),
                "end_open": bool(bound_end and bound_end[0] == a.pk),
            }
        )
    partners = _agreement_partners(user)
    new_agreement = None
    if partners:
        if bound_agreement and bound_agreement[0] == 0:
            new_agreement = bound_agreement[1]
        else:
            new_agreement = AgreementForm(prefix="agreement", partners=partners, party_orgs=party_orgs)
    new_contact = None
    if may_add_contact:
        new_contact = bound_contact[1] if bound_contact and bound_contact[0] == 0 else ContactForm(prefix="contact")
    context: dict[str, Any] = {
        "body": body,
        "body_phone_masked": mask_phone(body.contact_phone),
        "contacts": contacts,
        "agreements": agreements,
        "may_reveal_contact": may_reveal_contact,
        "may_remove_contact": may_remove_contact,
        "contact_form": new_contact,
        "agreement_form": new_agreement,
        "open_form": "",
    }
    context.update(extra)
    return context


@login_required
def organisation(request: AuthedRequest, body_id: int) -> HttpResponse:
    body = selectors.organisation_get(user=request.user, body_id=body_id)
    return render(request, "registry/organisation.html", _organisation_context(request, body))


def _organisation_again(request: AuthedRequest, body_id: int, **extra: Any) -> HttpResponse:
    body = selectors.organisation_get(user=request.user, body_id=body_id)
    return render(request, "registry/organisation.html", _organisation_context(request, body, **extra), status=400)


@login_required
@require_POST
def contact_add(request: AuthedRequest, body_id: int) -> HttpResponse:
    form = ContactForm(request.POST, prefix="contact")
    if form.is_valid():
        try:
            services.add_contact(actor=request.user, body_id=body_id, **form.service_kwargs())
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The contact was added."))
            return redirect("registry-organisation", body_id=body_id)
    return _organisation_again(request, body_id, contact_form=(0, form), open_form="contact")


@login_required
@require_POST
def contact_edit(request: AuthedRequest, body_id: int, contact_id: int) -> HttpResponse:
    selectors.contact_get(user=request.user, contact_id=contact_id, body_id=body_id)
    form = ContactForm(request.POST, prefix=f"contact{contact_id}", editing=True)
    if form.is_valid():
        try:
            services.update_contact(actor=request.user, contact_id=contact_id, body_id=body_id, **form.service_kwargs())
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The contact was changed."))
            return redirect("registry-organisation", body_id=body_id)
    return _organisation_again(request, body_id, contact_form=(contact_id, form))


@login_required
@require_POST
def contact_remove(request: AuthedRequest, body_id: int, contact_id: int) -> HttpResponse:
    services.remove_contact(actor=request.user, contact_id=contact_id, body_id=body_id)
    messages.success(request, _("The contact was removed."))
    return redirect("registry-organisation", body_id=body_id)


@login_required
@require_POST
def contact_reveal(request: AuthedRequest, body_id: int, contact_id: int) -> HttpResponse:
    """A contact's phone in clear: the service checks the right and writes the audit record."""
    phone = services.reveal_contact_phone(actor=request.user, contact_id=contact_id, body_id=body_id)
    if is_htmx(request):
        return render(request, "registry/_revealed.html", {"value": phone, "field": "phone"})
    body = selectors.organisation_get(user=request.user, body_id=body_id)
    context = _organisation_context(request, body, revealed={contact_id: phone})
    return render(request, "registry/organisation.html", context)


@login_required
@require_POST
def agreement_add(request: AuthedRequest, body_id: int) -> HttpResponse:
    party_orgs = territory.party_org_list(user=request.user)[:500]
    form = AgreementForm(
        request.POST, prefix="agreement", partners=_agreement_partners(request.user), party_orgs=party_orgs
    )
    if form.is_valid():
        try:
            services.create_agreement(actor=request.user, unit_id=body_id, **form.service_kwargs())
        except ValidationFailed as exc:
            add_service_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("The agreement was recorded."))
            return redirect("registry-organisation", body_id=body_id)
    return _organisation_again(request, body_id, agreement_form=(0, form), open_form="agreement")


@login_required
@require_POST
def agreement_edit(request: AuthedRequest, body_id: int, agreement_id: int) -> HttpResponse:
    selectors.agreement_get(user=request.user, agreement_id=agreement_id, unit_id=body_id)
    party_orgs = territory.party_org_list(user=request.user)[:500]
    form = AgreementForm(request.POST, prefix=f"agreement{agreement_id}", party_orgs=party_orgs, editing=True)
    if form.is_valid():
        try:
            services.update_agreement(
                actor=request.user, agreement_id=agreement_id, unit_id=body_id, **form.service_kwargs()
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("The agreement was changed."))
            return redirect("registry-organisation", body_id=body_id)
    return _organisation_again(request, body_id, agreement_form=(agreement_id, form))


@login_required
@require_POST
def agreement_end(request: AuthedRequest, body_id: int, agreement_id: int) -> HttpResponse:
    selectors.agreement_get(user=request.user, agreement_id=agreement_id, unit_id=body_id)
    form = EndAgreementForm(request.POST, prefix=f"end{agreement_id}")
    if form.is_valid():
        try:
            services.end_agreement(
                actor=request.user,
                agreement_id=agreement_id,
                unit_id=body_id,
                ends=form.cleaned_data.get("ends"),
                note=form.cleaned_data.get("note") or "",
            )
        except (ValidationFailed, Conflict) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The agreement was ended."))
            return redirect("registry-organisation", body_id=body_id)
    return _organisation_again(request, body_id, end_form=(agreement_id, form))


# --- exports ------------------------------------------------------------------------------------------------------


def _xlsx_response(file_name: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=tabular.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response["Cache-Control"] = "no-store"  # may carry personal data
    return response


@login_required
@require_http_methods(["GET", "POST"])
def export(request: AuthedRequest, kind: str) -> HttpResponse:
    """The list as XLSX with the filters of its page (the query string). Masked; a POST with ``reveal`` asks for
    clear values, which ``registry.exports`` gives only where the user may reveal, and audits."""
    user = request.user
    reveal = request.method == "POST" and request.POST.get("reveal") == "1"
    result: Any
    if kind == "people":  # a long list: a background job and its page with the download link
        people_form = PersonFilterForm(request.GET or None, places=_areas(user))
        result = exports.request_export(user=user, kind=kind, reveal=reveal, **people_form.selector_kwargs())
    elif kind == "party_members":
        branches = territory.party_org_list(user=user)[:500]
        party_form = PartyMemberFilterForm(request.GET or None, places=_areas(user), branches=branches)
        result = exports.request_export(user=user, kind=kind, reveal=reveal, **party_form.selector_kwargs())
    elif kind == "organisations":
        kinds = [(k, BodyKind(k).label) for k in selectors.ORGANISATION_KINDS]
        org_form = OrganisationFilterForm(request.GET or None, kinds=kinds)
        result = exports.export_organisations(user=user, reveal=reveal, **org_form.selector_kwargs())
    elif kind == "households":
        area = request.GET.get("area") or ""
        result = exports.export_households(user=user, within_id=int(area) if area.isdigit() else None)
    else:
        raise NotFound(fmt(_("No export of %(kind)s."), kind=kind))
    if isinstance(result, ExportJob):
        return redirect("registry-export-job", job_id=result.pk)
    return _xlsx_response(result.file_name, result.data)


@login_required
def export_job(request: AuthedRequest, job_id: int) -> HttpResponse:
    """A large export made in the background: its progress, then the download link (for its requester only)."""
    job = selectors.export_job_get(user=request.user, job_id=job_id)
    if job.is_active:
        services.expire_dead_jobs(job_id=job.pk)
        job = selectors.export_job_get(user=request.user, job_id=job_id)
    context = {"job": job, "message": stored(job.message)}
    if is_htmx(request):
        return render(request, "registry/_export_job.html", context)
    return render(request, "registry/export_job.html", context)


@login_required
def export_job_file(request: AuthedRequest, job_id: int) -> HttpResponse:
    name, data = selectors.export_job_file(user=request.user, job_id=job_id)
    return _xlsx_response(name, data)


# --- imports ------------------------------------------------------------------------------------------------------

FIELD_LABELS = imports.FIELD_LABELS  # what our import fields are called on the page
STAGE_AREA = "registry-staged"  # core.uploads area of files between the upload and the mapping step
STAGE_MAX_AGE = 24 * 3600
SESSION_STAGED = "gongzhi_registry_staged"
PREVIEW_ROWS = 5
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_LONG_NUMBER = re.compile(r"^[0-9Xx+\- ]{7,}$")


def _may_import(user: User) -> bool:
    try:
        imports.check_actor(user)
    except Forbidden:
        return False
    return True


def _stage(request: HttpRequest, kind: str, file_name: str, data: bytes) -> str:
    """Keep an uploaded file between the upload and the mapping step: a private file (``core.uploads``: mode 0600,
    never under media) that only this session knows. Files older than a day are swept away."""
    uploads.sweep(STAGE_AREA, STAGE_MAX_AGE)
    name = uploads.store(STAGE_AREA, data)
    token = name.split("/", 1)[1]
    staged = dict(request.session.get(SESSION_STAGED) or {})
    staged[token] = {"kind": kind, "file_name": file_name}
    request.session[SESSION_STAGED] = staged
    return token


def _staged(request: HttpRequest, token: str) -> tuple[str, str, bytes] | None:
    info = (request.session.get(SESSION_STAGED) or {}).get(token)
    if not info or not _TOKEN.match(token):
        return None
    try:
        data = uploads.read(f"{STAGE_AREA}/{token}")
    except (OSError, ValueError):
        return None
    return info["kind"], info["file_name"], data


def _unstage(request: HttpRequest, token: str) -> None:
    staged = dict(request.session.get(SESSION_STAGED) or {})
    staged.pop(token, None)
    request.session[SESSION_STAGED] = staged
    if _TOKEN.match(token):
        uploads.delete(f"{STAGE_AREA}/{token}")


def _masked_cell(value: Any) -> str:
    """A preview cell: long numbers (ID numbers, phones) masked, whatever column they are in."""
    text = tabular.text(value)
    if _LONG_NUMBER.match(text):
        digits = text.replace(" ", "")
        return mask_id_number(digits) if len(digits) in (15, 18) else mask_phone(digits)
    return text


def _field_rows(kind: str) -> list[tuple[str, Any, bool]]:
    required = imports.REQUIRED[kind]
    return [(name, FIELD_LABELS.get(name, name), name in required) for name in imports.HEADERS[kind]]


def _mapping_context(
    kind: str, file_name: str, data: bytes, *, token: str = "", all_or_nothing: bool = False, form: Any = None
) -> dict[str, Any]:
    """The mapping step: the file's header, its first rows (masked), a select per field pre-set as detected."""
    table = tabular.read_rows(file_name, data)
    header = tabular.header_of(table)
    detected_index = tabular.resolve_columns(header, None, imports.HEADERS[kind])
    detected = {name: header[index] for name, index in detected_index.items()}
    if form is None:
        form = ImportMappingForm(
            initial={"token": token, "all_or_nothing": all_or_nothing},
            fields=_field_rows(kind),
            header=header,
            detected=detected,
        )
    body = tabular.data_rows(table)
    return {
        "form": form,
        "kind": kind,
        "kind_label": ImportKind(kind).label,
        "file_name": file_name,
        "header": header,
        "preview": [
            {"number": number, "cells": [_masked_cell(v) for v in cells[: len(header)]]}
            for number, cells in body[:PREVIEW_ROWS]
        ],
        "row_count": len(body),
        "required": [FIELD_LABELS.get(n, n) for n in imports.REQUIRED[kind]],
    }


def _import_page(request: AuthedRequest, form: ImportUploadForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "registry/import.html",
        {
            "form": form,
            "runs": list(selectors.import_run_list(user=request.user)[:10]),
            "kinds": ImportKind.choices,
            "may_import": True,
        },
        status=status,
    )


@login_required
@pages.page("registry-import")
@require_http_methods(["GET", "POST"])
def import_page(request: AuthedRequest) -> HttpResponse:
    """导入: choose what the file holds, upload it, then either import at once or check the columns first (a preview
    with a select per field); "import the good rows only" on either step."""
    imports.check_actor(request.user)
    if request.method == "POST" and "token" in request.POST:
        return _import_mapped(request)
    if request.method != "POST":
        return _import_page(request, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    kind = form.cleaned_data["kind"]
    all_or_nothing = form.cleaned_data["all_or_nothing"]
    try:
        if request.POST.get("step") == "map":
            tabular.check_size(upload.size or 0, imports.MAX_FILE_BYTES)
            data = upload.read()
            file_name = upload.name or ""
            context = _mapping_context(kind, file_name, data, all_or_nothing=all_or_nothing)  # reads the file
            context["form"].initial["token"] = _stage(request, kind, file_name, data)
            return render(request, "registry/import_mapping.html", context)
        run = imports.import_upload(
            actor=request.user, kind=kind, upload=upload, mapping_json=None, good_rows_only=not all_or_nothing
        )
    except ValidationFailed as exc:
        add_service_errors(form, exc, IMPORT_FIELDS)
        return _import_page(request, form, status=400)
    return redirect("registry-import-result", run_id=run.pk)


IMPORT_FIELDS: dict[str, str | None] = {"mapping": None}


def _import_mapped(request: AuthedRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    staged = _staged(request, token)
    if staged is None:
        messages.error(request, _("The uploaded file has expired. Please upload it again."))
        return redirect("registry-import")
    kind, file_name, data = staged
    fields = _field_rows(kind)
    context = _mapping_context(kind, file_name, data, token=token)
    form = ImportMappingForm(request.POST, fields=fields, header=context["header"], detected={})
    if form.is_valid():
        try:
            run = imports.submit(
                actor=request.user,
                kind=kind,
                file_name=file_name,
                data=data,
                mapping=form.mapping(),
                good_rows_only=not form.cleaned_data["all_or_nothing"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc, {f"mapping.{name}": f"col_{name}" for name, _label, _req in fields})
        else:
            _unstage(request, token)
            return redirect("registry-import-result", run_id=run.pk)
    context["form"] = form
    return render(request, "registry/import_mapping.html", context, status=400)


def _report_rows(run: ImportRun) -> list[dict[str, Any]]:
    """The validation report: per bad row (the file's row number), each field and reason, in the page's language."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for error in run.errors or []:
        field = error.get("field") or ""
        rows.setdefault(int(error.get("row") or 0), []).append(
            {
                "field": field,
                "label": FIELD_LABELS.get(field.split(".", 1)[-1], field),
                "message": stored(error.get("message")),
            }
        )
    return [{"row": row, "problems": problems} for row, problems in sorted(rows.items())]


@login_required
def import_result(request: AuthedRequest, run_id: int) -> HttpResponse:
    """An import's report: the counts, whether anything was written, every bad row with its reasons."""
    run = selectors.import_run_get(user=request.user, run_id=run_id)
    if run.is_active:  # a job whose worker died is failed now, with its reason
        services.expire_dead_jobs(run_id=run.pk)
        run = selectors.import_run_get(user=request.user, run_id=run_id)
    context = {
        "run": run,
        "report": [] if run.is_active else _report_rows(run),
        "has_bad_file": run.bad_rows is not None and run.actor_id == request.user.pk,
        "may_import": _may_import(request.user),
        "percent": round((run.progress or 0) * 100),
        "message": stored(run.message),
    }
    if is_htmx(request):  # the page polls a running job; once it ended, the whole page is loaded again
        response = render(request, "registry/_import_job.html", context)
        if not run.is_active:
            response["HX-Refresh"] = "true"
        return response
    return render(request, "registry/import_result.html", context)


@login_required
def import_bad_rows(request: AuthedRequest, run_id: int) -> HttpResponse:
    """The bad rows of a "good rows only" import, as the user's own columns plus the reason, to fix and re-import."""
    name, data = selectors.import_run_bad_rows(user=request.user, run_id=run_id)
    return _xlsx_response(name, data)


@login_required
def import_template(request: AuthedRequest, kind: str) -> HttpResponse:
    """An empty workbook with the usual headers of an import (required ones marked with *)."""
    if kind not in ImportKind.values:
        raise NotFound(fmt(_("No import of %(kind)s."), kind=kind))
    required = imports.REQUIRED[kind]
    headers = [f"{names[0]}*" if field in required else names[0] for field, names in imports.HEADERS[kind].items()]
    data = tabular.write_xlsx([(str(ImportKind(kind).label), headers, [])])
    return _xlsx_response(f"{kind}-template.xlsx", data)
