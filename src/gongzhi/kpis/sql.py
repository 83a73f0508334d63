"""Raw SQL kept for speed: the rollup writes done in the database itself (``INSERT … SELECT``: no row passes
through Python) and the measure sums around an ORM-written statement (docs/kpis.md, docs/performance.md). The
measures' columns come from :func:`gongzhi.kpis.measures.measure_names`; every other column named here is listed in
:data:`COLUMNS`. ``tests/test_raw_sql.py`` checks each (and every measure) is still a column of its model."""

from __future__ import annotations

from collections.abc import Callable

from gongzhi.kpis import measures

COLUMNS = {
    "kpis.CaseRollup": ("day", "place_code", "category_id", "major_category_id", "channel"),
    "kpis.MonthRollup": ("month", "place_code"),
    "kpis.MonthClassRollup": ("month", "place_code", "major_category_id", "channel"),
}
# The tables that hold a column per measure.
MEASURE_TABLES = ("kpis.CaseRollup", "kpis.MonthRollup", "kpis.MonthClassRollup")

# A daily rollup row's key: its column ← the alias the grouped-cases statement gives it.
DAY_KEYS = {"day": "r_day", "place_code": "r_place", "category_id": "r_category",
            "major_category_id": "r_major", "channel": "r_channel"}  # fmt: skip

Quote = Callable[[str], str]


def insert_days(q: Quote, table: str, grouped_sql: str, seconds: Callable[[str], str]) -> str:
    """The daily rollup rows of the grouped cases statement (its aliases :data:`DAY_KEYS` and the measures)."""
    columns = [*DAY_KEYS, *measures.measure_names()]
    select = [f"r.{q(alias)}" for alias in DAY_KEYS.values()]
    for name in measures.measure_names():
        select.append(seconds(f"r.{q(name)}") if name.endswith("_sum") else f"COALESCE(r.{q(name)}, 0)")
    return (
        f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) "
        f"SELECT {', '.join(select)} FROM ({grouped_sql}) r"
    )


def sum_days_into(q: Quote, table: str, days_table: str, keys: dict[str, str]) -> str:
    """A month table's rows: the month's daily rows summed per key (column → SQL expression). Parameters: the
    month, its first and its last day."""
    names = measures.measure_names()
    return (
        f"INSERT INTO {q(table)} ({q('month')}, {', '.join(q(k) for k in keys)}, "
        f"{', '.join(q(n) for n in names)}) "
        f"SELECT %s, {', '.join(keys.values())}, {', '.join(f'SUM({q(n)})' for n in names)} "
        f"FROM {q(days_table)} WHERE {q('day')} >= %s AND {q('day')} <= %s "
        f"GROUP BY {', '.join(keys.values())}"
    )


def sums(q: Quote) -> str:
    """Every measure summed over the rows of an inner statement aliased ``r``."""
    return ", ".join(f"SUM(r.{q(name)})" for name in measures.measure_names())
