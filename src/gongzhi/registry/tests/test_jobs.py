"""Registry imports and large exports as background jobs: queued with a private upload, written in committed chunks,
progress and heartbeat, a dead worker detected, good rows by default (all or nothing on request), bad rows private to
the importer and purged, large exports downloadable by their requester only and deleted after a week."""

from __future__ import annotations

import csv
import datetime
import io
import stat
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core import messages, uploads
from gongzhi.core.models import AuditLog
from gongzhi.registry import exports, idcard, imports, services
from gongzhi.registry.choices import JobState, TagKind
from gongzhi.registry.models import ExportJob, ImportRun, Person, PersonTag, Residence
from gongzhi.registry.tests.factories import make_id_number, make_person

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "身份证号", "联系电话", "楼栋编号", "房号", "标签"]


@pytest.fixture
def private(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.PRIVATE_ROOT


@pytest.fixture
def small(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(imports, "SYNC_MAX_ROWS", 3)
    monkeypatch.setattr(imports, "WRITE_CHUNK", 2)


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


def ids(n: int, start: int = 100) -> list[str]:
    return [make_id_number("320102", f"19{60 + i % 30:02d}0101", f"{start + i:03d}") for i in range(n)]


def rows_for(tree, n: int, start: int = 100) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    code = tree.buildings[0].code
    return [
        [f"居民{i}", number, f"1381234{i:04d}", code, f"2单元{i + 1}01", "独居老人" if i % 2 else ""]
        for i, number in enumerate(ids(n, start))
    ]


def csv_bytes(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(api, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/v1/people/imports",
        data={"file": SimpleUploadedFile("大走访.csv", data, content_type="text/csv"), "kind": "residents", **fields},
        headers=api.headers,
    )


# --- imports as jobs -------------------------------------------------------------------------------------------------


def test_a_big_import_is_a_job_with_a_private_upload_then_done(  # type: ignore[no-untyped-def]
    tree, staff, api, private, small, django_capture_on_commit_callbacks
):
    api.as_user(staff)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(api, csv_bytes(rows_for(tree, 5)))
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["state"] == "queued" and job["url"] == f"/api/v1/people/imports/{job['id']}"
    run = ImportRun.objects.get(pk=job["id"])
    stored = uploads.path_of(run.upload)
    assert stored.is_relative_to(private) and not stored.is_relative_to(private.parent / "media")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # never world-readable
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert not Person.objects.exists() and len(queued) == 1

    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()  # the task is enqueued after commit: the immediate backend runs it here
    done = api.get(job["url"]).json()
    assert (done["state"], done["progress"], done["created"], done["processed"]) == ("done", 1.0, 5, 5)
    assert Person.objects.count() == 5 and Residence.objects.count() == 5 and PersonTag.objects.count() == 2
    assert not stored.exists() and ImportRun.objects.get(pk=run.pk).upload == ""  # deleted when the job ended
    assert imports.run_job(run_id=run.pk) == {"run": run.pk, "ran": False}  # a job runs once


def test_the_job_writes_in_committed_chunks(tree, staff, private, small, monkeypatch):  # type: ignore[no-untyped-def]
    """A failure in the third chunk leaves the first two chunks in (each committed on its own), the job failed
    with its reason, and importing the file again is safe."""
    data = csv_bytes(rows_for(tree, 6))
    real = services.import_new_people
    calls = {"n": 0}

    def third_chunk_dies(**kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker lost its connection")
        return real(**kwargs)

    monkeypatch.setattr(services, "import_new_people", third_chunk_dies)
    run = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=data)
    assert run.state == JobState.QUEUED
    with pytest.raises(RuntimeError):
        imports.run_job(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED and run.message == imports.UNEXPECTED_STOP and run.applied
    assert Person.objects.count() == 4  # two chunks of two, committed
    assert run.upload == ""

    monkeypatch.setattr(services, "import_new_people", real)
    again = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=data)
    imports.run_job(run_id=again.pk)
    again.refresh_from_db()
    assert (again.state, again.created, again.unchanged, again.failed) == (JobState.DONE, 2, 4, 0)
    assert Person.objects.count() == 6


def test_all_or_nothing_with_chunks_writes_nothing_when_a_row_is_bad(  # type: ignore[no-untyped-def]
    tree, staff, private, small
):
    rows = rows_for(tree, 6)
    rows[5][1] = rows[5][1][:-1] + ("0" if rows[5][1][-1] != "0" else "1")  # the last row's checksum is wrong
    run = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=csv_bytes(rows), good_rows_only=False)
    imports.run_job(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.applied, run.created, run.failed) == (JobState.DONE, False, 0, 1)
    assert not Person.objects.exists()
    assert [(e["row"], e["field"]) for e in run.errors] == [(7, "id_number")]


def test_good_rows_by_default_and_the_bad_rows_file_is_fixable(tree, staff, api, private):  # type: ignore[no-untyped-def]
    rows = rows_for(tree, 3)
    good = rows[1][1]
    rows[1][1] = good[:-1] + ("0" if good[-1] != "0" else "1")
    api.as_user(staff)
    report = upload(api, csv_bytes(rows)).json()
    assert (report["state"], report["applied"], report["created"], report["failed"]) == ("done", True, 2, 1)
    assert (
        report["errors"] == [{"row": 3, "field": "id_number", "message": report["errors"][0]["message"]}]
        and "GB 11643" in report["errors"][0]["message"]
    )
    bad = api.client.get(report["bad_rows_url"], headers=api.headers)
    sheet = [list(r) for r in load_workbook(io.BytesIO(bad.content)).active.iter_rows(values_only=True)]
    assert sheet[0][-1] == imports.ERROR_HEADER and sheet[1][0] == "居民1"
    fixed = [[*sheet[1][: len(HEADER)]]]
    fixed[0][1] = good
    again = upload(api, csv_bytes([*rows_for(tree, 3)[:1], *fixed])).json()
    assert (again["created"], again["unchanged"], again["failed"]) == (1, 1, 0)
    assert Person.objects.count() == 3


def test_a_job_whose_worker_died_is_failed_with_a_clear_message(  # type: ignore[no-untyped-def]
    tree, staff, api, private, small, django_capture_on_commit_callbacks
):
    data = csv_bytes(rows_for(tree, 5))
    run = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=data)
    services.start_import_run(run_id=run.pk)  # a worker took it … and was killed
    stored = uploads.path_of(ImportRun.objects.get(pk=run.pk).upload)
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(minutes=5))
    api.as_user(staff)
    assert api.get(f"/api/v1/people/imports/{run.pk}").json()["state"] == "running"  # a heartbeat 5 min old: alive

    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        body = api.get(f"/api/v1/people/imports/{run.pk}").json()
    assert body["state"] == "failed" and body["message"] == messages.stored(services.IMPORT_STALE_MESSAGE)
    assert not stored.exists()
    assert imports.run_job(run_id=run.pk)["ran"] is False  # the dead job is not resumed behind the user's back

    again = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=data)  # re-run: safe
    imports.run_job(run_id=again.pk)
    assert ImportRun.objects.get(pk=again.pk).created == 5 and Person.objects.count() == 5


