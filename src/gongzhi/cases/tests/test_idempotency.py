"""Offline-capable case submissions honour a client-generated idempotency key (core.idempotency, docs/offline.md):
the same submission sent ten times makes one record and answers the same each time; concurrent replays too
(PostgreSQL); the key sent with another body is a 409 in the one error shape."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Attachment, Case
from gongzhi.cases.tests.factories import category, new_case
from gongzhi.core import idempotency
from gongzhi.core.models import IdempotencyKey

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _report(**extra):  # type: ignore[no-untyped-def]
    return {
        "channel": "patrol",
        "title": "消防通道被占",
        "category_id": category("0503").pk,
        "lat": 41.9041,
        "lng": 123.4041,
        **extra,
    }


@pytest.mark.django_db
def test_api_case_report_replayed_ten_times_is_one_case(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    key = str(uuid.uuid4())
    before = Case.objects.count()
    answers = [api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=key) for _ in range(10)]
    assert Case.objects.count() == before + 1
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None] + ["true"] * 9
    # The same key with another body: refused in the one error shape, nothing made.
    other = api.post("/api/v1/cases", _report(title="另一件事"), HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    # Another key: another case; no key: as before, a case each time.
    assert api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201
    assert api.post("/api/v1/cases", _report()).status_code == 201
    assert Case.objects.count() == before + 3


@pytest.mark.django_db
def test_a_key_is_the_users_own(tree, api):  # type: ignore[no-untyped-def]
    key = str(uuid.uuid4())
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    first = api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=key)
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    second = api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


@pytest.mark.django_db
def test_a_refused_submission_keeps_no_key(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    key = str(uuid.uuid4())
    assert api.post("/api/v1/cases", _report(title=" "), HTTP_IDEMPOTENCY_KEY=key).status_code == 400
    assert not IdempotencyKey.objects.filter(key=key).exists()
    assert api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    bad = api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY="x" * 101)
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "Idempotency-Key"


@pytest.mark.django_db
def test_api_photo_upload_replayed_ten_times_adds_the_photos_once(tree, api):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.grids[0])
    api.as_user(worker)
    key = str(uuid.uuid4())
    answers = []
    for _ in range(10):
        upload = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
        answers.append(
            api.client.post(
                f"/api/v1/cases/{case.pk}/attachments",
                {"files": [upload]},
                headers={**api.headers, "Idempotency-Key": key},
            )
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert Attachment.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_photos_for_a_case_closed_meanwhile_are_a_clear_conflict(tree, api):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.grids[0])
    Case.objects.filter(pk=case.pk).update(status="closed")  # someone else closed it while the phone was offline
    api.as_user(worker)
    upload = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    response = api.client.post(
        f"/api/v1/cases/{case.pk}/attachments",
        {"files": [upload]},
        headers={**api.headers, "Idempotency-Key": str(uuid.uuid4()), "Accept-Language": "zh-hans"},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and case.number in error["message"] and "已结案" in error["message"]
    assert not Attachment.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_page_report_with_photo_replayed_ten_times_is_one_case(tree, client):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    cat = category("0503")
    key = str(uuid.uuid4())
    before = Case.objects.count()
    answers = []
    for _ in range(10):
        answers.append(
            client.post(
                reverse("cases-report"),
                {
                    "channel": "patrol",
                    "title": "楼道堆物",
                    "major": cat.parent_id or cat.pk,
                    "category": cat.pk,
                    "lat": "41.9041",
                    "lng": "123.4041",
                    "idempotency_key": key,
                    "photos": [SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg")],
                },
            )
        )
    assert Case.objects.count() == before + 1, answers[0].content.decode()[:2000]
    case = Case.objects.latest("pk")
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, reverse("cases-detail", args=[case.pk]))}
    assert case.attachments.count() == 1


@pytest.mark.django_db
def test_page_photo_upload_replayed_is_one_upload(tree, client):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.grids[0])
    client.force_login(worker)
    key = str(uuid.uuid4())
    for _ in range(10):
        photo = SimpleUploadedFile("b.jpg", JPEG, content_type="image/jpeg")
        response = client.post(
            reverse("cases-attach", args=[case.pk]), {"attach-photos": [photo]}, HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 302
    assert case.attachments.count() == 1


@pytest.mark.django_db
def test_keys_expire(tree, api):  # type: ignore[no-untyped-def]
    import datetime

    from django.utils import timezone

    from gongzhi.core.schedule import JOBS

    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    key = str(uuid.uuid4())
    api.post("/api/v1/cases", _report(), HTTP_IDEMPOTENCY_KEY=key)
    row = IdempotencyKey.objects.get(key=key)
    assert row.scope == "cases.report" and json.loads(row.body)["title"] == "消防通道被占"
    assert idempotency.expire(timezone.now()) == 0
    assert [job.name for job in JOBS] == ["idempotency_expire"]
    assert idempotency.expire(timezone.now() + datetime.timedelta(days=idempotency.days(), seconds=1)) == 1
    assert not IdempotencyKey.objects.filter(key=key).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_make_one_case(tree, client):  # type: ignore[no-untyped-def]
    from django.test import Client

    from gongzhi.core.testing import ApiClient

    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    token = ApiClient(client).as_user(worker).headers["Authorization"]
    body = json.dumps(_report())
    key = str(uuid.uuid4())
    before = Case.objects.count()
    barrier = threading.Barrier(10)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait()
            r = Client().post(
                "/api/v1/cases",
                body,
                content_type="application/json",
                headers={"Authorization": token, "Idempotency-Key": key},
            )
            outcome = (r.status_code, r.content)
        finally:
            connections.close_all()
        with lock:
            answers.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 10
    assert {status for status, _ in answers} == {201}, answers
    assert len({content for _, content in answers}) == 1
    assert Case.objects.count() == before + 1


@pytest.mark.django_db
def test_gps_accuracy_kept_and_a_point_outside_the_workers_grid_accepted_and_flagged(tree, api):  # type: ignore[no-untyped-def]
    """41.9041,123.4041 lies in grid 1 (build_tree): a worker of grid 1 is at home there; a worker of grid 2 is not,
    and their report is taken in all the same, flagged."""
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    mine = api.post("/api/v1/cases", _report(gps_accuracy=12.5)).json()
    assert mine["gps_accuracy"] == 12.5 and mine["outside_reporter_ground"] is False
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[1]))
    response = api.post("/api/v1/cases", _report(gps_accuracy=30))
    assert response.status_code == 201
    theirs = response.json()
    assert theirs["outside_reporter_ground"] is True and theirs["node"]["id"] == tree.buildings[0].pk
    assert Case.objects.get(pk=theirs["id"]).outside_reporter_ground
    bad = api.post("/api/v1/cases", _report(gps_accuracy=-1))
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "gps_accuracy"
