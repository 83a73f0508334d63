"""Writes for users, roles and tokens. Each takes the acting user, runs in one transaction and is audited."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import ApiToken, RoleAssignment, User
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, ValidationFailed
from gongzhi.core.messages import fmt

REVEALABLE_USER_FIELDS = ("phone",)


def issue_token(*, request: HttpRequest, username: str, password: str) -> tuple[str, ApiToken]:
    """Check the password (throttled by django-axes) and hand out a new bearer token, shown only once."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise DomainError(
            message=_("Too many failed log-ins for this account; try again later."), code="locked_out", status=429
        )
    if user is None or not user.is_active:
        raise DomainError(message=_("Wrong username or password."), code="bad_credentials", status=401)
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=ApiToken.hash(key),
            expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
        )
        audit.record(actor=user, action="auth.token_issued", obj=user, object_repr=user.username)
    return key, token


def user_for_token(*, key: str) -> User | None:
    """The active user a live token belongs to. Every API call runs this: one raw query (the ORM would compile the
    same join anew each time, about 1 ms of a small machine's CPU) that also says whether ``last_used_at`` is due
    to be written again (it is kept to the nearest five minutes, not written on every call)."""
    now = timezone.now()
    users, tokens = User._meta.db_table, ApiToken._meta.db_table
    sql = (
        f"SELECT u.*, t.id AS gz_token_id,"
        f" CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END AS gz_token_stale"
        f" FROM {users} u JOIN {tokens} t ON t.user_id = u.id"
        f" WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active"
    )
    rows = list(User.objects.raw(sql, [now - timedelta(minutes=5), ApiToken.hash(key), now]))
    if not rows:
        return None
    user = rows[0]
    if user.gz_token_stale:  # type: ignore[attr-defined]
        ApiToken.objects.filter(pk=user.gz_token_id).update(last_used_at=now)  # type: ignore[attr-defined]
    return user


def reveal_user_field(*, actor: Any, user_id: int, field: str) -> str:
    """Show one piece of a person's personal data unmasked. Allowed only in scope; always audited."""
    if field not in REVEALABLE_USER_FIELDS:
        raise ValidationFailed(
            _("This field cannot be revealed."),
            [
                ErrorDetail(
                    field="field",
                    message=fmt(
                        _("expected one of %(revealable_user_fields)s"),
                        revealable_user_fields=", ".join(REVEALABLE_USER_FIELDS),
                    ),
                )
            ],
        )
    target = get_in_scope(User, actor, user_id, "reveal")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="privacy.reveal",
            obj=target,
            object_repr=str(target),
            note=f"field={field}",
            node_code=_home_code(target),
        )
    return str(getattr(target, field))


def _home_code(user: User) -> str:
    row = RoleAssignment.objects.filter(user=user, node__isnull=False).select_related("node").first()
    return row.node.code if row and row.node else ""


def grant_role(
    *, actor: Any, user_id: int, role: str, node_id: int | None = None, body_id: int | None = None, post: str = ""
) -> RoleAssignment:
    from gongzhi.territory import selectors as territory_selectors

    if role not in Role.values:
        raise ValidationFailed(
            _("Unknown role."), [ErrorDetail(field="role", message=fmt(_("%(role)s is not a role"), role=repr(role)))]
        )
    if post and post not in Post.values:
        raise ValidationFailed(
            _("Unknown post."), [ErrorDetail(field="post", message=fmt(_("%(post)s is not a post"), post=repr(post)))]
        )
    if role not in (Role.ADMIN, Role.RESIDENT) and node_id is None and body_id is None:
        raise ValidationFailed(
            _("A role needs a place or a body."), [ErrorDetail(field="node_id", message=_("give node_id or body_id"))]
        )
    if role == Role.ADMIN and not getattr(actor, "is_superuser", False) and Role.ADMIN not in actor.roles():
        raise Forbidden(_("Only an administrator may make another administrator."))
    target = get_in_scope(User, actor, user_id, "view")
    node = territory_selectors.node_get(user=actor, node_id=node_id) if node_id is not None else None
    body = territory_selectors.body_get(user=actor, body_id=body_id) if body_id is not None else None
    probe = RoleAssignment(user=target, role=role, node=node, body=body)
    if not _may_assign(actor, probe):
        raise Forbidden(_("You may not hand out roles on this place."))
    with transaction.atomic():
        assignment = RoleAssignment.objects.create(user=target, role=role, node=node, body=body, post=post)
        audit.record(
            actor=actor,
            action="accounts.role_granted",
            obj=assignment,
            node_code=node.code if node else "",
            after=audit.snapshot(assignment),
        )
    target.forget_scope()
    return assignment


def _may_assign(actor: Any, probe: RoleAssignment) -> bool:
    scope = actor.scope_for("accounts.roleassignment", "add")
    if scope.everything:
        return True
    if probe.node is not None and scope.covers(probe.node.code):
        return True
    return probe.body_id is not None and probe.body_id in scope.bodies


def revoke_role(*, actor: Any, assignment_id: int) -> RoleAssignment:
    assignment = get_in_scope(RoleAssignment, actor, assignment_id, "delete")
    with transaction.atomic():
        before = audit.snapshot(assignment)
        assignment.is_active = False
        assignment.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor,
            action="accounts.role_revoked",
            obj=assignment,
            node_code=assignment.node.code if assignment.node else "",
            before=before,
            after=audit.snapshot(assignment),
        )
    return assignment
