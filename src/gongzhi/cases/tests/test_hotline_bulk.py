"""The 12345 import at scale: the bulk writer makes the same case as ``report_case``, batches, the streaming reader,
the race with another import, and big files as background jobs (page, API, task)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline, intake, selectors, services
from gongzhi.cases.models import Case, CaseEvent, HotlineImport
from gongzhi.cases.tests.factories import category
from gongzhi.core import tabular
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = [
    "工单编号",
    "来电时间",
    "诉求标题",
    "诉求内容",
    "诉求分类",
    "事发地址",
    "来电人",
    "联系电话",
    "紧急程度",
    "经度",
    "纬度",
]


def csv_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def row(ticket: str, **cells: Any) -> list[Any]:
    values = {
        "time": "2026-03-01 08:15",
        "title": "小区门口积水",
        "description": "雨后积水\n很深\t需要处理\\",  # COPY's special characters survive
        "category": "积水",
        "address": "",
        "name": "王先生",
        "phone": "138-1234-5678",
        "urgency": "",
        "lng": "",
        "lat": "",
    } | cells
    return [ticket, *values.values()]


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the bulk case is the case report_case makes ---------------------------------------------------------------------

SKIP = {"id", "number", "tracking_code", "hotline_ticket", "created_at", "updated_at"}

PLACEMENTS = {
    # cells of the row → (what report_case gets besides the common arguments, how the place is found)
    "gps, next to a building": ({"lng": "123.404", "lat": "41.904"}, "gps"),
    "gps, in a grid far from its building": ({"lng": "123.4095", "lat": "41.9095", "urgency": "紧急"}, "gps"),
    "gps, outside every grid, inside the subdistrict": ({"lng": "123.43", "lat": "41.935"}, "desk"),
    "gps, far away": ({"lng": "100.0", "lat": "30.0", "urgency": "不急"}, "desk"),
    "address of a building": ({"address": "社区1第2网格1号楼3单元"}, "address"),
    "gps outside the grids, but an address": (
        {"lng": "123.43", "lat": "41.935", "address": "社区2第1网格1号楼"},
        "address",
    ),
    "nothing": ({}, "desk"),
}


def _report_case_kwargs(cells: dict[str, str]) -> dict[str, Any]:
    lat, lng = cells.get("lat"), cells.get("lng")
    return {
        "channel": "hotline",
        "title": "小区门口积水",
        "description": "雨后积水\n很深\t需要处理\\",
        "category_id": category("0105").pk,
        "urgency": {"紧急": "A", "不急": "C"}.get(cells.get("urgency", "")),
        "lat": float(lat) if lat else None,
        "lng": float(lng) if lng else None,
        "address": cells.get("address", ""),
        "reporter_name": "王先生",
        "reporter_phone": "13812345678",
        "reported_at": datetime(2026, 3, 1, 8, 15, tzinfo=SHANGHAI),
    }


@pytest.mark.parametrize("placement", list(PLACEMENTS), ids=list(PLACEMENTS))
def test_the_imported_case_is_the_case_report_case_makes(tree, other_tree, operator, placement):  # type: ignore[no-untyped-def]
    cells, how = PLACEMENTS[placement]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes([row("BULK-1", **cells)]))
    assert result.errors == [] and len(result.created) == 1
    imported = Case.objects.get(hotline_ticket="BULK-1")
    made = services.report_case(actor=operator, hotline_ticket="ONE-1", **_report_case_kwargs(cells))

    for f in Case._meta.concrete_fields:
        if f.attname not in SKIP:
            assert getattr(imported, f.attname) == getattr(made, f.attname), f.attname
    assert imported.number == f"{timezone.localtime(imported.reported_at):%Y%m%d}{imported.pk:07d}"
    assert imported.number.startswith("20260301")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", imported.tracking_code) and imported.tracking_code != made.tracking_code
    assert abs((imported.created_at - made.created_at).total_seconds()) < 60

    [ev_imported] = CaseEvent.objects.filter(case=imported)
    [ev_made] = CaseEvent.objects.filter(case=made)
    for f in CaseEvent._meta.concrete_fields:
        if f.attname not in {"id", "case_id"}:
            assert getattr(ev_imported, f.attname) == getattr(ev_made, f.attname), f"event.{f.attname}"
    assert ev_imported.data == {"channel": "hotline", "placed_by": how}

    log_imported = AuditLog.objects.get(action="cases.reported", object_id=str(imported.pk))
    log_made = AuditLog.objects.get(action="cases.reported", object_id=str(made.pk))
    for f in AuditLog._meta.concrete_fields:
        if f.attname not in {"id", "at", "object_id", "object_repr", "after"}:
            assert getattr(log_imported, f.attname) == getattr(log_made, f.attname), f"audit.{f.attname}"
    assert log_imported.object_repr == str(imported)
    assert log_imported.after == {**log_made.after, "number": imported.number}


def test_placements_land_where_intake_puts_them(tree, operator):  # type: ignore[no-untyped-def]
    rows = [row(f"P-{i}", **cells) for i, (cells, _) in enumerate(PLACEMENTS.values())]
    hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))
    by_ticket = {c.hotline_ticket: c for c in Case.objects.all()}
    assert by_ticket["P-0"].node == tree.buildings[0]
    assert by_ticket["P-1"].node == tree.grids[0]
    assert (by_ticket["P-1"].tier, by_ticket["P-0"].tier) == (2, 1)
    assert by_ticket["P-2"].node == tree.subdistrict and by_ticket["P-2"].unplaced
    assert by_ticket["P-4"].node == tree.buildings[1] and not by_ticket["P-4"].unplaced
    assert by_ticket["P-5"].node == tree.buildings[2]
    assert by_ticket["P-6"].node == tree.subdistrict and by_ticket["P-6"].unplaced


def test_unplaceable_rows_wait_on_the_desk_flagged(tree, operator):  # type: ignore[no-untyped-def]
    hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes([row("D-1", address="无名路1号")]))
    case = Case.objects.get(hotline_ticket="D-1")
    assert case.unplaced and case.node == tree.subdistrict and case.owner_body == tree.office
    assert case.events.get().note == "位置未匹配到任何网格：由街道受理台暂管。"  # the site's language
    assert selectors.intake_queue(user=operator).first() == case


# --- rows, batches, scope --------------------------------------------------------------------------------------------


def test_batches_keep_row_numbers_repeats_and_order(tree, operator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(hotline.writer, "BATCH_ROWS", 2)
    rows = [
        row("B-1"),  # row 2
        row("B-2", time="昨天"),  # row 3: bad time
        row("B-3"),  # row 4 (second batch)
        row("B-1"),  # row 5: repeats row 2, from another batch
        [],  # row 6: blank, left out
        row("B-4", title="x" * 201),  # row 7: report_case's limit
        row("B-5", description="a\x00b"),  # row 8: cannot be stored
        row("B-6", lng="123.414", lat="41.904"),  # row 9
    ]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))

    assert [(e.row, e.field) for e in result.errors] == [(3, "reported_at"), (5, "ticket"), (7, "title"), (8, None)]
    assert "row 2" in result.errors[1].message
    assert (result.rows, result.created_count, result.error_rows, result.skipped_count) == (7, 3, 4, 0)
    numbers = dict(Case.objects.values_list("hotline_ticket", "number"))
    assert result.created == [numbers["B-1"], numbers["B-3"], numbers["B-6"]]
    assert CaseEvent.objects.count() == 3
    assert AuditLog.objects.filter(action="cases.reported").count() == 3
    log = AuditLog.objects.get(action="cases.hotline_imported")
    assert log.after == {"file": "a.csv", "rows": 7, "created": 3, "skipped": 0, "errors": 4, "numbers": result.created}

    again = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))
    assert again.created == [] and sorted(again.skipped) == ["B-1", "B-3", "B-6"]
    assert [e.row for e in again.errors] == [3, 5, 7, 8]
    assert Case.objects.count() == 3


def test_rows_outside_the_area_are_refused_the_rest_go_in(tree, other_tree, operator):  # type: ignore[no-untyped-def]
    rows = [
        row("S-1", lng="123.404", lat="41.904"),  # row 2: in the operator's subdistrict
        row("S-2", lng="123.504", lat="41.904"),  # row 3: a grid of the other subdistrict
        row("S-3", lng="123.53", lat="41.935"),  # row 4: outside the grids, on the other subdistrict's desk
        row("S-4", lng="123.414", lat="41.904"),  # row 5
    ]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))

    assert [(e.row, e.field) for e in result.errors] == [(3, "address"), (4, "address")]
    assert other_tree.buildings[0].name in result.errors[0].message
    assert sorted(Case.objects.values_list("hotline_ticket", flat=True)) == ["S-1", "S-4"]
    assert not Case.objects.filter(node__code__startswith=other_tree.subdistrict.code).exists()

    admin = user_with_role(Role.ADMIN)
    result = hotline.import_file(actor=admin, file_name="a.csv", data=csv_bytes(rows))
    assert result.errors == [] and sorted(result.skipped) == ["S-1", "S-4"]
    assert Case.objects.get(hotline_ticket="S-2").node == other_tree.buildings[0]
    assert Case.objects.get(hotline_ticket="S-3").node == other_tree.subdistrict


def test_a_ticket_taken_by_another_import_meanwhile_is_skipped(tree, operator, monkeypatch):  # type: ignore[no-untyped-def]
    """The batch's COPY / bulk insert hits the unique ticket: the batch is written again row by row."""
    earlier = services.report_case(
        actor=operator, channel="hotline", title="别处导入", category_id=category().pk, hotline_ticket="R-2"
    )
    monkeypatch.setattr(intake, "existing_hotline_tickets", lambda tickets: set())  # the check saw nothing yet

    result = hotline.import_file(
        actor=operator, file_name="a.csv", data=csv_bytes([row("R-1"), row("R-2"), row("R-3")])
    )

    assert result.skipped == ["R-2"] and result.errors == []
    assert len(result.created) == 3 - 1
    assert list(Case.objects.filter(hotline_ticket="R-2")) == [earlier]
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == 3
    assert AuditLog.objects.filter(action="cases.reported").count() == 3


