"""The daily rollup equals the raw computation, after random workflow operations and incremental refreshes."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.models import Case, Category
from gongzhi.cases.tasks import run_deadline_check
from gongzhi.cases.tests.factories import category, new_case
from gongzhi.kpis import periods, selectors, services
from gongzhi.kpis.models import CaseRollup, MonthClassRollup, MonthRollup
from gongzhi.kpis.selectors import KpiQuery
from gongzhi.kpis.tests.scenario import at

pytestmark = pytest.mark.django_db

ROLLUP_BREAKDOWNS = (None, "day", "week", "month", "year", "community", "grid", "category", "major", "channel")


def payload(action: str, case: Case, rng: random.Random, tree, open_ids: list[int]) -> dict | None:  # type: ignore[no-untyped-def]
    if action == "dispatch":
        return (
            {"handler_node_id": rng.choice(tree.grids).pk}
            if rng.random() < 0.7
            else {"handler_body_id": tree.department.pk}
        )
    if action == "merge":
        targets = [i for i in open_ids if i != case.pk]
        return {"into_case_id": rng.choice(targets)} if targets else None
    if action == "follow_up":
        return {
            "rating": rng.choice(["satisfied", "basically_satisfied", "dissatisfied"]),
            "responded": rng.random() < 0.8,
        }
    if action == "postpone":
        return {"until": at(28, 17)}
    return {}


def assert_rollup_equals_raw(user, q: KpiQuery) -> None:  # type: ignore[no-untyped-def]
    """Every breakdown and the median, over the period as given and over periods made of whole months (read from
    the month rows and histograms), partial months (daily rows) and both."""
    for period in (
        (q.start, q.end),
        (q.start.replace(day=1), periods.month_period(q.end)[1]),  # whole months only
        (q.start.replace(day=15), periods.month_period(q.end)[1]),  # a partial month, then whole ones
        (q.start.replace(day=1), q.end),  # whole months, then a partial one
    ):
        _assert_equal(user, q.with_(start=period[0], end=period[1]))
    assert selectors.split_months(q.start.replace(day=1), periods.month_period(q.end)[1])[1] == []


def _assert_equal(user, q: KpiQuery) -> None:  # type: ignore[no-untyped-def]
    assert selectors.cycle_histogram(user=user, query=q, source="rollup") == selectors.cycle_histogram(
        user=user, query=q, source="raw"
    )
    assert selectors.median_cycle_hours(user=user, query=q, source="rollup") == selectors.median_cycle_hours(
        user=user, query=q, source="raw"
    )
    for by in ROLLUP_BREAKDOWNS:
        if by is None:
            rolled = {None: selectors.total(user=user, query=q, source="rollup", with_median=False).counts}
            raw = {None: selectors.total(user=user, query=q, source="raw", with_median=False).counts}
        else:
            rolled = {r.key: r.figures.counts for r in selectors.breakdown(user=user, query=q, by=by, source="rollup")}
            raw = {r.key: r.figures.counts for r in selectors.breakdown(user=user, query=q, by=by, source="raw")}
        assert rolled.keys() == raw.keys(), by
        for key in raw:
            for name, value in raw[key].items():
                assert rolled[key][name] == pytest.approx(value, abs=1e-3), (by, key, name)


def test_rollup_equals_raw_after_random_operations(tree) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261123)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    department = user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department)
    category()
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True)[:6])
    places = [*tree.grids, *tree.buildings, *tree.households, tree.communities[0], tree.subdistrict]
    q = KpiQuery(place=tree.subdistrict, start=date(2026, 10, 26), end=date(2026, 11, 8))
    services.refresh_rollup(full=True)

    cases = []
    for i in range(40):
        day = 26 + i % 14  # 26 October … 8 November (two ISO weeks, two months)
        month, day = (10, day) if day <= 31 else (11, day - 31)
        cases.append(
            new_case(
                operator,
                rng.choice(places),
                title=f"随机{i}",
                urgency=rng.choice("ABC"),
                category_id=rng.choice(categories),
                channel=rng.choice(["patrol", "hotline", "resident", "visit"]),
                reported_at=at(day, 9 + i % 8, month=month),
            )
        )
    clock = at(9, 9)
    for _round in range(6):
        for _ in range(25):
            case = Case.objects.get(pk=rng.choice(cases).pk)
            open_ids = [c.pk for c in Case.objects.filter(status__in=["reported", "accepted", "dispatched"])]
            actions = [t.action for t in workflow.allowed_actions(operator, case) if t.action != "escalate"]
            if not actions:
                continue
            progress = [a for a in actions if a not in ("reject", "cancel", "merge")]
            action = rng.choice(progress if progress and rng.random() < 0.9 else actions)
            data = payload(action, case, rng, tree, open_ids)
            if data is None:
                continue
            clock += timedelta(hours=rng.choice([0.5, 2, 8, 30]))
            actor = department if action in ("acknowledge", "start", "dispose") and case.handler_body_id else operator
            try:
                workflow.perform(actor=actor, case_id=case.pk, action=action, note="随机", payload=data, now=clock)
            except Exception as exc:  # a handler-only action the department may not take on this case
                assert exc.__class__.__name__ in ("Forbidden", "NotFound"), exc
        run_deadline_check(clock)
        # The copies of the place codes lists match on stay equal to the nodes' codes, whatever happened.
        for c in Case.objects.select_related("node", "handler_node"):
            assert (c.place_code, c.handler_code) == (c.node.code, c.handler_node.code if c.handler_node else "")
        # Incremental: only the days whose cases changed since the last refresh are rebuilt.
        result = services.refresh_rollup()
        assert result["days"] <= 14 and not result["full"]
        assert_rollup_equals_raw(operator, q)
        assert_rollup_equals_raw(operator, q.with_(place=tree.communities[0]))  # class rows below the subdistrict
    assert CaseRollup.objects.exists() and MonthRollup.objects.filter(month=date(2026, 10, 1)).exists()
    assert MonthClassRollup.objects.filter(month=date(2026, 10, 1), place_code=tree.communities[0].code).exists()
    assert selectors.median_cycle_hours(user=operator, query=q) is not None
    statuses = set(Case.objects.values_list("status", flat=True))
    assert len(statuses) >= 6, statuses  # the walk reached many states


def test_refresh_picks_up_changes_to_old_days_only(tree) -> None:  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    old = new_case(operator, tree.grids[0], title="旧", reported_at=at(2, 9))
    new_case(operator, tree.grids[1], title="新", reported_at=at(5, 9))
    assert services.refresh_rollup(full=True)["full"] is True
    assert CaseRollup.objects.count() == 2
    # Changes older than the look-back window are already in: nothing to do.
    Case.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    assert services.refresh_rollup()["days"] == 0
    workflow.perform(actor=operator, case_id=old.pk, action="accept", note="", now=at(20, 9))
    assert services.refresh_rollup()["days"] == 1
    q = KpiQuery(place=tree.subdistrict, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert_rollup_equals_raw(operator, q)


def test_a_community_sees_only_its_own_figures(tree) -> None:  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    new_case(operator, tree.grids[0], title="社区一", reported_at=at(2, 9))
    new_case(operator, tree.grids[2], title="社区二", reported_at=at(2, 9))
    services.refresh_rollup(full=True)
    q = KpiQuery(place=tree.communities[0], start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert selectors.uses_rollup(user=staff, query=q)
    assert selectors.total(user=staff, query=q)["intake"] == 1
    # Their default place is their community; the subdistrict and the other community are not theirs (404).
    assert selectors.default_place(user=staff) == tree.communities[0]
    from gongzhi.core.errors import NotFound

    for node in (tree.subdistrict, tree.communities[1]):
        with pytest.raises(NotFound):
            selectors.place_get(user=staff, node_id=node.pk)
    # Even a query built by hand on the subdistrict only counts what they see.
    whole = q.with_(place=tree.subdistrict)
    assert not selectors.uses_rollup(user=staff, query=whole)
    assert selectors.total(user=staff, query=whole)["intake"] == 1
    assert selectors.total(user=staff, query=whole, source="rollup")["intake"] == 1
    assert selectors.total(user=operator, query=whole)["intake"] == 2
    by_grid = selectors.breakdown(user=staff, query=whole, by="grid", source="rollup")
    assert [r.key for r in by_grid] == [tree.grids[0].code]


def test_the_migration_fills_the_month_rows_a_refresh_writes(tree) -> None:  # type: ignore[no-untyped-def]
    """kpis 0003 sums the months already in the daily rows into the class rows (and month rows where missing), the
    same rows a refresh writes: a deployment's dashboards don't wait for a full refresh."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("gongzhi.kpis.migrations.0003_month_class_rollup")
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    categories = [category("0105").pk, category("0503").pk]
    for i, place in enumerate([*tree.grids, *tree.buildings, tree.communities[1], tree.subdistrict]):
        new_case(operator, place, title=f"迁移{i}", category_id=categories[i % 2],
                 channel=["patrol", "hotline"][i % 3 % 2], reported_at=at(1 + i % 28, 10, month=9 + i % 2))  # fmt: skip
    services.refresh_rollup(full=True)

    def snapshot(model):  # type: ignore[no-untyped-def]
        return sorted(tuple(v for k, v in row.items() if k != "id") for row in model.objects.values())

    written = snapshot(MonthClassRollup), snapshot(MonthRollup)
    codes = set(MonthClassRollup.objects.values_list("place_code", flat=True))
    assert {tree.communities[0].code, tree.communities[1].code, tree.subdistrict.code} <= codes
    assert all(len(code) <= 12 for code in codes) and len(written[0]) > 4
    MonthClassRollup.objects.all().delete()
    MonthRollup.objects.filter(month=date(2026, 9, 1)).delete()


    class Editor:  # what the migration uses of a schema editor (SQLite's can't open inside a test's transaction)
        quote_name = staticmethod(connection.ops.quote_name)

        def __init__(self) -> None:
            self.connection = connection

        def execute(self, sql: str, params: list[object]) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    migration.fill_month_rows(apps, Editor())
    assert (snapshot(MonthClassRollup), snapshot(MonthRollup)) == written
