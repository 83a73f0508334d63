"""Raw SQL kept for speed: the freshness key of the grid boundaries (``geo.grid_key``), plain SQL that PostgreSQL and
SQLite both run, read alone or beside any query on nodes, and the one-query placement of a point (its grid and the
grid's buildings near it, ``selectors.place_of_point``). Every column named here is listed in :data:`COLUMNS`;
``tests/test_raw_sql.py`` checks each is still a column of its model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

COLUMNS = {
    "territory.Node": (
        "updated_at", "kind", "boundary", "id", "parent_id", "lead_body_id", "centroid_lat", "centroid_lng", "code",
    ),
    "territory.Body": ("id", "name"),
}  # fmt: skip


def grid_key(q: Callable[[str], str], nodes: str) -> str:
    """The number of grids with a boundary and the latest ``updated_at`` among them, as one text. Parameter: the
    grid kind."""
    return (
        f"SELECT CAST(COUNT(*) AS TEXT) || ' ' || COALESCE(CAST(MAX({q('updated_at')}) AS TEXT), '') "
        f"FROM {q(nodes)} WHERE {q('kind')} = %s AND {q('boundary')} IS NOT NULL"
    )


def grid_and_buildings(
    q: Callable[[str], str], nodes: str, bodies: str, node_columns: Sequence[str], key_sql: str
) -> str:
    """A grid's row and its buildings whose centroid lies in a box (``node_columns``: the columns read of each, the
    model's without its polygon), each with its lead body's name (``lead_body_name``) and the grid index's key
    (``_grids_key``: ``key_sql``, :func:`grid_key`), in code order. Parameters: ``key_sql``'s, the grid's id twice,
    the building kind, the box's south and north latitudes, its west and east longitudes."""
    return (
        f"SELECT {', '.join(f'n.{q(c)}' for c in node_columns)}, b.{q('name')} AS lead_body_name, "
        f"({key_sql}) AS _grids_key "
        f"FROM {q(nodes)} n INNER JOIN {q(bodies)} b ON b.{q('id')} = n.{q('lead_body_id')} "
        f"WHERE n.{q('id')} = %s OR (n.{q('parent_id')} = %s AND n.{q('kind')} = %s "
        f"AND n.{q('centroid_lat')} BETWEEN %s AND %s AND n.{q('centroid_lng')} BETWEEN %s AND %s) "
        f"ORDER BY n.{q('code')}"
    )
