"""Raw SQL kept for speed: the two statements every API call runs (docs/performance.md: the ORM compiled the same
joins anew on every request, about 1 ms of a small machine's CPU each). Every column named here is listed in
:data:`COLUMNS`; ``tests/test_raw_sql.py`` checks each is still a column of its model."""

from __future__ import annotations

COLUMNS = {
    "accounts.User": ("id", "is_active"),
    "accounts.ApiToken": ("id", "password_mark", "last_used_at", "user_id", "key_hash", "expires_at"),
    "accounts.RoleAssignment": ("id", "role", "node_id", "body_id", "user_id", "is_active"),
    "territory.Node": ("id", "code"),
}


def token_user(users: str, tokens: str) -> str:
    """The active user of a live token, its id and password mark, and whether ``last_used_at`` is due again.
    Parameters: the stale-before moment, the key's hash, now."""
    return (
        f"SELECT u.*, t.id AS gz_token_id, t.password_mark AS gz_token_mark,"
        f" CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END AS gz_token_stale"
        f" FROM {users} u JOIN {tokens} t ON t.user_id = u.id"
        f" WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active"
    )


def grants(assignments: str, nodes: str) -> str:
    """A user's active role assignments as plain values: role, place id, body id, the place's code. Parameter: the
    user's id."""
    return (
        f"SELECT a.role, a.node_id, a.body_id, n.code FROM {assignments} a"
        f" LEFT JOIN {nodes} n ON n.id = a.node_id"
        " WHERE a.user_id = %s AND a.is_active ORDER BY a.id"
    )
