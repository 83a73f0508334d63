"""Scope filters on territory codes are index ranges (issue 14, item 22).

A subtree is a code prefix; ``code LIKE 'prefix%'`` is served by no index on SQLite, so a grid worker's people list
read every person of the subdistrict. ``core.scope.code_prefix_q`` writes ``code >= prefix AND code < successor``:
the same rows as ``startswith`` (checked here over random trees whose codes are full of 9s and 0s, where the
successor carries), the same answer as ``ScopeRule.admits``, and a plan that uses an index on both databases.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection

from gongzhi.core.models import AuditLog
from gongzhi.core.scope import Scope, ScopeRule, code_prefix_q, code_successor
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node

# Digits that make carries likely: a prefix ending in 9s has a successor that changes an earlier digit.
DIGITS = "0089999"
LEVELS = ((NodeKind.SUBDISTRICT, 9), (NodeKind.COMMUNITY, 12), (NodeKind.GRID, 15), (NodeKind.BUILDING, 19))


def test_code_successor() -> None:
    assert code_successor("210113006001") == "210113006002"
    assert code_successor("2101130069") == "210113007"
    assert code_successor("2101139999") == "210114"
    assert code_successor("0") == "1"
    assert code_successor("999") is None and code_successor("") is None


def test_code_prefix_q_is_a_range() -> None:
    assert code_prefix_q("code", "210113006001") == code_prefix_q("code", "210113006001")
    q = code_prefix_q("household__code", "210113006001")
    assert dict(q.children) == {"household__code__gte": "210113006001", "household__code__lt": "210113006002"}
    assert dict(code_prefix_q("code", "99").children) == {"code__gte": "99"}
    # Not digits (a typed search): the plain prefix match.
    assert dict(code_prefix_q("code", "21a").children) == {"code__startswith": "21a"}


def _random_code(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(DIGITS) for _ in range(length))


def _random_tree(rng: random.Random, body: Body) -> list[Node]:
    """A few subdistricts, each with communities, grids and buildings whose codes extend their parent's; the
    digits are mostly 0, 8 and 9, so many codes sit right at a carry boundary of another prefix."""
    nodes: list[Node] = []
    codes: set[str] = set()

    def make(parent: Node | None, level: int) -> None:
        kind, length = LEVELS[level]
        for _ in range(rng.randint(1, 3)):
            stem = parent.code if parent else ""
            code = stem + _random_code(rng, length - len(stem))
            if code in codes:
                continue
            codes.add(code)
            node = Node.objects.create(code=code, name=code, kind=kind, parent=parent, lead_body=body)
            nodes.append(node)
            if level + 1 < len(LEVELS):
                make(node, level + 1)

    for _ in range(3):
        make(None, 0)
    return nodes


def _random_prefixes(rng: random.Random, codes: list[str]) -> set[str]:
    """Prefixes of real codes at every length (also cut between levels), plus random digit strings."""
    out: set[str] = set()
    for _ in range(rng.randint(1, 3)):
        code = rng.choice(codes)
        out.add(code[: rng.randint(1, len(code))])
    if rng.random() < 0.5:
        out.add(_random_code(rng, rng.randint(1, 12)))
    return out


@pytest.mark.django_db
def test_range_filters_select_exactly_the_startswith_rows_over_random_trees() -> None:
    rng = random.Random(22)
    body = Body.objects.create(name="街道办", kind=BodyKind.SUBDISTRICT_OFFICE)
    nodes = _random_tree(rng, body)
    codes = [n.code for n in nodes]
    for n in nodes:  # rows that keep only a code (the audit log), some blank
        AuditLog.objects.create(action="test", object_type="t", object_id="1", node_code=n.code)
    AuditLog.objects.create(action="test", object_type="t", object_id="2", node_code="")
    assert len(nodes) > 40 and any("99" in c for c in codes)

    node_rule, code_rule = ScopeRule(node=""), ScopeRule(code="node_code")
    logs = list(AuditLog.objects.all())
    for _ in range(150):
        prefixes = _random_prefixes(rng, codes)
        expected = {n.pk for n in nodes if any(n.code.startswith(p) for p in prefixes)}
        for p in prefixes:
            ranged = set(Node.objects.filter(code_prefix_q("code", p)).values_list("pk", flat=True))
            assert ranged == set(Node.objects.filter(code__startswith=p).values_list("pk", flat=True)), p
        scope = Scope(prefixes=frozenset(prefixes))
        filtered = set(Node.objects.filter(node_rule.q(scope)).values_list("pk", flat=True))
        assert filtered == expected, prefixes
        assert {n.pk for n in nodes if node_rule.admits(scope, n)} == expected, prefixes
        by_code = set(AuditLog.objects.filter(code_rule.q(scope)).values_list("pk", flat=True))
        assert by_code == {a.pk for a in logs if a.node_code and any(a.node_code.startswith(p) for p in prefixes)}
        assert by_code == {a.pk for a in logs if code_rule.admits(scope, a)}


def _plan(queryset) -> str:  # type: ignore[no-untyped-def]
    """SQLite's plan for a queryset (``EXPLAIN QUERY PLAN``)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _assert_range_not_like(queryset, column: str) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the planner reads tables this small however it likes (even with sequential scans priced out it
    may take the primary key and filter), so the plan proves nothing here; what makes the code indexes usable is the
    condition itself: a range on the column, never a LIKE (which a plain btree index cannot serve). At scale,
    ``make bench`` (registry_lists) records the plans."""
    sql, _ = queryset.query.sql_with_params()
    assert f'"{column}" >= ' in sql and f'"{column}" < ' in sql, sql
    assert "LIKE" not in sql.upper(), sql


@pytest.fixture
def grid_worker(db):  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.registry.tests.factories import make_person
    from gongzhi.territory.tests.factories import build_tree

    tree = build_tree()
    for household in tree.households:
        make_person(household)
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


def test_grid_workers_people_list_reads_the_grid_through_an_index(grid_worker) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.registry import selectors

    people = selectors.person_list(user=grid_worker)
    assert people.count() == 1
    for qs in (people.order_by().values("pk"), people):
        if connection.vendor == "sqlite":
            plan = _plan(qs)
            # Before: "SCAN registry_person" (every person of the subdistrict, the LIKE tested on each).
            assert "SCAN registry_person" not in plan and "SCAN territory_node" not in plan, plan
            assert "code>? AND code<?" in plan, plan
        else:
            _assert_range_not_like(qs, "code")


def test_grid_workers_household_list_reads_the_grid_through_an_index(grid_worker) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.registry import selectors

    households = selectors.household_list(user=grid_worker)
    assert households.count() == 1
    if connection.vendor == "sqlite":
        plan = _plan(households)
        # Before: the index on kind alone (every household of the subdistrict), then a sort by code.
        assert "node_kind_code (kind=? AND code>? AND code<?)" in plan, plan
        assert "SCAN territory_node" not in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        _assert_range_not_like(households, "code")


def test_scoped_case_lists_use_the_place_code_indexes(grid_worker) -> None:  # type: ignore[no-untyped-def]
    """A case matches a subtree on its place-code copies: the ranges are served by (place_code, status) and
    (handler_code, status) on both databases (PostgreSQL's varchar_pattern_ops indexes served only LIKE; on SQLite
    the grid worker's case list scanned every case in date order)."""
    from gongzhi.cases import selectors as cases
    from gongzhi.cases.models import Case

    if connection.vendor == "sqlite":
        plan = _plan(cases.case_list(user=grid_worker))
        assert "case_place_code_status (place_code>? AND place_code<?)" in plan, plan
        assert "case_handler_code_status (handler_code>? AND handler_code<?)" in plan, plan
        assert "SCAN cases_case" not in plan, plan
    else:
        qs = Case.objects.restrict(grid_worker, "view").values("pk")
        _assert_range_not_like(qs, "place_code")
        _assert_range_not_like(qs, "handler_code")


@pytest.mark.django_db
def test_place_codes_are_ascii_digits() -> None:
    """The ranges rely on codes of ASCII digits: a code of other digits (Python's ``\\d`` takes "٣") is refused."""
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.core.errors import ValidationFailed
    from gongzhi.territory import services
    from gongzhi.territory.tests.factories import build_tree

    tree = build_tree()
    admin = user_with_role(Role.ADMIN)
    community = tree.communities[0]
    with pytest.raises(ValidationFailed) as refused:
        services.create_node(
            actor=admin, parent_id=community.pk, kind=NodeKind.GRID, name="网格", code=community.code + "٠٠٩"
        )
    assert refused.value.details[0].field == "code"
    grid = services.create_node(
        actor=admin, parent_id=community.pk, kind=NodeKind.GRID, name="网格", code=community.code + "009"
    )
    assert grid.code == community.code + "009"
