"""Hand-built cases with known KPI answers, driven through the real workflow with explicit times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.models import Case
from gongzhi.cases.tasks import run_deadline_check
from gongzhi.cases.tests.factories import new_case

DAY = date(2026, 11, 2)  # a Monday


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour, minute))


def act(actor: Any, case: Case, action: str, when: datetime, **payload: Any) -> None:
    workflow.perform(actor=actor, case_id=case.pk, action=action, note="测试", payload=payload, now=when)


@dataclass
class Scenario:
    operator: Any
    ontime: Case
    late: Case
    reworked: Case
    overdue: Case
    postponed: Case
    rejected: Case
    merged: Case

    def fresh(self) -> Scenario:
        for name in ("ontime", "late", "reworked", "overdue", "postponed", "rejected", "merged"):
            getattr(self, name).refresh_from_db()
        return self


def build(tree: Any, grid_index: int = 0) -> Scenario:
    """Seven cases reported on Monday 2 November 2026 at 09:00 on one grid (urgency B: disposal within 3 working
    days of acknowledging). Expected figures: see test_measures.py."""
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    grid = tree.grids[grid_index]

    def report(title: str) -> Case:
        return new_case(operator, grid, urgency="B", title=title, reported_at=at(2, 9))

    def to_work(case: Case) -> None:
        act(operator, case, "accept", at(2, 9, 5))
        act(operator, case, "dispatch", at(2, 9, 10), handler_node_id=grid.pk)
        act(operator, case, "acknowledge", at(2, 10))

    def finish(case: Case, when: datetime) -> None:
        act(operator, case, "verify", when)
        act(operator, case, "close", when)

    ontime = report("按期处置")
    to_work(ontime)
    act(operator, ontime, "dispose", at(3, 10))
    finish(ontime, at(3, 11))
    act(operator, ontime, "follow_up", at(4, 10), rating="satisfied", responded=True)

    late = report("逾期处置")
    to_work(late)
    act(operator, late, "dispose", at(19, 10))  # due 5 November 10:00
    finish(late, at(19, 11))
    act(operator, late, "follow_up", at(20, 10), rating="basically_satisfied", responded=False)

    reworked = report("返工")
    to_work(reworked)
    act(operator, reworked, "dispose", at(3, 10))
    act(operator, reworked, "verify", at(3, 12))
    act(operator, reworked, "rework", at(3, 13))
    act(operator, reworked, "start", at(3, 14))
    act(operator, reworked, "dispose", at(4, 10))  # the new clock runs to 6 November 13:00
    finish(reworked, at(4, 11))

    overdue = report("超期未处置")
    to_work(overdue)

    postponed = report("延期")
    to_work(postponed)
    act(operator, postponed, "start", at(2, 11))
    act(operator, postponed, "postpone", at(2, 12), until=at(30, 17))

    rejected = report("不予立案")
    act(operator, rejected, "reject", at(2, 9, 30))

    merged = report("重复")
    act(operator, merged, "merge", at(2, 9, 30), into_case_id=postponed.pk)

    # The deadline task, long after: only the overdue case's clock has run out (the postponed one is stopped).
    assert run_deadline_check(at(20, 12)) == {"overdue": 1, "escalated": 1}
    return Scenario(operator, ontime, late, reworked, overdue, postponed, rejected, merged).fresh()
