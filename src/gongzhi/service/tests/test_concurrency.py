"""The last place of a post claimed by two members at the same moment: one gets it, the other a conflict
(PostgreSQL: the post's row lock orders them; SQLite serialises writes anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from gongzhi.core.errors import Conflict
from gongzhi.service import services
from gongzhi.service.models import Claim

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_two_claims_on_the_last_place_one_wins(post, members):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            services.claim_post(actor=user, post_id=post.pk)
            outcome = "claimed"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # pragma: no cover - reported below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(u,)) for u in members.users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["claimed", "conflict"], results
    assert Claim.objects.filter(post=post, status="active").count() == 1
