"""Raw SQL kept for speed: the per-client counters of :mod:`gongzhi.core.throttle` (one atomic upsert that every
worker shares, ``INSERT … ON CONFLICT … RETURNING`` on SQLite and PostgreSQL). Every column named here is listed in
:data:`COLUMNS`; ``tests/test_raw_sql.py`` checks each is still a column of its model."""

from __future__ import annotations

COLUMNS = {"core.RateCount": ("ident", "slot", "count", "expires")}


def count_in_slot(table: str) -> str:
    """Parameters: the client's key, the slot."""
    return f"SELECT count FROM {table} WHERE ident = %s AND slot = %s"


def add_one(table: str) -> str:
    """Count one event in a slot, the new count returned. Parameters: the key, the slot, when the row expires."""
    return (
        f"INSERT INTO {table} (ident, slot, count, expires) VALUES (%s, %s, 1, %s) "
        f"ON CONFLICT (ident, slot) DO UPDATE SET count = {table}.count + 1 RETURNING count"
    )


def delete_expired(table: str) -> str:
    """Parameter: now (seconds)."""
    return f"DELETE FROM {table} WHERE expires < %s"
