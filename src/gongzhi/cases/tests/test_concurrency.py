"""50 concurrent attempts at one transition on one case: exactly one succeeds, no lost update (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import new_case
from gongzhi.core.errors import Conflict

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["accept", "cancel"])
def test_fifty_concurrent_transitions_one_wins(tree, action):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    case = new_case(staff, tree.grids[0])
    barrier = threading.Barrier(50)
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            workflow.perform(actor=staff, case_id=case.pk, action=action, note="并发")
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # pragma: no cover - reported below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert results.count("conflict") == 49, results
    assert CaseEvent.objects.filter(case=case, action=action).count() == 1
    assert Case.objects.get(pk=case.pk).status == workflow.TRANSITIONS[action].target
