"""Raw SQL kept for speed: the freshness key of the grid boundaries (``geo.grid_key``), plain SQL that PostgreSQL and
SQLite both run, read alone or beside any query on nodes. Every column named here is listed in :data:`COLUMNS`;
``tests/test_raw_sql.py`` checks each is still a column of its model. (The nearest-building look-up in
``territory/selectors.py`` is still written there.)"""

from __future__ import annotations

from collections.abc import Callable

COLUMNS = {"territory.Node": ("updated_at", "kind", "boundary")}


def grid_key(q: Callable[[str], str], nodes: str) -> str:
    """The number of grids with a boundary and the latest ``updated_at`` among them, as one text. Parameter: the
    grid kind."""
    return (
        f"SELECT CAST(COUNT(*) AS TEXT) || ' ' || COALESCE(CAST(MAX({q('updated_at')}) AS TEXT), '') "
        f"FROM {q(nodes)} WHERE {q('kind')} = %s AND {q('boundary')} IS NOT NULL"
    )
