"""Raw SQL kept for speed: the columns the set-based import of new residents writes with one ``COPY`` per table on
PostgreSQL (``services.import_new_people``; the statement itself is psycopg's ``COPY … FROM STDIN``). Every column
named here is listed in :data:`COLUMNS`; ``tests/test_raw_sql.py`` checks each is still a column of its model."""

from __future__ import annotations

PERSON_COPY_COLUMNS = (
    "id", "created_at", "updated_at", "name", "id_number", "phone", "sex", "birth_date", "population_type",
    "household_id", "room", "is_active",
)  # fmt: skip
RESIDENCE_COPY_COLUMNS = ("created_at", "updated_at", "person_id", "household_id", "moved_in", "note")
TAG_COPY_COLUMNS = ("created_at", "updated_at", "person_id", "tag", "label", "since")
AUDIT_COPY_COLUMNS = (
    "at", "actor_id", "action", "object_type", "object_id", "object_repr", "node_code", "after", "note",
)  # fmt: skip

COLUMNS = {
    "registry.Person": PERSON_COPY_COLUMNS,
    "registry.Residence": RESIDENCE_COPY_COLUMNS,
    "registry.PersonTag": TAG_COPY_COLUMNS,
    "core.AuditLog": AUDIT_COPY_COLUMNS,
}
