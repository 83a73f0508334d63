"""Writing many rows at once, the one way: primary keys reserved before the rows are written (so that rows pointing
at each other, and numbers built from ids, are known up front) and PostgreSQL's ``COPY`` through psycopg's own
``write_row`` (which formats and escapes each value for its column; no hand-escaped COPY text). The statements
themselves are in :mod:`gongzhi.core.sql`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from gongzhi.core import sql


def reserve_ids(model: type[Model], n: int) -> list[int]:
    """``n`` primary keys for new rows of ``model``, ascending. PostgreSQL: from the table's own sequence, safe
    beside other writers (single inserts keep drawing from it meanwhile). SQLite: the next ids after the highest
    ever used (``MAX(id)`` and ``sqlite_sequence``) — only safe while the caller's transaction holds the write lock
    (a build with ``transaction_mode=IMMEDIATE``), as nobody else inserts meanwhile."""
    if n <= 0:
        return []
    table, pk = model._meta.db_table, str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.next_ids(), [table, pk, n])
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(sql.highest_id(connection.ops.quote_name, table, pk))
        highest = cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute(sql.sqlite_sequence(), [table])
            row = cursor.fetchone()
            highest = max(highest, row[0] if row else 0)
    return list(range(highest + 1, highest + 1 + n))


def columns_of(model: type[Model], names: Iterable[str]) -> list[str]:
    """The database columns of ``model``'s fields named so (by attribute name: ``actor_id``, not ``actor``)."""
    column_of = {f.attname: str(f.column) for f in model._meta.concrete_fields}
    return [column_of[name] for name in names]


def copy_rows(model: type[Model] | str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL only: ``rows`` (values in the order of ``columns``, database column names) into ``model``'s table
    (or the table of that name) with one ``COPY … FROM STDIN``; psycopg's ``write_row`` adapts each value (``None``
    → NULL, ``bool``, ``datetime``, ``str``; give JSON columns their JSON text). Inside the caller's transaction.
    Returns how many rows."""
    table = model if isinstance(model, str) else model._meta.db_table
    statement = sql.copy_in(connection.ops.quote_name, table, columns)
    types = None if isinstance(model, str) else _column_types(model, columns)
    n = 0
    with connection.wrap_database_errors, connection.cursor() as wrapper, wrapper.cursor.copy(statement) as copy:
        if types is not None:
            copy.set_types(types)  # each column's dumper chosen once, not looked up for every value
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _column_types(model: type[Model], columns: Sequence[str]) -> list[str] | None:
    """The PostgreSQL type of each column, as ``set_types`` takes it (``varchar(200)`` → ``varchar``); JSON columns
    as ``text``, since their values come as JSON text. ``None`` when a column is not a plain field of the model."""
    by_column = {str(f.column): f for f in model._meta.concrete_fields}
    types = []
    for column in columns:
        field = by_column.get(column)
        db_type = field.rel_db_type(connection) if field is not None and field.is_relation else None
        if field is not None and db_type is None:
            db_type = field.db_type(connection)
        if not db_type:
            return None
        name = db_type.split("(")[0].strip().lower()
        types.append("text" if name in ("json", "jsonb") else name)
    return types