def test_the_result_page_shows_progress_then_the_reason_of_a_dead_job(  # type: ignore[no-untyped-def]
    client, tree, staff, private, small
):
    run = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=csv_bytes(rows_for(tree, 5)))
    client.force_login(staff)
    page = client.get(reverse("registry-import-result", args=[run.pk])).content.decode()
    assert 'data-state="queued"' in page and 'hx-trigger="every 2s"' in page and "后台" in page
    services.start_import_run(run_id=run.pk)
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(reverse("registry-import-result", args=[run.pk]), headers={"HX-Request": "true"})
    assert page["HX-Refresh"] == "true"
    page = client.get(reverse("registry-import-result", args=[run.pk])).content.decode()
    assert 'data-state="failed"' in page and "后台" in page and "stopped" not in page


def test_bad_rows_are_the_importers_only_and_purged_after_a_week(tree, staff, private):  # type: ignore[no-untyped-def]
    rows = rows_for(tree, 2)
    rows[0][1] = "123"
    run = imports.run_import(actor=staff, kind="residents", file_name="f.csv", data=csv_bytes(rows))
    assert run.bad_rows is not None and run.bad_rows_until is not None
    from gongzhi.registry import selectors

    assert selectors.import_run_bad_rows(user=staff, run_id=run.pk)[0] == "f-bad-rows.xlsx"
    colleague = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    with pytest.raises(Exception, match="no bad-rows file"):
        selectors.import_run_bad_rows(user=colleague, run_id=run.pk)

    assert services.sweep_jobs(now=timezone.now() + datetime.timedelta(days=6))["bad_rows_purged"] == 0
    assert services.sweep_jobs(now=timezone.now() + datetime.timedelta(days=8))["bad_rows_purged"] == 1
    run.refresh_from_db()
    assert run.bad_rows is None and run.errors  # the report stays, the file with full ID numbers is gone


def test_new_people_in_bulk_are_written_as_import_person_writes_them(tree, staff):  # type: ignore[no-untyped-def]
    """The set-based path (new people) and the row-by-row path (import_person) leave the same rows and audit."""
    household = tree.households[0]
    number_a, number_b = ids(2, 500)
    card = idcard.parse_id_number(number_a)
    tags = ((TagKind.ELDERLY_ALONE, ""), (TagKind.OTHER, "退役军人"))
    services.import_new_people(
        actor=staff,
        rows=[
            services.NewPerson(
                name="甲",
                id_number=number_a,
                sex=card.sex,
                birth_date=card.birth_date,
                household=household,
                room="101",
                phone="13800000001",
                tags=tags,
            )
        ],
    )
    services.import_person(
        actor=staff,
        row=services.PersonRow(
            name="甲", id_number=number_b, household=household, room="101", phone="13800000001", tags=tags
        ),
        person=None,
    )
    a, b = Person.objects.get(id_number=number_a), Person.objects.get(id_number=number_b)
    assert (a.sex, a.birth_date) == (card.sex, card.birth_date)
    fields = ["name", "phone", "population_type", "household_id", "room", "is_active"]
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert list(a.residences.values_list("household_id", "moved_in", "moved_out")) == list(
        b.residences.values_list("household_id", "moved_in", "moved_out")
    )
    assert sorted(a.tags.values_list("tag", "label", "since")) == sorted(b.tags.values_list("tag", "label", "since"))
    audit_a = AuditLog.objects.get(object_type="registry.person", object_id=str(a.pk))
    audit_b = AuditLog.objects.get(object_type="registry.person", object_id=str(b.pk))
    keep = ["actor_id", "action", "object_repr", "node_code", "before", "note"]
    assert [getattr(audit_a, f) for f in keep] == [getattr(audit_b, f) for f in keep]
    blank = {"id_number": "", "sex": "", "birth_date": ""}
    assert {**audit_a.after, **blank} == {**audit_b.after, **blank}


