"""Ten concurrent replays of one round submission (one client key): one submission, every reply the same round
(PostgreSQL: the round's row lock orders them; the later ones find the key and answer the first's round)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection, connections

from gongzhi.inspections import services
from gongzhi.inspections.models import Hazard, Round
from gongzhi.inspections.tests.conftest import answers

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_replays_make_one_submission(ground, round_):  # type: ignore[no-untyped-def]
    worker = ground["worker"]
    body = answers(round_, {8: "major"})
    barrier = threading.Barrier(10)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            done = services.submit_round(actor=worker, round_id=round_.pk, answers=body, client_key="same-key")
            outcome = f"round {done.pk} at {done.done_at.isoformat() if done.done_at else None}"
        except Exception as exc:  # pragma: no cover - reported below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0].startswith(f"round {round_.pk} at 2"), results
    assert Hazard.objects.filter(round=round_).count() == 1
    assert Round.objects.get(pk=round_.pk).client_key == "same-key"


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_api_replays_are_one_submission_with_one_answer(ground, round_, client):  # type: ignore[no-untyped-def]
    """The phone's outbox and Background Sync sending the same round at once: core.idempotency's key row (unique per
    user and key) makes the later ones wait, then answer the first's stored reply."""
    from django.test import Client

    from gongzhi.core.models import IdempotencyKey
    from gongzhi.core.testing import ApiClient

    token = ApiClient(client).as_user(ground["worker"]).headers["Authorization"]
    body = json.dumps({"answers": answers(round_, {8: "major"}), "note": "同时发送"})
    barrier = threading.Barrier(10)
    replies: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait()
            r = Client().post(
                f"/api/v1/inspections/rounds/{round_.pk}/submit",
                body,
                content_type="application/json",
                headers={"Authorization": token, "Idempotency-Key": "phone-key-7"},
            )
            outcome = (r.status_code, r.content)
        finally:
            connections.close_all()
        with lock:
            replies.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 10 and {status for status, _ in replies} == {200}, replies
    assert len({content for _, content in replies}) == 1
    assert Hazard.objects.filter(round=round_).count() == 1
    assert IdempotencyKey.objects.filter(key="phone-key-7").count() == 1
    assert Round.objects.get(pk=round_.pk).client_key == "phone-key-7"
