"""``cases.intake``: one case and many cases are born alike. The same input through ``report_case`` and through
``report_many`` (the 12345 import's writer) gives the same case, the same first event and the same audit record;
only what depends on the new id (number, tracking code, timestamps) differs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import intake
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import category
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db

SKIP = {"id", "number", "tracking_code", "hotline_ticket", "created_at", "updated_at"}


@pytest.mark.parametrize(
    "where",
    [
        {"lat": 41.9041, "lng": 123.4041},  # a building
        {"lat": 41.945, "lng": 123.445},  # the desk, flagged
        {"address": "社区1第1网格1号楼"},  # an address
    ],
)
@pytest.mark.parametrize("channel", ["hotline", "patrol"])
def test_one_case_and_a_batch_write_the_same_rows(tree, where, channel):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    minor = category("0105")
    given = {
        "title": " 小区门口积水 ",
        "description": "雨后积水\n很深\t需要处理\\",
        "urgency": "A",
        "reporter_name": "王先生",
        "reporter_phone": "13812345678",
        "reported_at": datetime(2026, 3, 1, 8, 15, tzinfo=ZoneInfo("Asia/Shanghai")),
        "lat": None,
        "lng": None,
        "address": "",
        **where,
    }
    one = intake.report_case(actor=operator, channel=channel, category_id=minor.pk, hotline_ticket="ONE-1", **given)
    placement = intake.place(lat=given["lat"], lng=given["lng"], address=given["address"], actor=operator)
    new = intake.NewCase(
        row=2,
        ticket="MANY-1",
        category_id=minor.pk,
        default_urgency=minor.default_urgency,
        node=placement.node,
        unplaced=placement.unplaced,
        placed_by=placement.how,
        channel=channel,
        **given,
    )
    written = intake.report_many(actor=operator, cases=[new])
    [(row, number)] = written.created
    many = Case.objects.get(number=number)
    assert row == 2 and many.hotline_ticket == "MANY-1" and one.hotline_ticket == "ONE-1"
    one = Case.objects.get(pk=one.pk)
    for f in Case._meta.concrete_fields:
        if f.attname not in SKIP:
            assert getattr(many, f.attname) == getattr(one, f.attname), f.attname

    [ev_one] = CaseEvent.objects.filter(case=one).values()
    [ev_many] = CaseEvent.objects.filter(case=many).values()
    assert {k: v for k, v in ev_one.items() if k not in {"id", "case_id"}} == {
        k: v for k, v in ev_many.items() if k not in {"id", "case_id"}
    }

    log_one = AuditLog.objects.filter(action="cases.reported", object_id=str(one.pk)).values().get()
    log_many = AuditLog.objects.filter(action="cases.reported", object_id=str(many.pk)).values().get()
    assert log_many["object_repr"] == str(many) and log_one["object_repr"] == str(one)
    assert log_many["after"] == {**log_one["after"], "number": many.number}
    for key in ("actor_id", "object_type", "node_code", "before", "note"):
        assert log_many[key] == log_one[key], key