# --- large exports ---------------------------------------------------------------------------------------------------


@pytest.fixture
def many(tree):  # type: ignore[no-untyped-def]
    return [make_person(tree.households[i % 3], name=f"居民{i}", phone=f"1391234{i:04d}") for i in range(4)]


def test_a_large_revealed_export_is_a_private_job_for_its_requester(  # type: ignore[no-untyped-def]
    tree, many, api, private, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "SYNC_MAX_ROWS", 2)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    api.as_user(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.get("/api/v1/people/export.xlsx?reveal=true")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["url"] == f"/api/v1/people/exports/{job['id']}"
    done = api.get(job["url"]).json()
    assert (done["state"], done["rows"], done["revealed"]) == ("done", 4, 4) and done["file_url"]
    stored = uploads.path_of(ExportJob.objects.get(pk=job["id"]).file)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stored.is_relative_to(private)

    download = api.client.get(done["file_url"], headers=api.headers)
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    cells = [list(r) for r in load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True)]
    assert {row[1] for row in cells[1:]} == {p.id_number for p in many}  # revealed: the operator may
    audit = AuditLog.objects.get(action="privacy.export_reveal")
    assert audit.actor_id == operator.pk and audit.after["revealed"] == 4

    for other in (
        user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office),
        user_with_role(Role.ADMIN),
    ):
        api.as_user(other)  # only the requester: not a colleague, not an administrator
        assert api.get(job["url"]).status_code == 404
        assert api.get(done["file_url"]).status_code == 404

    services.sweep_jobs(now=timezone.now() + datetime.timedelta(days=8))
    api.as_user(operator)
    assert not stored.exists() and api.get(job["url"]).json()["file_url"] is None
    assert api.get(done["file_url"]).status_code == 404


def test_a_small_export_is_still_the_file_at_once(tree, many, api, private):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office))
    response = api.get("/api/v1/people/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not ExportJob.objects.exists()


def test_the_export_page_sends_a_long_list_to_its_job_page(  # type: ignore[no-untyped-def]
    client, tree, many, private, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "SYNC_MAX_ROWS", 2)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry-export", args=["people"]), {"reveal": "1"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry-export-job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'id="export-download"' in page and 'data-state="done"' in page
    download = client.get(reverse("registry-export-job-file", args=[job.pk]))
    assert download.status_code == 200
    client.force_login(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office))
    assert client.get(reverse("registry-export-job-file", args=[job.pk])).status_code == 404


def test_a_file_waiting_for_its_column_mapping_is_private(client, tree, staff, private):  # type: ignore[no-untyped-def]
    client.force_login(staff)
    upload = SimpleUploadedFile("大走访.csv", csv_bytes(rows_for(tree, 2)), content_type="text/csv")
    response = client.post(reverse("registry-import"), {"kind": "residents", "file": upload, "step": "map"})
    assert response.status_code == 200
    staged = list((private / "registry-staged").iterdir())
    assert len(staged) == 1 and stat.S_IMODE(staged[0].stat().st_mode) == 0o600
    token = response.context["form"].initial["token"]
    mapped = client.post(reverse("registry-import"), {"token": token, **{f"col_{k}": v for k, v in {
        "name": "姓名", "id_number": "身份证号", "phone": "联系电话", "building": "楼栋编号", "room": "房号",
    }.items()}})  # fmt: skip
    assert mapped.status_code == 302 and Person.objects.count() == 2
    assert not list((private / "registry-staged").iterdir())  # deleted once imported


def test_registry_sweep_command_fails_dead_jobs_and_removes_stray_files(tree, staff, private, small):  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    run = imports.submit(actor=staff, kind="residents", file_name="f.csv", data=csv_bytes(rows_for(tree, 5)))
    services.start_import_run(run_id=run.pk)
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(minutes=30))
    stray = uploads.path_of(uploads.store(services.IMPORT_UPLOADS, b"left by a crash"))
    old = timezone.now().timestamp() - 7200
    import os

    os.utime(stray, (old, old))
    out = io.StringIO()
    call_command("registry_sweep", stdout=out)
    assert "'imports_failed': 1" in out.getvalue()
    assert ImportRun.objects.get(pk=run.pk).state == JobState.FAILED
    assert not stray.exists()