def test_tracking_codes_are_fresh(tree, operator, monkeypatch):  # type: ignore[no-untyped-def]
    taken = services.report_case(actor=operator, channel="desk", title="已有", category_id=category().pk)
    draws = iter([taken.tracking_code, taken.tracking_code, "0A0B0C0D0E0F1011", "1A1B1C1D1E1F2021"])  # one in use, twice
    monkeypatch.setattr(intake.tracking, "new_codes", lambda n: [next(draws) for _ in range(n)])
    codes = intake._fresh_tracking_codes(2)
    assert sorted(codes) == ["0A0B0C0D0E0F1011", "1A1B1C1D1E1F2021"]
    intake._release_tracking_codes(codes)


# --- reading as a stream ---------------------------------------------------------------------------------------------


def test_the_encoding_is_decided_on_the_whole_file(monkeypatch):  # type: ignore[no-untyped-def]
    """A GBK file whose first block happens to be valid UTF-8 is still read as GBK."""
    monkeypatch.setattr(tabular, "_BLOCK", 16)
    data = ("a,b\n" + "x,y\n" * 20 + "名字,地址\n").encode("gb18030")
    with tabular.open_table("f.csv", io.BytesIO(data)) as table:
        rows = [cells for _, cells in table.data_rows()]
        assert table.fraction_read() == 1.0
    assert table.header == ["a", "b"] and rows[-1] == ["名字", "地址"] and len(rows) == 21


