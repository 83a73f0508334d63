"""Registry imports from XLSX or CSV: residents, households, party members and organisations.

The first row of the file is the header (row 1; the first data row is row 2). Columns are found by their usual Chinese
headers (:data:`HEADERS`) or our field names; a mapping (field → header) overrides them. Words in cells may be Chinese
(户籍, 在职, 企业, 独居老人 …) or our codes.

* **Validation first, then writing.** Every row is checked against data fetched in bulk (people by ID number,
  buildings, households, party organisations, bodies); every bad row is reported with its row number, the field and
  the reason. The same person (ID number), household (building + room) or organisation (kind + name) on several
  rows makes all those rows bad.
* **Good rows by default.** The good rows are written and every bad row comes back: in the report (row, field,
  reason) and as an XLSX (:attr:`ImportRun.bad_rows`: the original columns plus an "错误/error" column) to fix and
  import again. It holds the file's own cells (full ID numbers): only the importer downloads it, and it is purged
  after ``services.BAD_ROWS_KEPT`` (7 days). **All or nothing** (``good_rows_only=False``): when any row is bad,
  nothing is written (every row is checked before the first one is written).
* **A background job, written in chunks.** A file of more than :data:`SYNC_MAX_ROWS` rows is stored as a private
  file (``core.uploads``: never under media, mode 0600) and imported by the task ``tasks.import_registry``
  (:func:`run_job`); smaller files run the same way inside the request. The good rows are written in chunks of
  :data:`WRITE_CHUNK` rows, each chunk its own transaction (other users' saves interleave), the run's progress and
  heartbeat (``heartbeat_at``) updated as it goes; new residents are written set-based
  (``services.import_new_people``: one ``COPY`` per table on PostgreSQL), rows that change someone already
  registered one by one through the services. A job whose heartbeat is older than ``services.JOB_STALE_AFTER``
  (its worker was killed) is marked failed with a clear message (``services.expire_dead_jobs``); the stored upload
  is deleted when the job ends, whichever way.
* **Idempotent.** Rows are matched on the ID number (residents, party members), building + room (households) or kind
  + name (organisations). A row that matches and changes nothing counts as *unchanged* and writes nothing; a changed
  row updates through the registry services (audited, ID numbers and phones masked in the snapshots). Empty cells
  mean "not given": they never clear what is stored.
* **Households in a resident import.** A resident's household is looked up under their building by its name (the
  room, e.g. ``1单元101``; a trailing 室 and full-width digits do not matter) or its 23-digit code. A room the building
  does not have yet is *created* as a household node through ``territory.services.create_node`` (so a resident list
  can be the first data for a building) when the importer may add places there; otherwise the row is bad.
* **Households import**: building + room (+ address). The household head (户主) column is accepted and checked but
  not stored: households have no field for it yet.
* **Tags** in a resident import are added when the person does not carry them yet; an import never ends a tag.
* **Scope.** Only users whose role allows *add* on import runs (community staff, subdistrict operators,
  administrators) import. A row whose building, household, person or organisation lies outside the importer's
  scope is a bad row ("out of your scope"); people registered elsewhere are never moved or changed by an import.
* **Limits.** 20 MB and 200,000 rows per file.

One audit record per import (``registry.imported``, with the counts) besides the records of every change.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy

from gongzhi.core import tabular, uploads
from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, Text, ValidationFailed
from gongzhi.core.messages import fmt, portable_detail, portable_text
from gongzhi.core.privacy import mask_id_number
from gongzhi.registry import idcard, services
from gongzhi.registry.choices import ImportKind, PartyMemberType, PopulationType, Sex, TagKind
from gongzhi.registry.models import ImportRun, PartyMember, Person, PersonTag, Residence
from gongzhi.registry.selectors import ORGANISATION_KINDS, scope_root_code
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node, PartyOrg

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

MAX_FILE_BYTES = tabular.MAX_FILE_BYTES
MAX_ROWS = 200_000
ERROR_HEADER = "错误/error"
CHUNK = 400  # values per lookup query
SYNC_MAX_ROWS = 2000  # more rows than this: a background job, not the web request
WRITE_CHUNK = 2000  # rows written per transaction (other writers interleave between chunks)
WRITERS = 2  # chunks of new people written at once on PostgreSQL (threads, each with its own connection)
BEAT_SECONDS = 2.0  # progress and heartbeat at most this often
CHECK_SHARE = 0.3  # the share of the progress bar for checking the rows (the rest: writing them)
UNEXPECTED_STOP = gettext_noop(
    "The import stopped on an unexpected error; the rows written before it are in, and importing the file again "
    "is safe."
)

log = logging.getLogger(__name__)

# Our field → the headers a registry spreadsheet usually gives it, in order of preference.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.RESIDENTS: {
        "name": ("姓名",),
        "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码"),
        "phone": ("联系电话", "手机号码", "手机号", "电话"),
        "sex": ("性别",),
        "birth_date": ("出生日期",),
        "population_type": ("人口类型", "人员类型", "户籍类型"),
        "building": ("楼栋编号", "楼栋", "楼号", "楼宇"),
        "room": ("房号", "户号", "门牌号", "房间号"),
        "moved_in": ("入住日期", "迁入日期"),
        "tags": ("标签", "重点人群", "人员标签"),
    },
    ImportKind.HOUSEHOLDS: {
        "building": ("楼栋编号", "楼栋", "楼号", "楼宇"),
        "room": ("房号", "户号", "门牌号", "房间号"),
        "head_name": ("户主", "户主姓名"),
        "address": ("地址", "门牌地址"),
    },
    ImportKind.PARTY_MEMBERS: {
        "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码"),
        "name": ("姓名",),
        "member_type": ("党员类型", "类型"),
        "branch": ("所在支部", "党支部", "支部", "所在党组织"),
        "work_unit": ("工作单位", "单位"),
        "reported_in": ("双报到", "是否双报到", "是否报到"),
        "reported_in_on": ("报到日期", "双报到日期"),
    },
    ImportKind.ORGANISATIONS: {
        "name": ("名称", "单位名称", "组织名称"),
        "kind": ("类型", "单位类型", "组织类型"),
        "place": ("所在地点编号", "所在地点", "所在地", "所属社区", "地点"),
        "contact_name": ("联系人",),
        "contact_phone": ("联系电话", "电话"),
        "description": ("简介", "说明", "描述", "备注"),
    },
}
# What our import fields are called on the page and in messages (the report's "field" column, the mapping step,
# a missing column, the bad-rows file): never the internal name.
FIELD_LABELS: dict[str, Any] = {
    "name": gettext_lazy("Name"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Phone"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "population_type": gettext_lazy("Population type"),
    "building": gettext_lazy("Building"),
    "room": gettext_lazy("Room"),
    "moved_in": gettext_lazy("Moved in"),
    "tags": gettext_lazy("Tags"),
    "head_name": gettext_lazy("Head of household"),
    "address": gettext_lazy("Address"),
    "member_type": gettext_lazy("Member type"),
    "branch": gettext_lazy("Branch"),
    "work_unit": gettext_lazy("Work unit"),
    "reported_in": gettext_lazy("Reported in (双报到)"),
    "reported_in_on": gettext_lazy("Reported in on"),
    "kind": gettext_lazy("Kind"),
    "place": gettext_lazy("Place"),
    "contact_name": gettext_lazy("Contact person"),
    "contact_phone": gettext_lazy("Contact phone"),
    "description": pgettext_lazy("organisation", "Description"),
    "file": gettext_lazy("File"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.RESIDENTS: ("name", "id_number", "building", "room"),
    ImportKind.HOUSEHOLDS: ("building", "room"),
    ImportKind.PARTY_MEMBERS: ("id_number", "member_type"),
    ImportKind.ORGANISATIONS: ("name", "kind"),
}


def _words(table: dict[str, Iterable[str]], choices: Any) -> dict[str, str]:
    """Folded word → code: the given words, the codes themselves and the choices' labels."""
    out: dict[str, str] = {}
    for code, label in choices.choices:
        out[tabular.fold(code)] = code
        out[tabular.fold(str(label))] = code
    for code, words in table.items():
        for word in words:
            out[tabular.fold(word)] = code
    return out


