"""Users, their roles on places and bodies, and API tokens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import sql
from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.policy import allowed_actions, passed_only
from gongzhi.core.models import TimeStampedModel
from gongzhi.core.scope import NOTHING, Scope, ScopedQuerySet, ScopeRule, code_prefix_q, minimal_prefixes


@dataclass(frozen=True)
class _Grant:
    role: str
    scope: Scope


if TYPE_CHECKING:
    # django-stubs types a from_queryset class only when it reads core.scope before this module, which depends on
    # the order it happens to read the import cycle through django.contrib.auth in (a fresh run and a cached one
    # differed): the manager's scoped methods are written out for the type checker instead.
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from gongzhi.core.scope import ScopeHolder

    class _UserManagerBase(UserManager["User"]):
        def get_queryset(self) -> ScopedQuerySet[User]: ...
        def all(self) -> ScopedQuerySet[User]: ...
        def filter(self, *args: Any, **kwargs: Any) -> ScopedQuerySet[User]: ...
        def exclude(self, *args: Any, **kwargs: Any) -> ScopedQuerySet[User]: ...
        def restrict(
            self, user: AbstractBaseUser | AnonymousUser | ScopeHolder | None, action: str = "view"
        ) -> ScopedQuerySet[User]: ...

else:
    _UserManagerBase = UserManager.from_queryset(ScopedQuerySet)


class GongzhiUserManager(_UserManagerBase):
    pass


class UserScopeRule(ScopeRule):
    """A user is in scope when one of their active role assignments is (or it is oneself)."""

    def q(self, scope: Scope) -> Q:
        if scope.everything:
            return Q()
        assignments = RoleAssignment.objects.filter(is_active=True, user=OuterRef("pk")).filter(
            RoleAssignment.scope_rule.q(scope)
        )
        q = Q(Exists(assignments))
        if scope.user_id:
            q |= Q(pk=scope.user_id)
        return q

    def admits(self, scope: Scope, obj: models.Model) -> bool:
        if scope.is_empty:
            return False
        if scope.everything or (scope.user_id is not None and obj.pk == scope.user_id):
            return True
        return RoleAssignment.objects.filter(is_active=True, user_id=obj.pk).filter(
            RoleAssignment.scope_rule.q(scope)
        ).exists()


def bodies_attached_to(prefixes: tuple[str, ...]) -> models.QuerySet[Any]:
    """The ids of the bodies attached to the ground under these codes: placed there (their home ground), leading a
    place there, or co-covering one (a department without a home ground counts once it leads or co-covers a place)."""
    from gongzhi.territory.models import Body, CoJurisdiction, Node

    home, led, covered = Q(pk__in=[]), Q(pk__in=[]), Q(pk__in=[])
    for prefix in prefixes:
        home |= code_prefix_q("node__code", prefix)
        led |= code_prefix_q("code", prefix)
        covered |= code_prefix_q("node__code", prefix)
    leads = Node.objects.filter(lead_body=OuterRef("pk")).filter(led)
    covers = CoJurisdiction.objects.filter(body=OuterRef("pk")).filter(covered)
    return Body.objects.filter(home | Exists(leads) | Exists(covers)).values("pk")


class AssignmentScopeRule(ScopeRule):
    """A role assignment is in scope on its place, for one's own bodies (the plain rule), and — so that whoever
    grants roles on a ground sees everyone working there — when it is held for a body attached to one's ground
    (:func:`bodies_attached_to`), e.g. the police station's handlers for the subdistrict's operator."""

    def q(self, scope: Scope) -> Q:
        q = super().q(scope)
        if scope.everything or not scope.prefixes:
            return q
        return q | Q(body__in=bodies_attached_to(minimal_prefixes(scope.prefixes)))

    def admits(self, scope: Scope, obj: models.Model) -> bool:
        if super().admits(scope, obj):
            return True
        body_id = getattr(obj, "body_id", None)
        if body_id is None or not scope.prefixes:
            return False
        return bodies_attached_to(minimal_prefixes(scope.prefixes)).filter(pk=body_id).exists()


class User(AbstractUser):
    display_name = models.CharField(_("name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects: ClassVar[GongzhiUserManager] = GongzhiUserManager()
    scope_rule = UserScopeRule()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    # --- scope -------------------------------------------------------------------------------------------
    def _grants(self) -> list[_Grant]:
        cached: list[_Grant] | None = getattr(self, "_gz_grants", None)
        if cached is not None:
            return cached
        grants: list[_Grant] = []
        # Plain values (role, place id, body id, the place's code): every scoped request reads them, and a joined
        # node would bring its boundary polygon along.
        # Raw SQL: the ORM would compile this join anew on every request (about 1 ms of a small machine's CPU).
        nodes = RoleAssignment._meta.get_field("node").related_model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(sql.grants(RoleAssignment._meta.db_table, nodes), [self.pk])
            rows = cursor.fetchall()
        body_ids = {body_id for _, _, body_id, _ in rows if body_id}
        co_codes: dict[int, set[str]] = {}
        if body_ids:
            from gongzhi.territory.selectors import co_jurisdiction_codes

            co_codes = co_jurisdiction_codes(body_ids)
        for role, node_id, body_id, node_code in rows:
            if role == Role.ADMIN:
                grants.append(_Grant(role, Scope(everything=True)))
                continue
            prefixes: set[str] = set()
            bodies: set[int] = set()
            if node_id:
                prefixes.add(node_code)
            if body_id:
                bodies.add(body_id)
                prefixes |= co_codes.get(body_id, set())
            grants.append(
                _Grant(
                    role,
                    Scope(prefixes=frozenset(prefixes), lead_bodies=frozenset(bodies), bodies=frozenset(bodies)),
                )
            )
        self._gz_grants = grants
        return grants

    def forget_scope(self) -> None:
        self.__dict__.pop("_gz_grants", None)

    def scope_for(self, model_label: str, action: str) -> Scope:
        if not self.is_active:
            return NOTHING
        if self.is_superuser:
            return Scope(everything=True)
        result = NOTHING
        for grant in self._grants():
            if grant.scope.everything:
                return grant.scope
            if action in allowed_actions(grant.role, model_label):
                if passed_only(grant.role, model_label, action):  # only what is passed to the body
                    result = result | Scope(bodies=grant.scope.bodies)
                else:
                    result = result | grant.scope
        if action == "view":  # one's own rows (own user record, own reports) where a model names an owner
            result = result | Scope(user_id=self.pk)
        return result

    def roles(self) -> set[str]:
        return {grant.role for grant in self._grants()}

    def ground_codes(self) -> frozenset[str]:
        """The codes of the places this user's roles stand on (a worker's grid, a body's co-covered ground): where a
        GPS point of theirs is at home (cases.intake flags a report from outside). Read with the grants, cached."""
        return frozenset(p for grant in self._grants() if not grant.scope.everything for p in grant.scope.prefixes)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles)) or (self.is_superuser and Role.ADMIN in roles)


class RoleAssignment(TimeStampedModel):
    """A role a user holds on a place (node) and/or for a body (organisation)."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    post = models.CharField(_("post"), max_length=32, choices=Post.choices, blank=True)
    node = models.ForeignKey(
        "territory.Node",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    body = models.ForeignKey(
        "territory.Body",
        verbose_name=_("body"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    is_active = models.BooleanField(_("active"), default=True)

    scope_rule = AssignmentScopeRule(node="node", body="body")

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user_id", "role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[Role.ADMIN, Role.RESIDENT]) | Q(node__isnull=False) | Q(body__isnull=False),
                name="roleassignment_has_place_or_body",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="roleassignment_role_valid"),
        ]
        indexes = [models.Index(fields=["node", "role"], name="roleassignment_node_role")]

    def __str__(self) -> str:
        where = self.node or self.body or ""
        return f"{self.user} · {self.get_role_display()} · {where}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token itself is shown once.

    ``password_mark`` ties it to the password its user had when it was issued (an HMAC of the password hash, never
    the hash itself): once the password changes — on any path, a service, the admin or ``set_password`` anywhere —
    the marks differ and the token no longer authenticates (as Django does for sessions)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    password_mark = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[ApiToken]] = models.Manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def mark_of(user: User) -> str:
        """The mark of the user's current password (see the class)."""
        return salted_hmac("gongzhi.accounts.ApiToken", user.password, algorithm="sha256").hexdigest()

    def is_live_for(self, user: User) -> bool:
        return constant_time_compare(self.password_mark, self.mark_of(user))
