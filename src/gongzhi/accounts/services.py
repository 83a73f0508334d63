"""Writes for users, roles and tokens. Each takes the acting user, runs in one transaction and is audited."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import sql
from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import ApiToken, RoleAssignment, User
from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, NotFound, ValidationFailed
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
            password_mark=ApiToken.mark_of(user),
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
    params = [now - timedelta(minutes=5), ApiToken.hash(key), now]
    rows = list(User.objects.raw(sql.token_user(users, tokens), params))
    if not rows:
        return None
    user = rows[0]
    # gz_token_*: the raw query's extra columns, which the model's type cannot know of (hence the ignores)
    if not constant_time_compare(user.gz_token_mark, ApiToken.mark_of(user)):  # type: ignore[attr-defined]
        # The password changed since the token was issued: the token is over (and gone from the user's list).
        ApiToken.objects.filter(pk=user.gz_token_id).delete()  # type: ignore[attr-defined]
        return None
    if user.gz_token_stale:  # type: ignore[attr-defined]
        ApiToken.objects.filter(pk=user.gz_token_id).update(last_used_at=now)  # type: ignore[attr-defined]
    return user


def is_admin(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False)) or user.has_role(Role.ADMIN)


def _token_target(actor: User, user_id: int) -> User:
    """The user whose tokens ``actor`` may list or revoke: oneself, or anyone (in scope) for an administrator."""
    target = get_in_scope(User, actor, user_id)
    if target.pk != actor.pk and not is_admin(actor):
        raise Forbidden(gettext("Only an administrator may see or revoke another user's API tokens."))
    return target


def end_tokens(*, actor: User, user: User, reason: str) -> int:
    """End every API token of ``user`` (a password change, a deactivation, "log out everywhere"); audited with the
    reason and how many ended. Runs in the caller's transaction, or its own."""
    with transaction.atomic():
        ids = list(ApiToken.objects.filter(user=user).values_list("pk", flat=True))
        if ids:
            ApiToken.objects.filter(pk__in=ids).delete()
            audit.record(
                actor=actor,
                action="auth.tokens_revoked",
                obj=user,
                object_repr=user.username,
                node_code=_home_code(user),
                after={"tokens": ids, "reason": reason},
            )
    return len(ids)


def revoke_token(*, actor: User, token_id: int) -> None:
    """Revoke one API token: one's own, or anyone's for an administrator (others: not found). Audited."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
        if token is None or (token.user_id != actor.pk and not is_admin(actor)):
            raise NotFound(gettext("No API token with id %(id)s.") % {"id": token_id})
        owner = token.user
        token.delete()
        audit.record(
            actor=actor,
            action="auth.token_revoked",
            obj=owner,
            object_repr=owner.username,
            node_code=_home_code(owner),
            after={"tokens": [token_id], "reason": "revoked"},
        )


def revoke_user_tokens(*, actor: User, user_id: int) -> int:
    """Revoke every API token of a user: oneself ("log out everywhere") or, for an administrator, anyone."""
    target = _token_target(actor, user_id)
    return end_tokens(actor=actor, user=target, reason="revoked")


def reveal_user_field(*, actor: User, user_id: int, field: str) -> str:
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
    *, actor: User, user_id: int, role: str, node_id: int | None = None, body_id: int | None = None, post: str = ""
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


def _may_assign(actor: User, probe: RoleAssignment) -> bool:
    scope = actor.scope_for("accounts.roleassignment", "add")
    if scope.everything:
        return True
    if probe.node is not None and scope.covers(probe.node.code):
        return True
    return probe.body_id is not None and probe.body_id in scope.bodies


def revoke_role(*, actor: User, assignment_id: int) -> RoleAssignment:
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