SEX_WORDS = _words({Sex.MALE: ("男", "男性", "m"), Sex.FEMALE: ("女", "女性", "f")}, Sex)
POPULATION_WORDS = _words(
    {
        PopulationType.REGISTERED: ("户籍", "户籍人口", "本地户籍"),
        PopulationType.RESIDENT: ("常住", "常住人口", "人户分离"),
        PopulationType.TEMPORARY: ("暂住", "暂住人口"),
        PopulationType.FLOATING: ("流动", "流动人口"),
    },
    PopulationType,
)
TAG_WORDS = _words(
    {
        TagKind.ELDERLY_ALONE: ("独居老人", "独居"),
        TagKind.ELDERLY: ("老人", "老年人", "高龄老人", "高龄"),
        TagKind.CHILD: ("儿童", "未成年人", "留守儿童"),
        TagKind.DISABLED: ("残疾人", "残疾"),
        TagKind.HARDSHIP: ("困难群众", "困难户", "困难", "低保", "低保户", "特困"),
    },
    TagKind,
)
TAG_OTHER_PREFIX = re.compile(r"^(其他|其它|other)\s*[:：]\s*(?P<label>.+)$", re.IGNORECASE)
MEMBER_WORDS = _words(
    {
        PartyMemberType.COMMUNITY: ("社区", "社区党员"),
        PartyMemberType.ON_DUTY: ("在职", "在职党员"),
        PartyMemberType.RETIRED: ("离退休", "退休", "离休", "离退休党员", "退休党员"),
        PartyMemberType.TWO_NEW: ("两新", "两新组织", "两新党员", "两新组织党员"),
        PartyMemberType.MOBILE: ("流动", "流动党员"),
    },
    PartyMemberType,
)
BODY_KIND_WORDS = _words(
    {
        BodyKind.SUBDISTRICT_OFFICE: ("街道办事处", "街道办"),
        BodyKind.RESIDENTS_COMMITTEE: ("居委会", "居民委员会"),
        BodyKind.VILLAGE_COMMITTEE: ("村委会", "村民委员会"),
        BodyKind.ECONOMIC_COOPERATIVE: ("经济合作社", "股份经济合作社", "合作社"),
        BodyKind.OWNERS_COMMITTEE: ("业委会", "业主委员会"),
        BodyKind.PROPERTY_COMPANY: ("物业", "物业公司", "物业服务企业"),
        BodyKind.CO_BUILDING_UNIT: ("共建单位", "驻区单位", "共建"),
        BodyKind.DEPARTMENT: ("部门", "职能部门"),
        BodyKind.COURT: ("法院", "法庭"),
        BodyKind.SOCIAL_ORGANISATION: ("社会组织", "社团"),
        BodyKind.ENTERPRISE: ("企业", "公司"),
        BodyKind.SCHOOL: ("学校",),
        BodyKind.HOSPITAL: ("医院", "卫生院", "社区卫生服务中心"),
    },
    BodyKind,
)
YES_WORDS = {tabular.fold(w) for w in ("是", "已报到", "已", "y", "yes", "true", "1", "√", "✓")}
NO_WORDS = {tabular.fold(w) for w in ("否", "未报到", "未", "n", "no", "false", "0", "×")}

SEX_HINT = "男/女"
POPULATION_HINT = "户籍/常住/暂住/流动"
MEMBER_HINT = "社区/在职/离退休/两新/流动"
TAG_HINT = gettext_lazy("独居老人/老人/儿童/残疾人/困难群众, or 其他:<label>")
ORGANISATION_HINT = "企业/学校/医院/共建单位/社会组织/物业公司/业委会"


# --- entry points ----------------------------------------------------------------------------------------------------


