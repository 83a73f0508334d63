"""Raw SQL kept for speed: the per-client counters of :mod:`gongzhi.core.throttle` (one atomic upsert that every
worker shares, ``INSERT … ON CONFLICT … RETURNING`` on SQLite and PostgreSQL), the id reservation and ``COPY`` of
:mod:`gongzhi.core.bulk` and the columns of the audit log's ``COPY`` (``core.audit.record_many``). Every column named
here is listed in :data:`COLUMNS` (the bulk statements name the primary key of whatever table they are given, passed
in from its model); ``tests/test_raw_sql.py`` checks each is still a column of its model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# The audit log's columns as ``record_many`` writes them, in its rows' order.
AUDIT_COPY_COLUMNS = (
    "at", "actor_id", "action", "object_type", "object_id", "object_repr", "node_code", "before", "after", "note",
)  # fmt: skip

COLUMNS = {"core.RateCount": ("ident", "slot", "count", "expires"), "core.AuditLog": AUDIT_COPY_COLUMNS}


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


# --- core.bulk -------------------------------------------------------------------------------------------------------


def next_ids() -> str:
    """PostgreSQL: the next values of a table's id sequence. Parameters: the table, its primary key column, how
    many."""
    return "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"


def highest_id(q: Callable[[str], str], table: str, pk: str) -> str:
    """The highest primary key in a table (0 when empty)."""
    return f"SELECT COALESCE(MAX({q(pk)}), 0) FROM {q(table)}"


def sqlite_sequence() -> str:
    """SQLite: the highest id a table has ever handed out (``AUTOINCREMENT``). Parameter: the table."""
    return "SELECT seq FROM sqlite_sequence WHERE name = %s"


def copy_in(q: Callable[[str], str], table: str, columns: Sequence[str]) -> str:
    """PostgreSQL: rows into these columns of a table, through psycopg's ``copy`` (``write_row``)."""
    return f"COPY {q(table)} ({', '.join(q(c) for c in columns)}) FROM STDIN"
