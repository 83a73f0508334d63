"""``audit.record_many``: the bulk writer of the audit log writes what ``audit.record`` writes, one by one."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core import audit
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db

FIELDS = ("actor_id", "action", "object_type", "object_id", "object_repr", "node_code", "before", "after", "note")


def test_record_many_writes_what_record_writes(tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    entries = [
        audit.Entry(
            action="cases.reported",
            object_type="cases.case",
            object_id=7,
            object_repr="2026030100000007 楼道堆物\t有\\反斜杠\n换行" + "长" * 300,  # escaped, cut at 200
            node_code="210113001001",
            after={"number": "2026030100000007", "node": 3, "unplaced": False, "nested": {"a": [1, "二"]}},
        ),
        audit.Entry(action="x.done", object_type="cases.case", before={"state": "a"}, note="第二条"),
    ]
    for actor in (operator, None):
        AuditLog.objects.all().delete()
        singles = [
            audit.record(
                actor=actor,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                object_repr=e.object_repr,
                node_code=e.node_code,
                before=e.before,
                after=e.after,
                note=e.note,
            )
            for e in entries
        ]
        assert audit.record_many(actor=actor, entries=iter(entries)) == 2
        rows = list(AuditLog.objects.order_by("id").values(*FIELDS))
        assert len(rows) == 4
        assert rows[2:] == rows[:2]
        assert rows[0]["object_repr"] == singles[0].object_repr and len(rows[0]["object_repr"]) == 200
        assert rows[1]["object_id"] == "" and rows[0]["actor_id"] == (operator.pk if actor else None)


def test_record_many_of_nothing_writes_nothing(db):  # type: ignore[no-untyped-def]
    assert audit.record_many(actor=None, entries=[]) == 0
    assert not AuditLog.objects.exists()