def check_actor(actor: User) -> None:
    """Importing needs the *add* right on import runs (community staff, subdistrict operators, administrators)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden(gettext_lazy("Log in to import into the registry."))
    if actor.scope_for("registry.importrun", "add").is_empty:
        raise Forbidden(gettext_lazy("You may not import into the registry."))


def _check_kind(kind: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationFailed(
            gettext_lazy("Unknown kind of import."),
            [
                ErrorDetail(
                    field="kind", message=fmt(gettext_lazy("expected one of %(values)s"), values=", ".join(ImportKind))
                )
            ],
        )


def import_upload(
    *, actor: User, kind: str, upload: Any, mapping_json: str | None = None, good_rows_only: bool = True
) -> ImportRun:
    """The API's and the pages' way in: an uploaded file, the mapping as a JSON string."""
    check_actor(actor)
    mapping = tabular.parse_mapping(mapping_json)
    tabular.check_size(upload.size or 0, MAX_FILE_BYTES)
    upload.seek(0)
    return submit(
        actor=actor,
        kind=kind,
        file_name=upload.name or "",
        data=upload.read(),
        mapping=mapping,
        good_rows_only=good_rows_only,
    )


def submit(
    *,
    actor: User,
    kind: str,
    file_name: str,
    data: bytes,
    mapping: dict[str, str] | None = None,
    good_rows_only: bool = True,
) -> ImportRun:
    """Check a file's kind, size, header and columns at once (``ValidationFailed``, nothing recorded, when it cannot
    be used), then import it: a file of up to :data:`SYNC_MAX_ROWS` rows here and now (the run comes back done), a
    bigger one as a background job (stored as a private file, queued; the run comes back queued)."""
    check_actor(actor)
    _check_kind(kind)
    tabular.check_size(len(data), MAX_FILE_BYTES)
    with tabular.open_table(file_name, data) as table:
        tabular.resolve_columns(table.header, mapping, HEADERS[kind], REQUIRED[kind], FIELD_LABELS)
        count = sum(1 for _ in islice(table.data_rows(), SYNC_MAX_ROWS + 1))
    if count <= SYNC_MAX_ROWS:
        return run_import(
            actor=actor, kind=kind, file_name=file_name, data=data, mapping=mapping, good_rows_only=good_rows_only
        )
    services.sweep_jobs()
    suffix = ".xlsx" if data[:4] == b"PK\x03\x04" else ".csv"
    stored = uploads.store(services.IMPORT_UPLOADS, data, suffix)
    try:
        run = services.create_import_run(
            actor=actor,
            kind=kind,
            file_name=file_name,
            good_rows_only=good_rows_only,
            mapping=mapping,
            upload=stored,
            node_code=scope_root_code(user=actor, label="registry.importrun", action="add"),
        )
    except BaseException:
        uploads.delete(stored)
        raise
    from gongzhi.registry.tasks import import_registry

    transaction.on_commit(lambda: import_registry.enqueue(run_id=run.pk))
    return run


def run_import(
    *,
    actor: User,
    kind: str,
    file_name: str,
    data: bytes,
    mapping: dict[str, str] | None = None,
    good_rows_only: bool = True,
) -> ImportRun:
    """Import a registry spreadsheet here and now (see the module documentation) and return its finished
    :class:`ImportRun`. Raises ``Forbidden`` for a user who may not import, and ``ValidationFailed`` (recording
    nothing) for a file that cannot be used at all: unknown kind, too large, unreadable, empty, too many rows,
    columns that do not fit."""
    check_actor(actor)
    _check_kind(kind)
    tabular.check_size(len(data), MAX_FILE_BYTES)
    table = _Table.read(kind, file_name, data, mapping)  # file problems: raised before anything is recorded
    run = services.create_import_run(
        actor=actor,
        kind=kind,
        file_name=file_name,
        good_rows_only=good_rows_only,
        mapping=mapping,
        upload="",
        node_code=scope_root_code(user=actor, label="registry.importrun", action="add"),
        running=True,
    )
    try:
        return _execute(run, table)
    except Exception:
        latest = ImportRun.objects.get(pk=run.pk)
        services.finish_import_run(
            run_id=run.pk, failed=True, message=UNEXPECTED_STOP, applied=latest.processed > 0, errors=[]
        )
        raise


def run_job(*, run_id: int) -> dict[str, Any]:
    """Run a queued import (the background task's body): read the stored file, check every row, write the good rows
    in committed chunks with the progress and heartbeat after each, record the outcome; the stored file is deleted
    at the end. A job runs once; running it again does nothing."""
    run = services.start_import_run(run_id=run_id)
    if run is None:
        return {"run": run_id, "ran": False}
    try:
        data = uploads.read(run.upload)
        table = _Table.read(run.kind, run.file_name, data, run.mapping)
        run = _execute(run, table)
    except Exception as exc:
        if isinstance(exc, DomainError):
            message = portable_text(exc.message)
            errors = [portable_detail(d) for d in exc.details]
        else:
            log.exception("registry import %s failed", run_id)
            message, errors = UNEXPECTED_STOP, []
        latest = ImportRun.objects.get(pk=run_id)
        services.finish_import_run(
            run_id=run_id, failed=True, message=message, applied=latest.processed > 0, errors=errors
        )
        if isinstance(exc, DomainError):
            return {"run": run_id, "ran": True, "state": "failed"}
        raise
    return {"run": run_id, "ran": True, "state": run.state, "created": run.created, "failed": run.failed}


# --- the run ---------------------------------------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: list[_Row]

    @classmethod
    def read(cls, kind: str, file_name: str, data: bytes, mapping: dict[str, str] | None) -> _Table:
        table = tabular.read_rows(file_name, data)
        header = tabular.header_of(table)
        columns = tabular.resolve_columns(header, mapping, HEADERS[kind], REQUIRED[kind], FIELD_LABELS)
        items = list(columns.items())
        rows = [
            _Row(number, cells, {name: cells[index] if index < len(cells) else None for name, index in items})
            for number, cells in tabular.data_rows(table, MAX_ROWS)
        ]
        if not rows:
            raise ValidationFailed(
                gettext_lazy("The file has no rows under the header."),
                [ErrorDetail(field="file", row=2, message=gettext_lazy("no data rows"))],
            )
        return cls(header, rows)


class _Beat:
    """Progress and heartbeat of a run, written at most every :data:`BEAT_SECONDS` (and when asked)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0

    def __call__(self, processed: int, progress: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= BEAT_SECONDS:
            self.last = now
            services.record_import_progress(run_id=self.run_id, processed=processed, progress=progress)


def _execute(run: ImportRun, table: _Table) -> ImportRun:
    """Check every row, then (unless all or nothing and some row is bad) write the good ones in chunks of
    :data:`WRITE_CHUNK` rows, each chunk its own transaction; record the outcome."""
    actor, kind, rows = run.actor, run.kind, table.rows
    beat = _Beat(run.pk)
    importer = IMPORTERS[kind](actor)
    importer.prepare(rows)
    for i, row in enumerate(rows):
        importer.check(row)
        if i % 2000 == 1999:
            beat(0, CHECK_SHARE * (i + 1) / len(rows))
    _mark_duplicates(rows, importer)
    beat(0, CHECK_SHARE, force=True)

    counts: Counter[str] = Counter()
    good = [row for row in rows if not row.errors]
    applied = False
    if good and (run.good_rows_only or len(good) == len(rows)):
        _write(importer, good, counts, beat)
        applied = any(counts.values())
    bad = [row for row in rows if row.errors]
    errors = [{**portable_detail(detail), "row": row.number} for row in bad for detail in row.errors]
    return services.finish_import_run(
        run_id=run.pk,
        failed=False,
        applied=applied,
        total_rows=len(rows),
        created=counts[services.CREATED],
        updated=counts[services.UPDATED],
        unchanged=counts[services.UNCHANGED],
        bad=len(bad),
        errors=errors,
        bad_rows=_bad_rows_xlsx(table.header, bad) if bad else None,
        extra=importer.extra_counts(),
    )


@dataclass
class _Row:
    number: int
    cells: list[Any]
    values: dict[str, Any]
    errors: list[ErrorDetail] = field(default_factory=list)
    key: Any = None
    plan: Any = None

    def text(self, name: str) -> str:
        return tabular.text(self.values.get(name))

    def fail(self, name: str | None, message: Text) -> None:
        self.errors.append(ErrorDetail(field=name, row=self.number, message=message))


def _mark_duplicates(rows: list[_Row], importer: _Importer) -> None:
    groups: dict[Any, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.key is not None:
            groups[row.key].append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        numbers = ", ".join(str(r.number) for r in group)
        for row in group:
            row.fail(
                importer.key_field,
                fmt(gettext_lazy("%(what)s is on rows %(rows)s"), what=importer.key_label, rows=numbers),
            )


def _may_write_in_background() -> bool:
    """Chunks of new people are written by threads of their own (each with its own connection, so each chunk
    commits on its own) only on PostgreSQL and outside a transaction: inside one (a test, a caller's ``atomic``)
    the rows must stay in it."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _write(importer: _Importer, good: list[_Row], counts: Counter[str], beat: _Beat) -> None:
    """Write the checked rows, :data:`WRITE_CHUNK` rows per transaction: first those that change what is stored
    (one by one through the services), then the new ones set-based — on PostgreSQL by :data:`WRITERS` threads at
    once, each chunk on its own connection. A chunk whose set-based write fails (someone registered one of the
    people meanwhile) is written again one by one, where the failing row becomes a bad row."""
    new, rest = importer.split(good)
    total = len(good) or 1
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        beat(done, CHECK_SHARE + (1 - CHECK_SHARE) * done / total)

    try:
        for chunk in _chunks(rest, WRITE_CHUNK):
            _apply_rows(importer, chunk, counts)
            step(len(chunk))
        chunks = list(_chunks(new, WRITE_CHUNK))
        retry: list[list[tuple[_Row, Any]]] = []
        if chunks and WRITERS and _may_write_in_background():
            with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="registry-writer") as pool:
                futures = {pool.submit(_write_new_in_thread, importer, chunk): chunk for chunk in chunks}
                for future in as_completed(futures):
                    chunk = futures[future]
                    if future.result():
                        counts[services.CREATED] += len(chunk)
                    else:
                        retry.append(chunk)
                    step(len(chunk))
        else:
            for chunk in chunks:
                if _write_new(importer, chunk):
                    counts[services.CREATED] += len(chunk)
                else:
                    retry.append(chunk)
                step(len(chunk))
        for chunk in retry:
            _apply_rows(importer, [row for row, _ in chunk], counts)
    finally:  # how far it got, also when it stops on an error (the job's report then says so)
        beat(done, CHECK_SHARE + (1 - CHECK_SHARE) * done / total, force=True)


def _write_new(importer: _Importer, chunk: list[tuple[_Row, Any]]) -> bool:
    """One chunk of new rows, set-based, in one transaction; ``False`` when it rolled back on a clash."""
    try:
        with transaction.atomic():
            importer.write_new([item for _, item in chunk])
    except (IntegrityError, DataError):
        return False
    return True


def _write_new_in_thread(importer: _Importer, chunk: list[tuple[_Row, Any]]) -> bool:
    try:
        return _write_new(importer, chunk)
    finally:
        connection.close()  # this thread's own connection


def _apply_rows(importer: _Importer, chunk: list[_Row], counts: Counter[str]) -> None:
    """Write rows one by one in one transaction, each in its own savepoint: a row that fails rolls back alone
    and becomes a bad row."""
    with transaction.atomic():
        for row in chunk:
            try:
                with transaction.atomic():
                    outcome = importer.apply(row.plan)
            except DomainError as exc:
                importer.row_done(ok=False)
                for detail in exc.details or [ErrorDetail(message=exc.message)]:
                    row.fail(detail.field, detail.message)
            except (IntegrityError, DataError) as exc:
                importer.row_done(ok=False)
                row.fail(None, fmt(gettext_lazy("the row cannot be stored: %(reason)s"), reason=exc))
            else:
                importer.row_done(ok=True)
                counts[outcome] += 1


def _field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field.split(".", 1)[-1], field))


def _bad_rows_xlsx(header: list[str], bad: list[_Row]) -> bytes:
    width = len(header)
    rows = []
    for row in bad:
        cells = [*row.cells[:width], *([None] * (width - len(row.cells)))]
        reasons = "; ".join(f"{_field_label(d.field)}: {d.message}" if d.field else str(d.message) for d in row.errors)
        rows.append([*cells, reasons])
    return tabular.write_xlsx([("bad rows", [*header, ERROR_HEADER], rows)])


# --- lookups shared by the importers ---------------------------------------------------------------------------------


def _chunks(items: list[Any], size: int | None = None) -> Iterable[list[Any]]:
    """``items`` in slices: :data:`CHUNK` values per lookup on SQLite (its parameter limit), more on PostgreSQL."""
    size = size or (CHUNK * 10 if connection.vendor == "postgresql" else CHUNK)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _variants(raw: str) -> set[str]:
    """The spellings of a cell worth asking the database for: as written, and NFKC-normalised without spaces."""
    plain = raw.strip()
    return {plain, re.sub(r"\s+", "", unicodedata.normalize("NFKC", plain))} - {""}


def _room_key(value: Any) -> str:
    key = tabular.fold(value)
    return key[:-1] if key.endswith("室") and len(key) > 1 else key


def _id_number(row: _Row) -> tuple[str, str]:
    """(normalised ID number, problem) of the row's id_number cell."""
    value = row.values.get("id_number")
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        return "", "the ID number was stored as a number and lost digits: format the column as text"
    number = idcard.normalise(tabular.text(value))
    if not number:
        return "", "an ID number is required"
    return number, ""


def _word(row: _Row, name: str, words: dict[str, str], hint: Text) -> str | None:

    raw = row.text(name)
    if not raw:
        return None
    code = words.get(tabular.fold(raw))
    if code is None:
        row.fail(name, fmt(gettext_lazy("“%(value)s” is not one of %(hint)s"), value=raw, hint=hint))
    return code


def _date(row: _Row, name: str) -> Any:
    value, problem = tabular.parse_date(row.values.get(name))
    if problem:
        row.fail(name, problem)
    elif value is not None and value > timezone.localdate():
        row.fail(name, fmt(gettext_lazy("%(date)s is in the future"), date=value.isoformat()))
        return None
    return value


def _length(row: _Row, name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        row.fail(name, fmt(gettext_lazy("longer than %(n)s characters"), n=limit))


class _Buildings:
    """Buildings by code, name or address: those the importer sees, and which of the others exist elsewhere."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.index: dict[str, list[Node]] = defaultdict(list)
        self.elsewhere: set[str] = set()
        self.households: dict[tuple[int, str], Node] = {}

    def load(self, raws: set[str]) -> None:
        asked = sorted({v for raw in raws for v in _variants(raw)})
        visible = Node.objects.restrict(self.actor, "view").filter(kind=NodeKind.BUILDING)
        found: dict[int, Node] = {}
        for chunk in _chunks(asked):
            for node in visible.filter(Q(code__in=chunk) | Q(name__in=chunk) | Q(address__in=chunk)):
                found[node.pk] = node
        for node in found.values():
            for key in {tabular.fold(node.code), tabular.fold(node.name), tabular.fold(node.address)} - {""}:
                self.index[key].append(node)
        missing = sorted({v for raw in raws if tabular.fold(raw) not in self.index for v in _variants(raw)})
        everywhere = Node.objects.filter(kind=NodeKind.BUILDING)
        for chunk in _chunks(missing):
            rows = everywhere.filter(Q(code__in=chunk) | Q(name__in=chunk) | Q(address__in=chunk))
            for code, name, address in rows.values_list("code", "name", "address"):
                self.elsewhere |= {tabular.fold(code), tabular.fold(name), tabular.fold(address)} - {""}
        ids = sorted(found)
        for chunk in _chunks(ids):
            households = Node.objects.filter(kind=NodeKind.HOUSEHOLD, parent_id__in=chunk)
            for node in households.only("id", "code", "name", "kind", "parent_id", "lead_body_id", "address"):
                self.households.setdefault((node.parent_id or 0, _room_key(node.name)), node)
                self.households[(node.parent_id or 0, tabular.fold(node.code))] = node

    def find(self, row: _Row, name: str = "building") -> Node | None:
        raw = row.text(name)
        if not raw:
            row.fail(name, gettext_lazy("a building is required (its code, name or address)"))
            return None
        hits = self.index.get(tabular.fold(raw), [])
        if len(hits) > 1:
            row.fail(
                name,
                fmt(
                    gettext_lazy("%(n)s buildings in your scope are called “%(value)s”: use the building code"),
                    n=len(hits),
                    value=raw,
                ),
            )
            return None
        if not hits:
            if tabular.fold(raw) in self.elsewhere:
                row.fail(name, fmt(gettext_lazy("building “%(value)s” is out of your scope"), value=raw))
            else:
                row.fail(name, fmt(gettext_lazy("no building “%(value)s” (by code, name or address)"), value=raw))
            return None
        return hits[0]

    def household(self, building: Node, room: str) -> Node | None:
        return self.households.get((building.pk, _room_key(room)))


# --- the importers ---------------------------------------------------------------------------------------------------


class _Importer:
    key_field = ""
    key_label: Text = ""

    def __init__(self, actor: User) -> None:
        self.actor = actor

    def prepare(self, rows: list[_Row]) -> None:  # fetch what the rows refer to, in bulk
        pass

    def check(self, row: _Row) -> None:  # set row.key and row.plan, or add errors
        raise NotImplementedError

    def apply(self, plan: Any) -> str:  # write one row: created / updated / unchanged
        raise NotImplementedError

    def split(self, rows: list[_Row]) -> tuple[list[tuple[_Row, Any]], list[_Row]]:
        """(the rows written set-based by :meth:`write_new`, each with what it writes; the rows for :meth:`apply`)."""
        return [], rows

    def write_new(self, items: list[Any]) -> None:  # write new rows set-based (any thread, in its transaction)
        raise NotImplementedError

    def row_done(self, *, ok: bool) -> None:  # the row's savepoint committed (ok) or rolled back
        pass

    def extra_counts(self) -> dict[str, int]:
        return {}


class _HouseholdMaker:
    """Household nodes created during an import, kept only once their row's savepoint has committed."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.made: dict[tuple[int, str], Node] = {}
        self.pending: dict[tuple[int, str], Node] = {}
        self.count = 0

    def get_or_make(self, building: Node, room: str, address: str = "") -> tuple[Node, bool]:
        key = (building.pk, _room_key(room))
        node = self.made.get(key) or self.pending.get(key)
        if node is not None:
            return node, False
        node, _ = services.import_household(
            actor=self.actor, building=building, room=room, household=None, address=address
        )
        self.pending[key] = node
        return node, True

    def row_done(self, *, ok: bool) -> None:
        if ok:
            self.count += len(self.pending)
            self.made.update(self.pending)
        self.pending.clear()


@dataclass
class _PersonPlan:
    fields: dict[str, Any]
    building: Node
    room: str
    household: Node | None
    person: Person | None
    residence: Residence | None
    open_tags: set[tuple[str, str]]
    card: idcard.IdCard | None = None


class _Residents(_Importer):
    key_field = "id_number"
    key_label: Text = gettext_lazy("the same ID number")

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        self.buildings = _Buildings(actor)
        self.households = _HouseholdMaker(actor)
        self.people: dict[str, Person] = {}
        self.changeable: set[int] = set()
        self.residences: dict[int, Residence] = {}
        self.tags: dict[int, set[tuple[str, str]]] = defaultdict(set)
        self.person_add = actor.scope_for("registry.person", "add")
        self.node_add = actor.scope_for("territory.node", "add")

    def prepare(self, rows: list[_Row]) -> None:
        self.buildings.load({row.text("building") for row in rows if row.text("building")})
        numbers = sorted({idcard.normalise(row.text("id_number")) for row in rows if row.text("id_number")})
        for chunk in _chunks(numbers):
            for person in Person.objects.filter(id_number__in=chunk).select_related("household"):
                self.people[person.id_number or ""] = person
        ids = sorted(p.pk for p in self.people.values())
        for chunk in _chunks(ids):
            self.changeable |= set(
                Person.objects.restrict(self.actor, "change").filter(pk__in=chunk).values_list("pk", flat=True)
            )
            for residence in Residence.objects.filter(person_id__in=chunk, moved_out__isnull=True):
                self.residences[residence.person_id] = residence
            for person_id, tag, label in PersonTag.objects.filter(person_id__in=chunk, until__isnull=True).values_list(
                "person_id", "tag", "label"
            ):
                self.tags[person_id].add((tag, label))

    def check(self, row: _Row) -> None:
        name = row.text("name")
        number, problem = _id_number(row)
        if problem:
            row.fail("id_number", problem)
        phone = row.text("phone")
        sex = _word(row, "sex", SEX_WORDS, SEX_HINT)
        population_type = _word(row, "population_type", POPULATION_WORDS, POPULATION_HINT)
        birth_date = _date(row, "birth_date")
        moved_in = _date(row, "moved_in")
        details: list[ErrorDetail] = []
        card = services._check_person_fields(
            details=details,
            name=name,
            id_number=number or None,
            phone=phone or None,
            sex=sex,
            birth_date=birth_date,
            check_taken=False,
        )
        for detail in details:
            row.fail(detail.field, detail.message)
        _length(row, "name", name, 60)
        _length(row, "phone", phone, 20)
        if card is not None:
            row.key = card.number
        tags = self._tags(row)
        room = row.text("room")
        _length(row, "room", room, 40)
        building = self.buildings.find(row)
        household = None
        if not room:
            row.fail("room", gettext_lazy("a room (household) is required"))
        elif building is not None:
            household = self.buildings.household(building, room)
            place = household or building
            if not self.person_add.covers(place.code, place.lead_body_id):
                row.fail(
                    "building",
                    fmt(gettext_lazy("%(place)s is out of your scope for registering people"), place=place.name),
                )
            elif household is None and not self.node_add.covers(building.code, building.lead_body_id):
                row.fail(
                    "room",
                    fmt(
                        gettext_lazy("%(building)s has no household “%(room)s” and you may not add households"),
                        building=building.name,
                        room=room,
                    ),
                )
        person = self.people.get(card.number) if card is not None else None
        residence = None
        if person is not None:
            residence = self.residences.get(person.pk)
            moving = household is None or person.household_id != household.pk
            if person.pk not in self.changeable:
                row.fail("id_number", gettext_lazy("this person is registered out of your scope"))
            elif moving and residence is not None and moved_in is not None and moved_in < residence.moved_in:
                row.fail(
                    "moved_in",
                    fmt(
                        gettext_lazy("a move cannot predate the current residence (%(date)s)"),
                        date=residence.moved_in.isoformat(),
                    ),
                )
        if row.errors or card is None or building is None:
            return
        row.plan = _PersonPlan(
            fields={
                "name": name.strip(),
                "id_number": card.number,
                "phone": phone,
                "population_type": population_type,
                "moved_in": moved_in,
                "tags": tuple(tags),
            },
            building=building,
            room=room,
            household=household,
            person=person,
            residence=residence,
            open_tags=self.tags.get(person.pk, set()) if person is not None else set(),
            card=card,
        )

    def _tags(self, row: _Row) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for word in tabular.split_words(row.values.get("tags")):
            other = TAG_OTHER_PREFIX.match(word)
            if other:
                label = other.group("label").strip()
                if len(label) > 60:
                    row.fail(
                        "tags",
                        fmt(gettext_lazy("the label “%(value)s” is longer than 60 characters"), value=f"{label[:20]}…"),
                    )
                else:
                    out.append((TagKind.OTHER, label))
                continue
            code = TAG_WORDS.get(tabular.fold(word))
            if code is None or code == TagKind.OTHER:
                row.fail("tags", fmt(gettext_lazy("“%(value)s” is not one of %(hint)s"), value=word, hint=TAG_HINT))
            else:
                out.append((code, ""))
        return list(dict.fromkeys(out))

    def apply(self, plan: _PersonPlan) -> str:
        household = plan.household
        if household is None:
            household, _ = self.households.get_or_make(plan.building, plan.room)
        row = services.PersonRow(household=household, room=plan.room, **plan.fields)
        return services.import_person(
            actor=self.actor,
            row=row,
            person=plan.person,
            open_residence=plan.residence,
            open_tags=plan.open_tags,
        )

    def split(self, rows: list[_Row]) -> tuple[list[tuple[_Row, Any]], list[_Row]]:
        """New people go in set-based (``services.import_new_people``), once the households they need are made
        (one by one, through the territory services, each committed); people already registered go one by one
        (:meth:`apply`)."""
        new: list[tuple[_Row, Any]] = []
        rest: list[_Row] = []
        for row in rows:
            plan: _PersonPlan = row.plan
            if plan.person is not None or plan.card is None:
                rest.append(row)
                continue
            household = plan.household or self.households.made.get((plan.building.pk, _room_key(plan.room)))
            if household is None:
                try:
                    with transaction.atomic():
                        household, _ = self.households.get_or_make(plan.building, plan.room)
                except (DomainError, IntegrityError, DataError):
                    self.households.row_done(ok=False)
                    rest.append(row)  # fails again there, with its reason
                    continue
                self.households.row_done(ok=True)
            fields = plan.fields
            new.append(
                (
                    row,
                    services.NewPerson(
                        name=fields["name"],
                        id_number=plan.card.number,
                        sex=plan.card.sex,
                        birth_date=plan.card.birth_date,
                        household=household,
                        room=plan.room,
                        phone=fields["phone"],
                        population_type=fields["population_type"],
                        moved_in=fields["moved_in"],
                        tags=fields["tags"],
                    ),
                )
            )
        return new, rest

    def write_new(self, items: list[Any]) -> None:
        services.import_new_people(actor=self.actor, rows=items)

    def row_done(self, *, ok: bool) -> None:
        self.households.row_done(ok=ok)

    def extra_counts(self) -> dict[str, int]:
        return {"households_created": self.households.count}


@dataclass
class _HouseholdPlan:
    building: Node
    room: str
    household: Node | None
    address: str


class _Households(_Importer):
    key_field = "room"
    key_label: Text = gettext_lazy("the same household")

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        self.buildings = _Buildings(actor)
        self.node_add = actor.scope_for("territory.node", "add")
        self.node_change = actor.scope_for("territory.node", "change")

    def prepare(self, rows: list[_Row]) -> None:
        self.buildings.load({row.text("building") for row in rows if row.text("building")})

    def check(self, row: _Row) -> None:
        room, address, head = row.text("room"), row.text("address"), row.text("head_name")
        _length(row, "room", room, 120)
        _length(row, "address", address, 200)
        _length(row, "head_name", head, 60)
        building = self.buildings.find(row)
        if not room:
            row.fail("room", gettext_lazy("a room (household) is required"))
        if building is None or not room:
            return
        row.key = (building.pk, _room_key(room))
        household = self.buildings.household(building, room)
        if household is None and not self.node_add.covers(building.code, building.lead_body_id):
            row.fail(
                "building",
                fmt(
                    gettext_lazy("you may not add households to %(building)s (out of your scope)"),
                    building=building.name,
                ),
            )
        elif (
            household is not None
            and address
            and household.address != address
            and not self.node_change.covers(household.code, household.lead_body_id)
        ):
            row.fail(
                "address",
                fmt(
                    gettext_lazy("you may not change %(household)s (out of your scope)"),
                    household=f"{building.name} {household.name}",
                ),
            )
        if not row.errors:
            row.plan = _HouseholdPlan(building, room, household, address)

    def apply(self, plan: _HouseholdPlan) -> str:
        _, outcome = services.import_household(
            actor=self.actor, building=plan.building, room=plan.room, household=plan.household, address=plan.address
        )
        return outcome


@dataclass
class _PartyPlan:
    person: Person
    membership: PartyMember | None
    member_type: str
    branch: PartyOrg | None
    work_unit: Body | None
    reported_in: bool | None
    reported_in_on: Any


class _ByName:
    """Rows of a model the importer sees, by folded name (several with one name: ambiguous)."""

    def __init__(self, queryset: Any, names: set[str]) -> None:
        self.index: dict[str, list[Any]] = defaultdict(list)
        asked = sorted({v for raw in names for v in _variants(raw)})
        seen: set[int] = set()
        for chunk in _chunks(asked):
            for obj in queryset.filter(name__in=chunk):
                if obj.pk not in seen:
                    seen.add(obj.pk)
                    self.index[tabular.fold(obj.name)].append(obj)

    def find(self, row: _Row, name: str, what: Text) -> Any:
        raw = row.text(name)
        if not raw:
            return None
        hits = self.index.get(tabular.fold(raw), [])
        if not hits:
            row.fail(name, fmt(gettext_lazy("no %(what)s “%(value)s” in your scope"), what=what, value=raw))
        elif len(hits) > 1:
            row.fail(
                name, fmt(gettext_lazy("%(n)s %(what)ss are called “%(value)s”"), n=len(hits), what=what, value=raw)
            )
        else:
            return hits[0]
        return None


class _PartyMembers(_Importer):
    key_field = "id_number"
    key_label: Text = gettext_lazy("the same ID number")

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        self.people: dict[str, Person] = {}
        self.memberships: dict[int, PartyMember] = {}
        self.add = actor.scope_for("registry.partymember", "add")
        self.change = actor.scope_for("registry.partymember", "change")
        self.branches: _ByName | None = None
        self.units: _ByName | None = None

    def prepare(self, rows: list[_Row]) -> None:
        numbers = sorted({idcard.normalise(row.text("id_number")) for row in rows if row.text("id_number")})
        for chunk in _chunks(numbers):
            for person in Person.objects.filter(id_number__in=chunk).select_related("household"):
                self.people[person.id_number or ""] = person
        for chunk in _chunks(sorted(p.pk for p in self.people.values())):
            for membership in PartyMember.objects.filter(person_id__in=chunk):
                self.memberships[membership.person_id] = membership
        branches = {row.text("branch") for row in rows if row.text("branch")}
        units = {row.text("work_unit") for row in rows if row.text("work_unit")}
        self.branches = _ByName(PartyOrg.objects.restrict(self.actor, "view"), branches)
        self.units = _ByName(Body.objects.restrict(self.actor, "view"), units)

    def _covers(self, person: Person, scope: Any) -> bool:
        household = person.household
        return bool(
            scope.everything or (household is not None and scope.covers(household.code, household.lead_body_id))
        )

    def check(self, row: _Row) -> None:
        assert self.branches is not None and self.units is not None
        number, problem = _id_number(row)
        if problem:
            row.fail("id_number", problem)
        elif errors := idcard.id_number_errors(number):
            for message in errors:
                row.fail("id_number", message)
            number = ""
        member_type = _word(row, "member_type", MEMBER_WORDS, MEMBER_HINT)
        if member_type is None and not row.text("member_type"):
            row.fail("member_type", fmt(gettext_lazy("a member type is required (%(hint)s)"), hint=MEMBER_HINT))
        branch = self.branches.find(row, "branch", gettext_lazy("party organisation"))
        work_unit = self.units.find(row, "work_unit", gettext_lazy("organisation"))
        reported_in: bool | None = None
        flag = tabular.fold(row.values.get("reported_in"))
        if flag in YES_WORDS:
            reported_in = True
        elif flag in NO_WORDS:
            reported_in = False
        elif flag:
            row.fail("reported_in", fmt(gettext_lazy("“%(value)s” is not 是 or 否"), value=row.text("reported_in")))
        reported_in_on = _date(row, "reported_in_on")
        if reported_in is False and reported_in_on is not None:
            row.fail("reported_in_on", gettext_lazy("a report-in date for a member who has not reported in"))
        if not number:
            return
        row.key = number
        person = self.people.get(number)
        if person is None:
            row.fail(
                "id_number",
                gettext_lazy("no one with this ID number is in the registry: import them as residents first"),
            )
            return
        membership = self.memberships.get(person.pk)
        if not self._covers(person, self.add if membership is None else self.change):
            row.fail("id_number", gettext_lazy("this person is registered out of your scope"))
            return
        name = row.text("name")
        if name and tabular.fold(name) != tabular.fold(person.name):
            row.fail(
                "name",
                fmt(gettext_lazy("does not match the registered name of %(masked)s"), masked=mask_id_number(number)),
            )
        if not row.errors and member_type is not None:
            row.plan = _PartyPlan(person, membership, member_type, branch, work_unit, reported_in, reported_in_on)

    def apply(self, plan: _PartyPlan) -> str:
        return services.import_party_member(
            actor=self.actor,
            person=plan.person,
            membership=plan.membership,
            member_type=plan.member_type,
            branch=plan.branch,
            work_unit=plan.work_unit,
            reported_in=plan.reported_in,
            reported_in_on=plan.reported_in_on,
        )


@dataclass
class _OrganisationPlan:
    body: Body | None
    fields: dict[str, Any]


class _Organisations(_Importer):
    key_field = "name"
    key_label: Text = gettext_lazy("the same organisation")

    def __init__(self, actor: User) -> None:
        super().__init__(actor)
        self.bodies: dict[tuple[str, str], Body] = {}
        self.places: dict[str, list[Node]] = defaultdict(list)
        self.elsewhere: set[str] = set()
        self.body_add = actor.scope_for("territory.body", "add")

    def prepare(self, rows: list[_Row]) -> None:
        names = sorted({v for row in rows for v in _variants(row.text("name"))})
        for chunk in _chunks(names):
            for body in Body.objects.filter(name__in=chunk).select_related("node"):
                self.bodies[(body.kind, tabular.fold(body.name))] = body
        raws = {row.text("place") for row in rows if row.text("place")}
        asked = sorted({v for raw in raws for v in _variants(raw)})
        visible = Node.objects.restrict(self.actor, "view").exclude(kind=NodeKind.HOUSEHOLD)
        found: dict[int, Node] = {}
        for chunk in _chunks(asked):
            for node in visible.filter(Q(code__in=chunk) | Q(name__in=chunk)):
                found[node.pk] = node
        for node in found.values():
            for key in {tabular.fold(node.code), tabular.fold(node.name)}:
                self.places[key].append(node)
        missing = sorted({v for raw in raws if tabular.fold(raw) not in self.places for v in _variants(raw)})
        for chunk in _chunks(missing):
            for code, name in Node.objects.filter(Q(code__in=chunk) | Q(name__in=chunk)).values_list("code", "name"):
                self.elsewhere |= {tabular.fold(code), tabular.fold(name)}

    def _place(self, row: _Row) -> Node | None:
        raw = row.text("place")
        if not raw:
            return None
        hits = self.places.get(tabular.fold(raw), [])
        if len(hits) > 1:
            row.fail(
                "place",
                fmt(
                    gettext_lazy("%(n)s places in your scope are called “%(value)s”: use the place code"),
                    n=len(hits),
                    value=raw,
                ),
            )
        elif not hits:
            if tabular.fold(raw) in self.elsewhere:
                row.fail("place", fmt(gettext_lazy("“%(value)s” is out of your scope"), value=raw))
            else:
                row.fail("place", fmt(gettext_lazy("“%(value)s” is not a known place (code or name)"), value=raw))
        else:
            return hits[0]
        return None

    def check(self, row: _Row) -> None:
        name = re.sub(r"\s+", " ", row.text("name"))
        if not name:
            row.fail("name", gettext_lazy("a name is required"))
        _length(row, "name", name, 120)
        kind = _word(row, "kind", BODY_KIND_WORDS, ORGANISATION_HINT)
        if kind is None and not row.text("kind"):
            row.fail(
                "kind",
                fmt(gettext_lazy("a kind is required (%(hint)s)"), hint=ORGANISATION_HINT),
            )
        elif kind is not None and kind not in ORGANISATION_KINDS:
            row.fail(
                "kind",
                fmt(
                    gettext_lazy("“%(value)s” bodies are set up with the territory, not imported"),
                    value=row.text("kind"),
                ),
            )
            kind = None
        node = self._place(row)
        contact_name, contact_phone = row.text("contact_name"), row.text("contact_phone")
        description = row.text("description")
        _length(row, "contact_name", contact_name, 60)
        _length(row, "contact_phone", contact_phone, 20)
        details: list[ErrorDetail] = []
        services._check_phone(details, "contact_phone", contact_phone)
        for detail in details:
            row.fail(detail.field, detail.message)
        if kind is None or not name:
            return
        row.key = (kind, tabular.fold(name))
        body = self.bodies.get(row.key)
        if body is None:
            if node is None and not row.text("place") and not self.body_add.everything:
                row.fail("place", gettext_lazy("the place where the organisation sits is required"))
            elif node is not None and not (self.body_add.everything or self.body_add.covers(node.code)):
                row.fail("place", fmt(gettext_lazy("you may not add organisations to %(place)s"), place=node.name))
        else:
            wanted = {"contact_name": contact_name, "contact_phone": contact_phone, "description": description}
            changes = node is not None and body.node_id != node.pk
            changes = changes or any(value and getattr(body, key) != value for key, value in wanted.items())
            if changes and not services.may_on_body(self.actor, "territory.body", "change", body):
                row.fail("name", fmt(gettext_lazy("%(name)s is out of your scope: it cannot be changed"), name=name))
        if not row.errors:
            row.plan = _OrganisationPlan(
                body,
                {
                    "name": name,
                    "kind": kind,
                    "node": node,
                    "contact_name": contact_name,
                    "contact_phone": contact_phone,
                    "description": description,
                },
            )

    def apply(self, plan: _OrganisationPlan) -> str:
        return services.import_organisation(actor=self.actor, body=plan.body, **plan.fields)


IMPORTERS: dict[str, type[_Importer]] = {
    ImportKind.RESIDENTS: _Residents,
    ImportKind.HOUSEHOLDS: _Households,
    ImportKind.PARTY_MEMBERS: _PartyMembers,
    ImportKind.ORGANISATIONS: _Organisations,
}
