from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ninja import Schema

from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import InputSchema, Int64

if TYPE_CHECKING:
    from gongzhi.accounts.models import RoleAssignment, User


class TokenIn(InputSchema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: str


class TokenInfoOut(Schema):
    """A live API token, never the token itself (only its hash is kept)."""

    id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    current: bool  # the token this request came with


class RevokedOut(Schema):
    revoked: int


class AssignmentOut(Schema):
    id: int
    role: str
    role_label: str
    post: str
    node_id: int | None
    node_name: str | None
    node_code: str | None
    body_id: int | None
    body_name: str | None


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone_masked: str
    roles: list[AssignmentOut]


class RevealIn(InputSchema):
    field: str = "phone"


class RevealOut(Schema):
    field: str
    value: str


class GrantIn(InputSchema):
    role: str
    node_id: Int64 | None = None
    body_id: Int64 | None = None
    post: str = ""


def assignment_out(row: RoleAssignment) -> AssignmentOut:
    return AssignmentOut(
        id=row.id,
        role=row.role,
        role_label=str(row.get_role_display()),
        post=row.post,
        node_id=row.node_id,
        node_name=row.node.name if row.node is not None else None,
        node_code=row.node.code if row.node is not None else None,
        body_id=row.body_id,
        body_name=row.body.name if row.body is not None else None,
    )


def user_out(user: User) -> UserOut:
    rows = getattr(user, "active_assignments", None)
    if rows is None:
        rows = list(user.role_assignments.filter(is_active=True).select_related("node", "body"))
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        phone_masked=mask_phone(user.phone),
        roles=[assignment_out(r) for r in rows],
    )