def test_reading_leaves_the_callers_file_open():  # type: ignore[no-untyped-def]
    stream = io.BytesIO(b"h1;h2\n1;2\n\n;\n3;4\n")
    with tabular.open_table("f.csv", stream) as table:
        assert table.header == ["h1", "h2"]
        assert list(table.data_rows()) == [(2, ["1", "2"]), (5, ["3", "4"])]
    assert not stream.closed
    assert tabular.read_rows("f.csv", stream.getvalue()) == [["h1", "h2"], ["1", "2"], [], ["", ""], ["3", "4"]]


# --- big files: background jobs --------------------------------------------------------------------------------------


def _big_file(n: int, start: int = 0) -> bytes:
    return csv_bytes([row(f"J-{i:04d}", lng="123.404", lat="41.904") for i in range(start, start + n)])


@pytest.fixture
def small_sync(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(hotline.jobs, "SYNC_MAX_ROWS", 5)
    monkeypatch.setattr(hotline.writer, "BATCH_ROWS", 4)


def test_a_big_file_becomes_a_job_that_ends_done(  # type: ignore[no-untyped-def]
    tree, operator, media, private_files, small_sync, django_capture_on_commit_callbacks
):
    rows = [row(f"J-{i:04d}", lng="123.404", lat="41.904") for i in range(9)]
    rows.insert(3, row("J-bad", time="明天"))  # row 5
    upload = SimpleUploadedFile("12345-big.csv", csv_bytes(rows), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = hotline.import_upload(actor=operator, upload=upload)
        assert isinstance(job, HotlineImport) and job.state == "queued"
        assert job.file.name and (private_files / job.file.name).exists()
        stored = job.file.name
    assert callbacks  # the task was queued after commit (and ran: the immediate backend)

    job.refresh_from_db()
    assert job.state == "done" and job.started_at and job.finished_at
    assert (job.rows, job.created, job.skipped, job.error_rows) == (10, 9, 0, 1)
    assert job.errors == [{"row": 5, "field": "reported_at", "message": job.errors[0]["message"]}]
    assert job.progress == 1.0 and job.node_code == tree.subdistrict.code
    assert not job.file and not (private_files / stored).exists()  # the reporters' phones do not stay on disk
    assert Case.objects.filter(hotline_ticket__startswith="J-").count() == 9
    assert CaseEvent.objects.count() == 9
    assert AuditLog.objects.filter(action="cases.hotline_queued", object_id=str(job.pk)).exists()
    assert AuditLog.objects.get(action="cases.hotline_imported").after["created"] == 9

    # The same file again: a job that skips everything.
    upload = SimpleUploadedFile("12345-big.csv", csv_bytes(rows), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        again = hotline.import_upload(actor=operator, upload=upload)
    again.refresh_from_db()
    assert (again.state, again.created, again.skipped, again.error_rows) == ("done", 0, 9, 1)
    assert Case.objects.count() == 9


def test_a_job_runs_once(tree, operator, media, small_sync):  # type: ignore[no-untyped-def]
    job = services.create_hotline_import(
        actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(6)), file_name="a.csv", mapping=None,
        node_code=tree.subdistrict.code,
    )  # fmt: skip
    assert hotline.run_job(job_id=job.pk)["created"] == 6
    assert hotline.run_job(job_id=job.pk) == {"job": job.pk, "ran": False}
    assert Case.objects.count() == 6


def test_a_job_whose_importer_lost_the_right_fails(tree, operator, media, small_sync):  # type: ignore[no-untyped-def]
    job = services.create_hotline_import(
        actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(6)), file_name="a.csv", mapping=None,
        node_code=tree.subdistrict.code,
    )  # fmt: skip
    RoleAssignment.objects.filter(user=operator).update(is_active=False)

    outcome = hotline.run_job(job_id=job.pk)

    job.refresh_from_db()
    assert outcome["state"] == "failed" and job.state == "failed"
    assert "subdistrict desk" in job.message
    assert not Case.objects.exists() and not job.file


def test_api_answers_202_and_the_status_endpoint_follows_the_job(  # type: ignore[no-untyped-def]
    api, tree, other_tree, operator, media, small_sync, django_capture_on_commit_callbacks
):
    api.as_user(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.client.post(
            "/api/v1/cases/hotline/import",
            data={"file": SimpleUploadedFile("big.csv", _big_file(8), content_type="text/csv")},
            headers=api.headers,
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["file_name"] == "big.csv"

    status = api.get(f"/api/v1/cases/hotline/imports/{body['id']}")
    assert status.status_code == 200
    done = status.json()
    assert (done["status"], done["rows"], done["created"], done["skipped"], done["error_rows"]) == ("done", 8, 8, 0, 0)
    assert done["progress"] == 1.0 and done["finished_at"] and done["errors"] == []

    # Another subdistrict's operator does not see it; a grid worker may not import at all.
    stranger = user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict)
    api.as_user(stranger)
    assert api.get(f"/api/v1/cases/hotline/imports/{body['id']}").status_code == 404


def test_api_small_file_stays_synchronous(api, tree, operator, media, small_sync):  # type: ignore[no-untyped-def]
    api.as_user(operator)
    response = api.client.post(
        "/api/v1/cases/hotline/import",
        data={"file": SimpleUploadedFile("small.csv", _big_file(5), content_type="text/csv")},
        headers=api.headers,
    )
    assert response.status_code == 200
    assert len(response.json()["created"]) == 5 and not HotlineImport.objects.exists()


def test_the_page_queues_a_big_file_and_polls_it(  # type: ignore[no-untyped-def]
    client, tree, operator, media, small_sync, settings, django_capture_on_commit_callbacks
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # the upload arrives as a temporary file, as a big one does
    client.force_login(operator)
    upload = SimpleUploadedFile("big.csv", _big_file(7), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("cases-hotline"), {"file": upload})
    job = HotlineImport.objects.get()
    assert response.status_code == 303 and response["Location"].endswith(f"?job={job.pk}")

    page = client.get(response["Location"]).content.decode()
    assert 'id="hotline-job"' in page and 'data-state="queued"' in page and "hx-trigger" in page
    assert "big.csv" in page

    for callback in callbacks:  # the worker takes the job
        callback()
    partial = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith("<section") and 'data-state="done"' in partial
    assert "hx-trigger" not in partial  # done: the polling stops
    assert 'id="job-created">7<' in partial

    other = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(other)
    assert client.get(response["Location"]).status_code == 200  # the same desk sees the desk's imports
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    assert client.get(response["Location"]).status_code == 403


def test_the_upload_limit_is_sized_for_a_city(tree, operator):  # type: ignore[no-untyped-def]
    assert hotline.MAX_FILE_BYTES >= 250 * 1024 * 1024
    assert connection.vendor in ("sqlite", "postgresql")


# --- PostgreSQL: COPY from background writers, two imports of one file at once ----------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="background writers and COPY: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_write_each_ticket_once(tree, operator, monkeypatch):  # type: ignore[no-untyped-def]
    """Outside a transaction the batches are written by background threads (each its own connection); two imports
    of the same file race for every ticket: each ticket goes in once, the other import reports it skipped."""
    import threading

    from django.db import connections

    from gongzhi.accounts.models import User

    monkeypatch.setattr(hotline.writer, "BATCH_ROWS", 5)
    rows = [row(f"W-{i:03d}", lng="123.404", lat="41.904") for i in range(40)]
    rows[7] = row("W-bad", time="不是时间")  # row 9
    data = csv_bytes(rows)
    results: list[hotline.ImportResult] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            results.append(hotline.import_file(actor=User.objects.get(pk=operator.pk), file_name="w.csv", data=data))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == [] and len(results) == 2
    assert sum(r.created_count for r in results) == 39
    assert sum(r.skipped_count for r in results) == 39
    for r in results:
        assert [(e.row, e.field) for e in r.errors] == [(9, "reported_at")]
        assert r.rows == 40
    cases = Case.objects.filter(hotline_ticket__startswith="W-")
    assert cases.count() == 39
    assert CaseEvent.objects.filter(case__in=cases).count() == 39
    assert AuditLog.objects.filter(action="cases.reported").count() == 39
    number_to_ticket = dict(cases.values_list("number", "hotline_ticket"))
    for r in results:  # numbers are listed in the file's row order
        tickets = [number_to_ticket[n] for n in r.created]
        assert tickets == sorted(tickets)


def test_a_big_xlsx_is_read_as_a_stream_too(  # type: ignore[no-untyped-def]
    tree, operator, media, small_sync, django_capture_on_commit_callbacks
):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for i in range(8):
        sheet.append(
            [f"X-{i}", datetime(2026, 3, 1, 8, i), "积水", "", "0105", "", "", 13800000000 + i, "A", 123.404, 41.904]
        )
    out = io.BytesIO()
    workbook.save(out)
    upload = SimpleUploadedFile("export.xlsx", out.getvalue())

    with django_capture_on_commit_callbacks(execute=True):
        job = hotline.import_upload(actor=operator, upload=upload)
    job.refresh_from_db()

    assert (job.state, job.rows, job.created, job.error_rows) == ("done", 8, 8, 0)
    case = Case.objects.get(hotline_ticket="X-3")
    assert case.node == tree.buildings[0] and case.urgency == "A" and case.reporter_phone == "13800000003"
    assert timezone.localtime(case.reported_at).minute == 3


def test_a_job_without_news_is_shown_as_such(client, tree, operator, media):  # type: ignore[no-untyped-def]
    job = services.create_hotline_import(
        actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(6)), file_name="a.csv", mapping=None,
        node_code=tree.subdistrict.code,
    )  # fmt: skip
    client.force_login(operator)
    page = client.get(f"{reverse('cases-hotline')}?job={job.pk}").content.decode()
    assert 'id="job-stale"' not in page and "排队中" in page  # queued, in Chinese
    HotlineImport.objects.filter(pk=job.pk).update(updated_at=timezone.now() - hotline.JOB_STALE_AFTER * 2)
    page = client.get(f"{reverse('cases-hotline')}?job={job.pk}").content.decode()
    assert 'id="job-stale"' in page
    assert client.get(f"{reverse('cases-hotline')}?job=x").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one array parameter is PostgreSQL's")
def test_a_batchs_taken_tickets_are_one_query_on_postgresql(tree, operator, django_assert_num_queries):  # type: ignore[no-untyped-def]
    services.report_case(actor=operator, channel="hotline", title="已有", category_id=category().pk,
                         hotline_ticket="T-5999")  # fmt: skip
    tickets = [f"T-{i}" for i in range(10_000)]  # a whole batch
    with django_assert_num_queries(1):
        assert intake.existing_hotline_tickets(tickets) == {"T-5999"}
