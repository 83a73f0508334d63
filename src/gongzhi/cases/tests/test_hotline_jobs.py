"""12345 background jobs that lose their worker, and the uploads they keep: private while the job waits, deleted
when it ends."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline, services, tasks
from gongzhi.cases.models import Case, HotlineImport
from gongzhi.cases.tests.test_hotline_bulk import _big_file
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)


@pytest.fixture
def small_sync(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(hotline.jobs, "SYNC_MAX_ROWS", 5)
    monkeypatch.setattr(hotline.writer, "BATCH_ROWS", 4)


def test_an_upload_waiting_for_its_job_is_private_and_deleted_when_it_ends(  # type: ignore[no-untyped-def]
    tree, operator, small_sync, settings, tmp_path, private_files, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = hotline.import_upload(actor=operator, upload=SimpleUploadedFile("big.csv", _big_file(8)))
    assert isinstance(job, HotlineImport)
    path = Path(job.file.path)
    assert path.is_file()
    assert path.resolve().is_relative_to(Path(private_files).resolve())
    assert not path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())  # nothing a web server serves
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the phones are not world-readable
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(ValueError):
        job.file.url  # noqa: B018 - no URL at all

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:  # the worker runs the job
            callback()
    job.refresh_from_db()
    assert job.state == "done" and not job.file and not path.exists()


def _killed_job(tree, operator, monkeypatch):  # type: ignore[no-untyped-def]
    """A job whose worker was killed after its first batch: 4 of 10 rows in, still 'running', its file on disk."""
    job = services.create_hotline_import(
        actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(10)), file_name="a.csv", mapping=None,
        node_code=tree.subdistrict.code,
    )  # fmt: skip

    def killed(**kwargs: object) -> None:
        raise SystemExit("kill -9")

    with monkeypatch.context() as m:
        m.setattr(services, "record_hotline_progress", killed)
        with pytest.raises(SystemExit):
            hotline.run_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "running" and job.heartbeat_at is not None
    assert Case.objects.count() == 4
    return job


def test_a_job_whose_worker_died_is_failed_with_a_clear_message_and_can_be_run_again(  # type: ignore[no-untyped-def]
    api, client, tree, operator, small_sync, monkeypatch, django_capture_on_commit_callbacks
):
    job = _killed_job(tree, operator, monkeypatch)
    stored = Path(job.file.path)
    assert stored.exists()

    # Within the heartbeat's window the job is still running.
    api.as_user(operator)
    assert api.get(f"/api/v1/cases/hotline/imports/{job.pk}").json()["status"] == "running"

    # No heartbeat for longer than the limit: the worker is dead.
    HotlineImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - hotline.JOB_DEAD_AFTER - timedelta(1))
    with django_capture_on_commit_callbacks(execute=True):
        body = api.get(f"/api/v1/cases/hotline/imports/{job.pk}").json()
    with translation.override("zh-hans"):  # kept as a code, shown in the request's language (Chinese by default)
        assert body["status"] == "failed" and body["message"] == gettext(services.WORKER_DIED) != services.WORKER_DIED
    assert not stored.exists()  # the upload is gone with the job
    job.refresh_from_db()
    assert job.finished_at and not job.file
    assert AuditLog.objects.filter(action="cases.hotline_failed", object_id=str(job.pk)).exists()

    client.force_login(operator)
    page = client.get(f"{reverse('cases-hotline')}?job={job.pk}").content.decode()
    job_card = page[page.index('id="hotline-job"') :].split(">", 1)[0]
    assert 'data-state="failed"' in job_card and 'id="job-message"' in page and "hx-trigger" not in job_card
    assert "后台任务进程" in page  # the message, in Chinese

    # Importing the same file again finishes the work: the 4 tickets in are skipped, none is duplicated.
    with django_capture_on_commit_callbacks(execute=True):
        again = hotline.import_upload(actor=operator, upload=SimpleUploadedFile("a.csv", _big_file(10)))
    again.refresh_from_db()
    assert (again.state, again.created, again.skipped) == ("done", 6, 4)
    assert Case.objects.count() == 10
    assert Case.objects.values("hotline_ticket").distinct().count() == 10


def test_the_deadline_check_fails_dead_jobs_even_when_nobody_looks(  # type: ignore[no-untyped-def]
    tree, operator, small_sync, monkeypatch, django_capture_on_commit_callbacks
):
    job = _killed_job(tree, operator, monkeypatch)
    stored = Path(job.file.path)
    tasks.check_deadlines.call()
    job.refresh_from_db()
    assert job.state == "running"  # a live heartbeat: left alone
    HotlineImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - hotline.JOB_DEAD_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.check_deadlines.call()
    job.refresh_from_db()
    assert job.state == "failed" and job.message == services.WORKER_DIED and not stored.exists()
    # A job that is done is never touched.
    assert services.fail_dead_hotline_imports(now=timezone.now() + timedelta(days=1)) == []
