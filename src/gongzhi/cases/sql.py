"""Raw SQL kept for speed: what intake (``cases.intake``) runs for every case or batch — the active category read
without the ORM compiling the same statement each time, the taken tickets and tracking codes looked up with one
array parameter, and the columns of the case and first-event rows a batch writes with one ``COPY`` per table
(``core.bulk.copy_rows``; the statement is :func:`gongzhi.core.sql.copy_in`). Every column named here is listed in
:data:`COLUMNS`; ``tests/test_raw_sql.py`` checks each is still a column of its model.

The case ``COPY`` names the status column: it is the intake writer's, and the value it writes there is
``workflow.create_status()`` (the status rule in ``cases/tests/test_workflow.py`` allows this one list)."""

from __future__ import annotations

from collections.abc import Callable

Quote = Callable[[str], str]

# A new case's row as intake builds it (``intake._case_row``), in this order; every other column at its default.
CASE_COPY_COLUMNS = (
    "id", "number", "title", "description", "category_id", "urgency", "channel", "status", "tier", "node_id",
    "place_code", "unplaced", "lat", "lng", "address", "owner_body_id", "owner_user_id", "reporter_user_id",
    "reporter_name", "reporter_phone", "tracking_code", "hotline_ticket", "reported_at", "category_unconfirmed",
    "category_text",
)  # fmt: skip
# A new case's first timeline event (``intake._event_row``), in this order.
EVENT_COPY_COLUMNS = (
    "case_id", "at", "actor_id", "actor_label", "action", "from_status", "to_status", "note", "public", "data",
)  # fmt: skip

COLUMNS = {
    "cases.Category": ("id", "is_active"),
    "cases.Case": (*CASE_COPY_COLUMNS, "hotline_ticket", "tracking_code"),
    "cases.CaseEvent": EVENT_COPY_COLUMNS,
}


def active_category(q: Quote, categories: str) -> str:
    """The category of an id if it is active. Parameter: the id."""
    return f"SELECT * FROM {q(categories)} WHERE id = %s AND is_active"


def taken_tickets(q: Quote, cases: str) -> str:
    """PostgreSQL: which of these 12345 tickets are cases already. Parameter: the tickets (one array)."""
    return f"SELECT hotline_ticket FROM {q(cases)} WHERE hotline_ticket = ANY(%s)"


def taken_tracking_codes(q: Quote, cases: str) -> str:
    """PostgreSQL: which of these tracking codes cases have already. Parameter: the codes (one array)."""
    return f"SELECT tracking_code FROM {q(cases)} WHERE tracking_code = ANY(%s)"
