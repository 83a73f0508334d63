"""KPI formulas on hand-built data with known answers (docs/kpis.md), from the cases and from the rollup."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.choices import ClosedKind, Tier
from gongzhi.cases.tests.factories import new_case
from gongzhi.kpis import measures, periods, selectors, services
from gongzhi.kpis.measures import Figures
from gongzhi.kpis.selectors import KpiQuery
from gongzhi.kpis.tests.scenario import DAY, act, at, build

pytestmark = pytest.mark.django_db


def query(tree, **kw):  # type: ignore[no-untyped-def]
    return KpiQuery(place=tree.subdistrict, start=DAY, end=DAY, **kw)


def test_the_workflow_stores_the_facts_the_kpis_count(tree) -> None:  # type: ignore[no-untyped-def]
    s = build(tree)
    assert not s.ontime.disposal_late and s.ontime.closed_kind == ClosedKind.NORMAL and s.ontime.responded is True
    # Disposed after its deadline, before the deadline task noticed: the transition itself records the miss.
    assert s.late.disposal_late and s.late.overdue_count == 1 and s.late.closed_kind == ClosedKind.OVERDUE
    assert s.late.responded is False and s.late.disposed_by == s.operator
    assert s.reworked.rework_count == 1 and not s.reworked.disposal_late
    assert s.overdue.is_overdue and s.overdue.disposal_late and s.overdue.escalation_count == 1
    assert s.postponed.postpone_count == 1 and not s.postponed.is_overdue


@pytest.mark.parametrize("source", ["raw", "rollup"])
def test_every_kpi_on_known_cases(tree, source, settings) -> None:  # type: ignore[no-untyped-def]
    s = build(tree)
    services.refresh_rollup(full=True)
    f = selectors.total(user=s.operator, query=query(tree), source=source)
    c = f.counts
    assert (c["intake"], c["valid"]) == (7, 5)  # rejected and merged are not valid
    assert f.fraction("disposal") == (3, 5)
    assert f.fraction("ontime_disposal") == (2, 4)  # on time: ontime, reworked; due: + late, overdue (clock ran out)
    assert f.fraction("closure") == (3, 5)
    assert f.fraction("ontime_closure") == (2, 4)  # due for closure: the 3 closed + the open one already late
    assert f.fraction("rework") == (1, 4)
    assert f.fraction("overdue_pending") == (1, 5)
    assert f.fraction("postponement") == (1, 5)
    assert f.fraction("escalation") == (1, 5)
    assert f.fraction("response") == (1, 2)
    assert f.fraction("resolution") == (2, 2)
    assert f["satisfaction"] == 1.0  # satisfied + basically satisfied, weight 1
    settings.KPI_BASICALLY_SATISFIED_WEIGHT = 0.5
    assert f["satisfaction"] == 0.75
    assert f.fraction("tier_grid") == (3, 3) and f["tier_building"] == 0
    # 30 × 3/5 + 20 × 2/4 + 20 × (1 − 1/4) + 20 × (1 − 1/5) + 10 × (1 − 1/5) = 18 + 10 + 15 + 16 + 8
    assert f.score == 67.0
    spans = sorted((x.closed_at - x.reported_at).total_seconds() / 3600 for x in (s.ontime, s.late, s.reworked))
    assert f.hours("cycle") == pytest.approx(sum(spans) / 3)
    assert f.median_cycle_hours == int(spans[1])  # rounded down to the hour (all three are under a week)
    # Time to dispose: from acknowledging (10:00) to the last "done" report.
    disposals = [(x.disposed_at - at(2, 10)).total_seconds() / 3600 for x in (s.ontime, s.late, s.reworked)]
    assert f.hours("to_dispose") == pytest.approx(sum(disposals) / 3)


def test_each_value_drills_down_to_exactly_its_cases(tree) -> None:  # type: ignore[no-untyped-def]
    s = build(tree)
    services.refresh_rollup()
    q = query(tree)

    def numbers(kpi: str, part: str | None = None) -> set[str]:
        return set(selectors.drill(user=s.operator, query=q, kpi=kpi, part=part).values_list("title", flat=True))

    # By default a value opens the cases that pull it down.
    assert numbers("ontime_disposal") == {"逾期处置", "超期未处置"}
    assert numbers("ontime_disposal", "num") == {"按期处置", "返工"}
    assert numbers("ontime_disposal", "den") == {"按期处置", "返工", "逾期处置", "超期未处置"}
    assert numbers("rework") == {"返工"}
    assert numbers("overdue_pending") == {"超期未处置"}
    assert numbers("intake") == {"按期处置", "逾期处置", "返工", "超期未处置", "延期", "不予立案", "重复"}
    f = selectors.total(user=s.operator, query=q)
    for kpi in measures.KPIS.values():
        num, den = f.fraction(kpi.key)
        assert selectors.drill(user=s.operator, query=q, kpi=kpi.key, part="num").count() == num
        if den is not None:
            assert selectors.drill(user=s.operator, query=q, kpi=kpi.key, part="den").count() == den


def test_no_cases_gives_no_values_not_zero(tree) -> None:  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    services.refresh_rollup(full=True)
    for source in ("raw", "rollup"):
        f = selectors.total(user=operator, query=query(tree), source=source)
        assert f["intake"] == 0
        assert all(f[k] is None for k in measures.KPIS if k != "intake")
        assert f.score is None and f.hours("cycle") is None and f.median_cycle_hours is None


def test_all_overdue(tree) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.cases.tasks import run_deadline_check

    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    for i in range(3):
        case = new_case(operator, tree.grids[i], urgency="A", title=f"急{i}", reported_at=at(2, 9))
        act(operator, case, "accept", at(2, 9, 5))
    run_deadline_check(at(2, 15))  # dispatch within 1 working hour: all missed
    services.refresh_rollup()
    f = selectors.total(user=operator, query=query(tree))
    assert f.fraction("overdue_pending") == (3, 3) and f["overdue_pending"] == 1.0
    assert f.fraction("ontime_closure") == (0, 3)  # open and already late: due, not closed on time
    assert f["ontime_disposal"] is None  # none has reached disposal: nothing due yet
    assert f["disposal"] == 0.0
    # The escalation moved them up a tier; nothing is closed, so no tier shares.
    assert f["tier_grid"] is None
    assert f.score == pytest.approx(100 * (30 * 0 + 20 * 1 + 20 * 0 + 10 * 1) / 80, abs=0.05)


def test_reopened_after_rework_and_late_the_second_time(tree) -> None:  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    grid = tree.grids[0]
    case = new_case(operator, grid, urgency="B", title="二次返工", reported_at=at(2, 9))
    act(operator, case, "accept", at(2, 9, 5))
    act(operator, case, "dispatch", at(2, 9, 10), handler_node_id=grid.pk)
    act(operator, case, "acknowledge", at(2, 10))
    act(operator, case, "dispose", at(3, 10))  # on time
    act(operator, case, "verify", at(3, 11))
    act(operator, case, "rework", at(3, 12))  # a new disposal clock: 6 November 12:00
    act(operator, case, "start", at(3, 13))
    act(operator, case, "dispose", at(16, 10))  # late the second time
    act(operator, case, "verify", at(16, 11))
    act(operator, case, "close", at(16, 12))
    services.refresh_rollup()
    f = selectors.total(user=operator, query=query(tree))
    assert f.fraction("rework") == (1, 1)
    assert f.fraction("ontime_disposal") == (0, 1)
    assert f.fraction("ontime_closure") == (0, 1)
    assert f.fraction("closure") == (1, 1)


def test_score_weights_are_configurable(settings) -> None:  # type: ignore[no-untyped-def]
    counts = {"valid": 10, "disposed": 5, "disposal_due": 4, "disposed_on_time": 4, "closure_due": 4, "reworked": 0}
    f = Figures(counts)
    settings.KPI_SCORE_WEIGHTS = {"disposal": 1}
    assert f.score == 50.0
    settings.KPI_SCORE_WEIGHTS = {"disposal": 1, "ontime_disposal": 1}
    assert f.score == 75.0
    settings.KPI_SCORE_WEIGHTS = {"disposal": 1, "rework": 1}  # lower is better: 1 − 0
    assert f.score == 75.0


def test_breakdowns_by_time_place_category_channel_worker(tree) -> None:  # type: ignore[no-untyped-def]
    s = build(tree)
    other = new_case(s.operator, tree.grids[3], urgency="B", title="另一网格", reported_at=at(2, 15), channel="hotline")
    assert other.node.code.startswith(tree.communities[1].code)
    services.refresh_rollup(full=True)
    q = query(tree)
    for source in ("raw", "rollup"):
        by_grid = {r.key: r for r in selectors.breakdown(user=s.operator, query=q, by="grid", source=source)}
        assert by_grid[tree.grids[0].code].figures["intake"] == 7 and by_grid[tree.grids[3].code].figures["intake"] == 1
        assert by_grid[tree.grids[0].code].label == tree.grids[0].name
        by_community = {
            r.key: r.figures["intake"]
            for r in selectors.breakdown(user=s.operator, query=q, by="community", source=source)
        }
        assert by_community == {tree.communities[0].code: 7, tree.communities[1].code: 1}
        by_channel = {
            r.key: r.figures["intake"]
            for r in selectors.breakdown(user=s.operator, query=q, by="channel", source=source)
        }
        assert by_channel == {"patrol": 7, "hotline": 1}
        months = selectors.breakdown(user=s.operator, query=q, by="month", source=source)
        assert [(r.label, r.figures["intake"]) for r in months] == [("2026-11", 8)]
        weeks = selectors.breakdown(user=s.operator, query=q, by="week", source=source)
        assert [(r.label, r.figures["intake"]) for r in weeks] == [("2026-W45", 8)]
    workers = selectors.breakdown(user=s.operator, query=q, by="worker")
    assert {r.key: r.figures.counts["disposed"] for r in workers} == {s.operator.pk: 3, None: 0}
    # A row's own query drills to that row's cases.
    row = by_grid[tree.grids[3].code]
    assert row.query is not None
    assert list(selectors.drill(user=s.operator, query=row.query, kpi="intake").values_list("title", flat=True)) == [
        "另一网格"
    ]
    assert Tier.GRID == 2


def test_median_from_the_histogram() -> None:
    assert measures.histogram_median({}) is None
    assert measures.histogram_median({7: 1}) == 7
    assert measures.histogram_median({1: 1, 5: 1}) == 3  # even count: the mean of the two middle cases
    assert measures.histogram_median({0: 2, 200: 1}) == 0
    assert measures.histogram_median({2: 1, 3: 2, 192: 2}) == 3
    assert measures.histogram_median({2: 2, 3: 1, 192: 1}) == 2.5


def test_cycle_buckets_are_hours_under_a_week_and_days_beyond(tree) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from gongzhi.cases.models import Case

    s = build(tree)
    for case, hours in ((s.ontime, 7.9), (s.late, 200.5), (s.reworked, -1)):  # -1: a clock set wrong
        Case.objects.filter(pk=case.pk).update(closed_at=case.reported_at + timedelta(hours=hours))
    services.refresh_rollup(full=True)
    for source in ("raw", "rollup"):
        q = query(tree).with_(start=DAY.replace(day=1), end=periods.month_period(DAY)[1])
        assert selectors.cycle_histogram(user=s.operator, query=q, source=source) == {7: 1, 192: 1, 0: 1}
        assert selectors.median_cycle_hours(user=s.operator, query=q, source=source) == 7


def test_a_period_splits_into_whole_months_and_edges() -> None:
    from datetime import date

    split = selectors.split_months
    today = date(2027, 1, 5)
    assert split(date(2026, 10, 15), date(2026, 12, 31), today=today) == (
        [date(2026, 11, 1), date(2026, 12, 1)],
        [(date(2026, 10, 15), date(2026, 10, 31))],
    )
    # The month reaching today is whole (nothing can be reported after today); a month ending before it is not.
    assert split(date(2026, 12, 1), today, today=today) == ([date(2026, 12, 1), date(2027, 1, 1)], [])
    assert split(date(2026, 12, 1), date(2026, 12, 20), today=today) == ([], [(date(2026, 12, 1), date(2026, 12, 20))])
    assert split(date(2026, 12, 2), date(2026, 12, 3), today=today) == ([], [(date(2026, 12, 2), date(2026, 12, 3))])
