"""The raw SQL kept for speed lives in one module per app (``<app>/sql.py``), which lists every column it names
(``COLUMNS``: model label → columns). A column renamed or removed in a model without its raw SQL following fails
here, not on the first request that runs the statement."""

from __future__ import annotations

import ast
import re
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


@pytest.mark.django_db
def test_the_statements_run() -> None:
    """Each statement against the real schema (SQLite or PostgreSQL): a misspelt column fails here too."""
    from gongzhi.accounts import sql as accounts_sql
    from gongzhi.core import sql as core_sql
    from gongzhi.territory import sql as territory_sql

    q = connection.ops.quote_name
    table = apps.get_model("core.RateCount")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(accounts_sql.grants(apps.get_model("accounts.RoleAssignment")._meta.db_table,
                                           apps.get_model("territory.Node")._meta.db_table), [0])
        assert cursor.fetchall() == []
        cursor.execute(core_sql.add_one(q(table)), ["k", 1, 99])
        assert cursor.fetchone()[0] == 1
        cursor.execute(core_sql.count_in_slot(q(table)), ["k", 1])
        assert cursor.fetchone()[0] == 1
        cursor.execute(core_sql.delete_expired(q(table)), [100])
        cursor.execute(territory_sql.grid_key(q, apps.get_model("territory.Node")._meta.db_table), ["grid"])
        assert cursor.fetchone()[0].startswith("0")
    users = apps.get_model("accounts.User")
    assert list(users.objects.raw(accounts_sql.token_user(users._meta.db_table,
                                                          apps.get_model("accounts.ApiToken")._meta.db_table),
                                  [None, "x", None])) == []
