"""Reads of users and roles, always within the caller's scope."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from gongzhi.accounts.choices import GRID_CORE_POSTS, Post, Role
from gongzhi.accounts.models import ApiToken, RoleAssignment, User
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Forbidden
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q


def _with_roles(qs: ScopedQuerySet[User]) -> ScopedQuerySet[User]:
    return qs.prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.filter(is_active=True).select_related("node", "body"),
            to_attr="active_assignments",
        )
    )


def user_list(
    *, user: User, q: str | None = None, role: str | None = None, node_id: int | None = None
) -> QuerySet[User]:
    qs = User.objects.restrict(user, "view").filter(is_active=True)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role:
        qs = qs.filter(role_assignments__role=role, role_assignments__is_active=True)
    if node_id is not None:
        qs = qs.filter(role_assignments__node_id=node_id, role_assignments__is_active=True)
    return _with_roles(qs.distinct().order_by("username"))


def user_get(*, user: User, user_id: int) -> User:
    return get_in_scope(User, user, user_id, queryset=_with_roles(User.objects.all()))


def may_reveal(*, user: User, target: User) -> bool:
    return User.objects.restrict(user, "reveal").filter(pk=target.pk).exists()


def token_list(*, user: User, owner_id: int | None = None) -> list[ApiToken]:
    """The live API tokens of ``owner_id`` (default: oneself; another user's for administrators only), newest
    first. Expired ones and those issued before the owner's last password change are left out: they no longer
    authenticate."""
    from django.utils import timezone
    from django.utils.translation import gettext

    owner = user
    if owner_id is not None and owner_id != user.pk:
        owner = get_in_scope(User, user, owner_id)
        if not (user.is_superuser or user.has_role(Role.ADMIN)):
            raise Forbidden(gettext("Only an administrator may see or revoke another user's API tokens."))
    rows = ApiToken.objects.filter(user_id=owner.pk, expires_at__gt=timezone.now()).order_by("-created_at", "-id")
    return [t for t in rows if t.is_live_for(owner)]


def staff_on(*, user: User, node_id: int) -> list[RoleAssignment]:
    """The people posted on a place (for a grid: the "1+3+N"), ordered leader, the three, then the rest."""
    rows = list(
        RoleAssignment.objects.restrict(user, "view")
        .filter(node_id=node_id, is_active=True)
        .select_related("user", "body")
    )
    order: dict[str, int] = {post: i for i, post in enumerate(GRID_CORE_POSTS)}
    rows.sort(key=lambda r: (order.get(Post(r.post) if r.post in Post.values else r.post, 99), r.user.username))
    return rows


def my_assignments(*, user: User) -> list[RoleAssignment]:
    return list(
        RoleAssignment.objects.filter(user_id=user.pk, is_active=True).select_related("node", "body").order_by("id")
    )


def grid_workers_under(*, code: str) -> dict[str, int]:
    """Grid code → the user id of its grid worker (the longest-serving active one), for every grid under ``code``.

    Used by services that assign work to "the grid worker of this place" after the caller's scope was checked.
    """
    rows = (
        RoleAssignment.objects.filter(
            code_prefix_q("node__code", code), role=Role.GRID_WORKER, is_active=True, user__is_active=True
        )
        .order_by("node__code", "id")
        .values_list("node__code", "user_id")
    )
    workers: dict[str, int] = {}
    for grid_code, user_id in rows:
        if grid_code is not None and len(grid_code) == 15:
            workers.setdefault(grid_code, user_id)
    return workers
