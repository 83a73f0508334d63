"""XLSX exports of the registry's lists: people, households, party members, organisations (with their contacts).

Each export takes the same filters as its list selector, so "export what I see" is one call, and never holds a row
the user could not see in the list. ID numbers and phones are masked unless the caller asks for ``reveal=True`` *and*
holds the *reveal* right on that row (``restrict(user, "reveal")``); rows the user may not reveal stay masked in the
same file. A revealing export writes one audit record (``privacy.export_reveal``: the list, its filters and how
many rows were revealed).

The column headers are the import's default headers, so a revealed export can be edited and imported again.

Large exports of people and party members (more than :data:`SYNC_MAX_ROWS` rows) are not made inside the web
request: :func:`request_export` queues an ``ExportJob`` that the background task ``tasks.export_registry`` runs
(:func:`run_job`: the same export function, so the same masking, reveal rule and audit record). Its workbook is a
private file (``core.uploads``) that only the requester downloads, deleted after ``services.EXPORT_KEPT``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from gongzhi.core import audit, tabular, uploads
from gongzhi.core.errors import DomainError, ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt, portable_text
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry import selectors, services
from gongzhi.registry.choices import ExportKind, PopulationType, Sex, TagKind
from gongzhi.registry.models import ExportJob, OrgContact, PartyMember, Person, Residence

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

MAX_EXPORT_ROWS = 200_000
SYNC_MAX_ROWS = 5000  # more rows than this: a background job with a download link, not the web request
EXPORT_FAILED = gettext_noop("The export stopped on an unexpected error. Please ask for it again.")

log = logging.getLogger(__name__)
CONTENT_TYPE = tabular.XLSX_CONTENT_TYPE

SEX_WORDS: dict[str, str] = {Sex.MALE: "男", Sex.FEMALE: "女"}
POPULATION_WORDS: dict[str, str] = {
    PopulationType.REGISTERED: "户籍",
    PopulationType.RESIDENT: "常住",
    PopulationType.TEMPORARY: "暂住",
    PopulationType.FLOATING: "流动",
}
TAG_WORDS: dict[str, str] = {
    TagKind.ELDERLY_ALONE: "独居老人",
    TagKind.ELDERLY: "老人",
    TagKind.CHILD: "儿童",
    TagKind.DISABLED: "残疾人",
    TagKind.HARDSHIP: "困难群众",
}
MEMBER_WORDS: dict[str, str] = {
    "community": "社区",
    "on_duty": "在职",
    "retired": "离退休",
    "two_new": "两新",
    "mobile": "流动",
}
BODY_KIND_WORDS: dict[str, str] = {
    "co_building_unit": "共建单位",
    "enterprise": "企业",
    "school": "学校",
    "hospital": "医院",
    "social_organisation": "社会组织",
    "property_company": "物业公司",
    "owners_committee": "业委会",
}

PEOPLE_HEADERS = [
    "姓名", "身份证号", "联系电话", "性别", "出生日期", "人口类型", "楼栋编号", "楼栋", "房号", "入住日期", "标签",
]  # fmt: skip
HOUSEHOLD_HEADERS = ["户编号", "楼栋编号", "楼栋", "房号", "地址", "在住人数"]
PARTY_HEADERS = ["姓名", "身份证号", "联系电话", "党员类型", "所在支部", "工作单位", "双报到", "报到日期", "住址"]
ORGANISATION_HEADERS = ["名称", "类型", "所在地点编号", "所在地点", "联系人", "联系电话", "简介"]
CONTACT_HEADERS = ["单位", "姓名", "职务", "联系电话", "电子邮箱", "主要联系人"]


@dataclass(frozen=True)
class XlsxFile:
    """An export: the workbook, a download name, how many rows it holds and how many of them were revealed."""

    file_name: str
    data: bytes
    rows: int
    revealed: int = 0
    content_type: str = CONTENT_TYPE


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def _check_size(count: int) -> None:
    if count > MAX_EXPORT_ROWS:
        raise ValidationFailed(
            _("The list is too long to export."),
            [
                ErrorDetail(
                    field="filters",
                    message=fmt(
                        _("%(count)s rows; narrow the filters to at most %(max_export_rows)s"),
                        count=count,
                        max_export_rows=MAX_EXPORT_ROWS,
                    ),
                )
            ],
        )


def _revealable(user: User, model: Any, ids: list[int]) -> set[int]:
    out: set[int] = set()
    base = model.objects.restrict(user, "reveal")
    for start in range(0, len(ids), 500):
        out.update(base.filter(pk__in=ids[start : start + 500]).values_list("pk", flat=True))
    return out


def _audit_reveal(user: User, listing: str, filters: dict[str, Any], rows: int, revealed: int, label: str) -> None:
    if not revealed:
        return
    shown = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in filters.items() if v is not None}
    with transaction.atomic():
        audit.record(
            actor=user,
            action="privacy.export_reveal",
            object_type=label,
            object_repr=f"{listing} export",
            node_code=selectors.scope_root_code(user=user, label=label, action="reveal"),
            after={"list": listing, "filters": shown, "rows": rows, "revealed": revealed},
        )


def _id(value: str | None, clear: bool) -> str:
    return (value or "") if clear else mask_id_number(value)


def _phone(value: str | None, clear: bool) -> str:
    return (value or "") if clear else mask_phone(value)


# --- people ----------------------------------------------------------------------------------------------------------


def export_people(
    *,
    user: User,
    reveal: bool = False,
    q: str | None = None,
    household_id: int | None = None,
    within_id: int | None = None,
    population_type: str | None = None,
    tag: str | None = None,
    include_inactive: bool = False,
) -> XlsxFile:
    """The residents of :func:`selectors.person_list` with the same filters, one row each, open tags listed."""
    filters = {
        "q": q,
        "household_id": household_id,
        "within_id": within_id,
        "population_type": population_type,
        "tag": tag,
        "include_inactive": include_inactive or None,
    }
    qs = selectors.person_list(
        user=user,
        q=q,
        household_id=household_id,
        within_id=within_id,
        population_type=population_type,
        tag=tag,
        include_inactive=include_inactive,
    )
    qs = qs.select_related("household__parent").prefetch_related(
        Prefetch("residences", queryset=Residence.objects.filter(moved_out__isnull=True), to_attr="open_residences")
    )
    people = list(qs.iterator(chunk_size=2000))
    _check_size(len(people))
    clear = _revealable(user, Person, [p.pk for p in people]) if reveal else set()
    rows = []
    for person in people:
        household = person.household
        building = household.parent if household is not None else None
        residence = person.open_residences[0] if person.open_residences else None
        tags = [
            TAG_WORDS.get(t.tag) or f"其他:{t.label}" for t in person.tags.all() if t.until is None
        ]  # the import reads these words back
        rows.append(
            [
                person.name,
                _id(person.id_number, person.pk in clear),
                _phone(person.phone, person.pk in clear),
                SEX_WORDS.get(person.sex, ""),
                person.birth_date,
                POPULATION_WORDS.get(person.population_type, person.population_type),
                building.code if building is not None else "",
                building.name if building is not None else "",
                household.name if household is not None else "",
                residence.moved_in if residence is not None else None,
                "、".join(tags),
            ]
        )
    _audit_reveal(user, "people", filters, len(rows), len(clear), "registry.person")
    return XlsxFile(
        f"people-{_stamp()}.xlsx", tabular.write_xlsx([("居民", PEOPLE_HEADERS, rows)]), len(rows), len(clear)
    )


# --- households ------------------------------------------------------------------------------------------------------


def export_households(
    *, user: User, within_id: int | None = None, building_id: int | None = None, q: str | None = None
) -> XlsxFile:
    """Households of :func:`selectors.household_list` with their addresses and how many people live there (no
    personal data)."""
    nodes = list(selectors.household_list(user=user, within_id=within_id, building_id=building_id, q=q).iterator())
    _check_size(len(nodes))
    rows = []
    for node in nodes:
        building = node.parent
        rows.append(
            [
                node.code,
                building.code if building is not None else "",
                building.name if building is not None else "",
                node.name,
                selectors.household_address(node),
                node.member_count,  # type: ignore[attr-defined]  # annotated by selectors.household_list
            ]
        )
    return XlsxFile(f"households-{_stamp()}.xlsx", tabular.write_xlsx([("户", HOUSEHOLD_HEADERS, rows)]), len(rows))


# --- party members ---------------------------------------------------------------------------------------------------


def export_party_members(
    *,
    user: User,
    reveal: bool = False,
    member_type: str | None = None,
    branch_id: int | None = None,
    reported_in: bool | None = None,
    within_id: int | None = None,
    q: str | None = None,
) -> XlsxFile:
    """Party members of :func:`selectors.party_member_list`; ID numbers and phones revealed per the person's
    *reveal* right."""
    filters = {"member_type": member_type, "branch_id": branch_id, "reported_in": reported_in, "within_id": within_id}
    filters["q"] = q
    qs = selectors.party_member_list(
        user=user, member_type=member_type, branch_id=branch_id, reported_in=reported_in, within_id=within_id, q=q
    ).select_related("person__household__parent")
    members: list[PartyMember] = list(qs.iterator(chunk_size=2000))
    _check_size(len(members))
    clear = _revealable(user, Person, [m.person_id for m in members]) if reveal else set()
    rows = []
    for member in members:
        person = member.person
        household = person.household
        where = selectors.household_address(household) if household is not None else ""
        rows.append(
            [
                person.name,
                _id(person.id_number, person.pk in clear),
                _phone(person.phone, person.pk in clear),
                MEMBER_WORDS.get(member.member_type, member.member_type),
                member.branch.name if member.branch_id and member.branch else "",
                member.work_unit.name if member.work_unit_id and member.work_unit else "",
                "是" if member.reported_in else "否",
                member.reported_in_on,
                where,
            ]
        )
    revealed = len({m.person_id for m in members} & clear)
    _audit_reveal(user, "party_members", filters, len(rows), revealed, "registry.person")
    data = tabular.write_xlsx([("党员", PARTY_HEADERS, rows)])
    return XlsxFile(f"party-members-{_stamp()}.xlsx", data, len(rows), revealed)


# --- organisations ---------------------------------------------------------------------------------------------------


def export_organisations(
    *,
    user: User,
    reveal: bool = False,
    kind: str | None = None,
    q: str | None = None,
    within_id: int | None = None,
) -> XlsxFile:
    """Organisations of :func:`selectors.organisation_list` (sheet 1) and their contacts (sheet 2). Phones are
    revealed only where the single reveal would show them (:func:`selectors.may_on_body`): the *reveal* right on
    the body (its contact phone) or on its contacts, for one's own body or one placed in one's ground."""
    filters = {"kind": kind, "q": q, "within_id": within_id}
    bodies = list(selectors.organisation_list(user=user, kind=kind, q=q, within_id=within_id))
    _check_size(len(bodies))
    # One rule with the single reveal (``services.reveal_contact_phone``): the reveal right on the organisation's own
    # rows — one's own body or one placed in one's ground — not ``restrict``, which also shows bodies above one's
    # ground and those without a place (to look at, not to reveal).
    clear_bodies = (
        {b.pk for b in bodies if selectors.may_on_body(user, "territory.body", "reveal", b)} if reveal else set()
    )
    contact_bodies = (
        {b.pk for b in bodies if selectors.may_on_body(user, "registry.orgcontact", "reveal", b)} if reveal else set()
    )
    rows = [
        [
            body.name,
            BODY_KIND_WORDS.get(body.kind, body.kind),
            body.node.code if body.node_id and body.node else "",
            body.node.name if body.node_id and body.node else "",
            body.contact_name,
            _phone(body.contact_phone, body.pk in clear_bodies),
            body.description,
        ]
        for body in bodies
    ]
    contacts = list(
        OrgContact.objects.restrict(user, "view")
        .filter(body__in=[b.pk for b in bodies])
        .select_related("body")
        .order_by("body__kind", "body__name", "-is_primary", "name")
    )
    clear_contacts = {c.pk for c in contacts if c.body_id in contact_bodies}
    contact_rows = [
        [
            c.body.name,
            c.name,
            c.title,
            _phone(c.phone, c.pk in clear_contacts),
            c.email,
            "是" if c.is_primary else "",
        ]
        for c in contacts
    ]
    revealed = len(clear_bodies) + len(clear_contacts)
    _audit_reveal(user, "organisations", filters, len(rows) + len(contact_rows), revealed, "registry.orgcontact")
    data = tabular.write_xlsx([("组织", ORGANISATION_HEADERS, rows), ("联系人", CONTACT_HEADERS, contact_rows)])
    return XlsxFile(f"organisations-{_stamp()}.xlsx", data, len(rows), revealed)


# --- large exports as background jobs --------------------------------------------------------------------------------

EXPORTERS: dict[str, Callable[..., XlsxFile]] = {
    ExportKind.PEOPLE: export_people,
    ExportKind.PARTY_MEMBERS: export_party_members,
}
LISTS: dict[str, Callable[..., Any]] = {
    ExportKind.PEOPLE: selectors.person_list,
    ExportKind.PARTY_MEMBERS: selectors.party_member_list,
}


def request_export(*, user: User, kind: str, reveal: bool = False, **filters: Any) -> XlsxFile | ExportJob:
    """An export of people or party members with the filters of its list: up to :data:`SYNC_MAX_ROWS` rows made
    here and now (an :class:`XlsxFile`), more as a queued :class:`ExportJob` whose file the requester downloads
    when it is done."""
    if kind not in EXPORTERS:
        raise ValidationFailed(
            _("Unknown kind of export."),
            [
                ErrorDetail(
                    field="kind", message=fmt(_("expected one of %(values)s"), values=", ".join(EXPORTERS))
                )
            ],
        )
    count = LISTS[kind](user=user, **filters).count()
    if count <= SYNC_MAX_ROWS:
        return EXPORTERS[kind](user=user, reveal=reveal, **filters)
    _check_size(count)
    services.sweep_jobs()
    shown = {k: v for k, v in filters.items() if v is not None and v is not False}
    job = services.create_export_job(actor=user, kind=kind, filters=shown, reveal=reveal)
    from gongzhi.registry.tasks import export_registry

    transaction.on_commit(lambda: export_registry.enqueue(job_id=job.pk))
    return job


def run_job(*, job_id: int) -> dict[str, Any]:
    """Make a queued export (the background task's body) as its requester; store the workbook privately."""
    job = services.start_export_job(job_id=job_id)
    if job is None:
        return {"job": job_id, "ran": False}
    try:
        result = EXPORTERS[job.kind](user=job.actor, reveal=job.reveal, **(job.filters or {}))
        services.record_export_heartbeat(job_id=job_id)
        stored = uploads.store(services.EXPORT_FILES, result.data, ".xlsx")
    except DomainError as exc:
        services.finish_export_job(job_id=job_id, failed=True, message=portable_text(exc.message))
        return {"job": job_id, "ran": True, "state": "failed"}
    except Exception:
        log.exception("registry export %s failed", job_id)
        services.finish_export_job(job_id=job_id, failed=True, message=EXPORT_FAILED)
        raise
    services.finish_export_job(
        job_id=job_id,
        failed=False,
        file=stored,
        file_name=result.file_name,
        rows=result.rows,
        revealed=result.revealed,
    )
    return {"job": job_id, "ran": True, "state": "done", "rows": result.rows}
