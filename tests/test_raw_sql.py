"""The raw SQL kept for speed lives in one module per app (``<app>/sql.py``), which lists every column it names
(``COLUMNS``: model label → columns). A column renamed or removed in a model without its raw SQL following fails
here, not on the first request that runs the statement."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import date
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

import gongzhi

ROOT = Path(gongzhi.__file__).parent
SQL_MODULES = sorted(f"gongzhi.{p.parent.name}.sql" for p in ROOT.glob("*/sql.py"))


def _columns(label: str) -> set[str]:
    return {str(f.column) for f in apps.get_model(label)._meta.concrete_fields}


def test_the_apps_with_raw_sql_keep_it_in_sql_py() -> None:
    assert SQL_MODULES == [
        "gongzhi.accounts.sql",
        "gongzhi.cases.sql",
        "gongzhi.core.sql",
        "gongzhi.kpis.sql",
        "gongzhi.registry.sql",
        "gongzhi.territory.sql",
    ]


@pytest.mark.parametrize("module", SQL_MODULES)
def test_every_column_named_is_a_column_of_its_model(module: str) -> None:
    declared = import_module(module).COLUMNS
    for label, names in declared.items():
        missing = sorted(set(names) - _columns(label))
        assert not missing, f"{module} names columns {label} no longer has: {missing}"


@pytest.mark.parametrize("module", SQL_MODULES)
def test_every_column_listed_is_used_and_every_qualified_column_listed(module: str) -> None:
    """COLUMNS is the module's real list: each listed name appears in its source, and each ``alias.column`` its
    statements read (``u.is_active``, ``t.key_hash``) is listed."""
    source = (ROOT / module.split(".")[1] / "sql.py").read_text(encoding="utf-8")
    listing = next(
        n for n in ast.parse(source).body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "COLUMNS"
    )
    lines = source.splitlines()
    code = "\n".join(lines[: listing.lineno - 1] + lines[listing.end_lineno :])  # the module without its list
    listed = {name for names in import_module(module).COLUMNS.values() for name in names}
    unused = sorted(n for n in listed if not re.search(rf"\b{n}\b", code))
    assert not unused, unused
    qualified = set(re.findall(r"\b[a-z]\.([a-z_]+)\b", code)) - {"join"}
    assert qualified <= listed, sorted(qualified - listed)


def test_the_measures_are_columns_of_the_rollup_tables() -> None:
    from gongzhi.kpis import measures, sql

    for label in sql.MEASURE_TABLES:
        missing = sorted(set(measures.measure_names()) - _columns(label))
        assert not missing, f"{label} lacks measure columns {missing}"


def _statements(module: str) -> list[str]:
    """The functions an app's sql.py defines: each writes one statement."""
    mod = import_module(module)
    return sorted(
        name
        for name, value in vars(mod).items()
        if inspect.isfunction(value) and value.__module__ == module and not name.startswith("_")
    )


# Statements one database has and the other has not.
POSTGRESQL_ONLY = {"gongzhi.cases.sql.taken_tickets", "gongzhi.cases.sql.taken_tracking_codes",
                   "gongzhi.core.sql.next_ids", "gongzhi.core.sql.copy_in"}  # fmt: skip
SQLITE_ONLY = {"gongzhi.core.sql.sqlite_sequence"}


@pytest.mark.django_db
def test_the_statements_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each statement of every sql.py runs here against the real schema (SQLite or PostgreSQL), directly or through
    the code that runs it: a misspelt or renamed column or table fails here too. A statement added to a sql.py and
    not run here fails the last assertion."""
    from gongzhi.accounts import sql as accounts_sql
    from gongzhi.cases import intake
    from gongzhi.cases import sql as cases_sql
    from gongzhi.core import bulk
    from gongzhi.core import sql as core_sql
    from gongzhi.kpis import services as kpis_services
    from gongzhi.kpis import sql as kpis_sql
    from gongzhi.territory import sql as territory_sql

    postgresql = connection.vendor == "postgresql"
    expected = {f"{m}.{n}" for m in SQL_MODULES for n in _statements(m)}
    expected -= SQLITE_ONLY if postgresql else POSTGRESQL_ONLY
    ran: set[str] = set()
    for module in SQL_MODULES:
        for name in _statements(module):
            original = getattr(import_module(module), name)

            def recorded(*args: object, _name: str = f"{module}.{name}", _fn: object = original) -> object:
                ran.add(_name)
                return _fn(*args)  # type: ignore[operator]

            monkeypatch.setattr(import_module(module), name, recorded)

    q = connection.ops.quote_name
    table = apps.get_model("core.RateCount")._meta.db_table
    nodes, bodies = apps.get_model("territory.Node")._meta.db_table, apps.get_model("territory.Body")._meta.db_table
    case_model = apps.get_model("cases.Case")
    cases = case_model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(accounts_sql.grants(apps.get_model("accounts.RoleAssignment")._meta.db_table, nodes), [0])
        assert cursor.fetchall() == []
        cursor.execute(core_sql.add_one(q(table)), ["k", 1, 99])
        assert cursor.fetchone()[0] == 1
        cursor.execute(core_sql.count_in_slot(q(table)), ["k", 1])
        assert cursor.fetchone()[0] == 1
        cursor.execute(core_sql.delete_expired(q(table)), [100])
        cursor.execute(core_sql.highest_id(q, cases, "id"))
        assert cursor.fetchone()[0] == 0
        cursor.execute(territory_sql.grid_key(q, nodes), ["grid"])
        assert cursor.fetchone()[0].startswith("0")
        key_sql = territory_sql.grid_key(q, nodes)
        columns = [str(f.column) for f in apps.get_model("territory.Node")._meta.concrete_fields]
        cursor.execute(territory_sql.grid_and_buildings(q, nodes, bodies, columns, key_sql),
                       ["grid", 0, 0, "building", 0.0, 1.0, 0.0, 1.0])  # fmt: skip
        assert cursor.fetchall() == []
        cursor.execute(cases_sql.active_category(q, apps.get_model("cases.Category")._meta.db_table), [0])
        assert cursor.fetchall() == []
        if postgresql:
            for statement in (cases_sql.taken_tickets(q, cases), cases_sql.taken_tracking_codes(q, cases)):
                cursor.execute(statement, [["x"]])
                assert cursor.fetchall() == []
        day, month_table = connection.ops.adapt_datefield_value(date(2026, 1, 1)), apps.get_model("kpis.MonthRollup")
        cursor.execute(kpis_sql.sum_days_into(q, month_table._meta.db_table,
                                              apps.get_model("kpis.CaseRollup")._meta.db_table,
                                              {"place_code": q("place_code")}), [day, day, day])  # fmt: skip
        rollups = apps.get_model("kpis.CaseRollup")._meta.db_table
        cursor.execute(f"SELECT {kpis_sql.sums(q)} FROM (SELECT * FROM {q(rollups)}) r")
    kpis_services._insert_days(case_model.objects.all())  # kpis_sql.insert_days
    assert len(bulk.reserve_ids(case_model, 2)) == 2  # next_ids, or highest_id and sqlite_sequence
    if postgresql:
        assert bulk.copy_rows(case_model, cases_sql.CASE_COPY_COLUMNS, []) == 0  # copy_in
    assert intake.existing_hotline_tickets(["x"]) == set()
    users = apps.get_model("accounts.User")
    assert list(users.objects.raw(accounts_sql.token_user(users._meta.db_table,
                                                          apps.get_model("accounts.ApiToken")._meta.db_table),
                                  [None, "x", None])) == []  # fmt: skip

    assert sorted(expected - ran) == []
