"""Two votes by the same voter for the same candidate at the same moment: one is stored, the other is a conflict
(PostgreSQL: the unique index makes the second insert wait for the first and then fail)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from gongzhi.core.errors import Conflict
from gongzhi.recognition import services
from gongzhi.recognition.models import Vote

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent inserts need PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_two_votes_at_once_store_one(people, voting, candidate):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, user=people.resident, ip="10.0.0.5")
            outcome = "voted"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # pragma: no cover - reported below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "voted"], results
    assert Vote.objects.filter(nomination=candidate).count() == 1
