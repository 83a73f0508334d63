"""Scope: which rows a user may read or act on.

Every model's default manager is a :class:`ScopedManager`; ``Model.objects.restrict(user, action)`` returns only
the rows the user may ``view`` / ``add`` / ``change`` / ``delete`` / ``reveal``. A model says how its rows relate
to the territory with a :class:`ScopeRule` (class attribute ``scope_rule``):

* ``node``: the path to a territory node (``""`` for a node itself, ``"node"`` for a foreign key). The row is in
  scope when that node lies in one of the user's subtrees (hierarchical code prefix, matched as an index range by
  :func:`code_prefix_q`) or is led by one of the user's bodies.
* ``code``: the path to a plain territory-code field (for rows that keep only a code, like the audit log).
* ``body``: the path to an organisation (``"pk"`` for a body itself); in scope when it is one of the user's bodies.
* ``owner``: the path to a user; a user always sees rows they own.
* ``unplaced``: rows with no node at all (district departments, courts) are visible to anyone holding the right.
* ``extra_node``: a second path to a node that also admits the row (a case's handling grid beside its place).
* ``node_code`` / ``extra_node_code``: a plain field on the row holding a copy of that node's code (kept by the
  row's writers). Subtrees are then matched on it, without joining every row to its node: the database can use
  an index on the copy and estimate how many rows a subtree holds, which a join on the node's code defeats.
* ``everyone``: reference data: any user holding the right somewhere sees every row.
* ``ancestors``: also admit rows whose node is an *ancestor* of the user's ground (a grid worker sees their
  community and subdistrict as context, e.g. to show the lead body). Used by organisation-like models.

What a user's scope is comes from the user object (``user.scope_for(model_label, action)``, implemented by the
accounts app from its role policy), so this module depends on no app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

ACTIONS = ("view", "add", "change", "delete", "reveal")

# Territory codes grow by level: subdistrict 9, community/village 12, grid 15, building 19, household 23 digits.
CODE_LEVELS = (9, 12, 15, 19, 23)
_DIGITS = re.compile(r"[0-9]*")


def ancestor_codes(code: str) -> list[str]:
    """The codes of the ancestors of a territory code, root first (not including itself)."""
    return [code[:length] for length in CODE_LEVELS if length < len(code)]


def code_successor(prefix: str) -> str | None:
    """The least digit string above every code that starts with ``prefix`` (a string of ASCII digits): the last
    digit that is not 9 raised by one, the 9s after it dropped ("210113006001" → "210113006002", "2101139" → "210114").
    None when ``prefix`` is all 9s (nothing above it then). For codes of digits, ``code.startswith(prefix)`` is then
    exactly ``prefix <= code < code_successor(prefix)`` in any collation (digits sort as digits in every one)."""
    kept = prefix.rstrip("9")
    if not kept:
        return None
    return kept[:-1] + chr(ord(kept[-1]) + 1)


def code_prefix_q(path: str, prefix: str) -> Q:
    """Rows whose territory code at ``path`` starts with ``prefix``, as an index range: ``path >= prefix AND
    path < successor``. A subtree is a code prefix, but ``LIKE 'prefix%'`` is served by no index on SQLite (its LIKE
    ignores case, so the planner leaves the code indexes alone: a grid worker's list read every person of the
    subdistrict) and on PostgreSQL only by a ``varchar_pattern_ops`` index; a range is served by the plain index on
    both, and estimated from the column's statistics. Territory codes are ASCII digits (``territory.services``
    refuses anything else); a prefix that is not digits falls back to ``startswith``."""
    if not _DIGITS.fullmatch(prefix):
        return Q(**{f"{path}__startswith": prefix})
    upper = code_successor(prefix)
    if upper is None:
        return Q(**{f"{path}__gte": prefix})
    return Q(**{f"{path}__gte": prefix, f"{path}__lt": upper})


def minimal_prefixes(codes: set[str] | frozenset[str]) -> tuple[str, ...]:
    """Drop codes that lie under another code of the set (their subtree is already covered)."""
    kept: list[str] = []
    for code in sorted(codes, key=lambda c: (len(c), c)):
        if not any(code.startswith(prefix) for prefix in kept):
            kept.append(code)
    return tuple(sorted(kept))


@dataclass(frozen=True)
class Scope:
    """What a user may reach for one model and action."""

    everything: bool = False
    prefixes: frozenset[str] = field(default_factory=frozenset)
    lead_bodies: frozenset[int] = field(default_factory=frozenset)
    bodies: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    own_only: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.prefixes or self.lead_bodies or self.bodies or self.user_id)

    def covers(self, code: str, lead_body_id: int | None = None) -> bool:
        """Does this scope reach the place with this territory code (and, optionally, this lead body)?"""
        if self.everything or any(code.startswith(prefix) for prefix in self.prefixes):
            return True
        return lead_body_id is not None and lead_body_id in self.lead_bodies

    def __or__(self, other: Scope) -> Scope:
        return Scope(
            everything=self.everything or other.everything,
            prefixes=self.prefixes | other.prefixes,
            lead_bodies=self.lead_bodies | other.lead_bodies,
            bodies=self.bodies | other.bodies,
            user_id=self.user_id or other.user_id,
        )


NOTHING = Scope()


def _join(path: str, name: str) -> str:
    return f"{path}__{name}" if path else name


@dataclass(frozen=True)
class ScopeRule:
    node: str | None = None
    code: str | None = None
    body: str | None = None
    owner: str | None = None
    ancestors: bool = False
    unplaced: bool = False
    extra_node: str | None = None
    everyone: bool = False
    node_code: str | None = None
    extra_node_code: str | None = None

    def q(self, scope: Scope) -> Q:
        """The filter admitting exactly the rows in ``scope``. Never matches anything for an empty scope."""
        if scope.everything:
            return Q()
        if self.everyone and (scope.prefixes or scope.lead_bodies or scope.bodies):
            return Q()
        q = Q(pk__in=[])
        prefixes = minimal_prefixes(scope.prefixes)
        code_paths: list[str] = []
        for node_path, mirror in ((self.node, self.node_code), (self.extra_node, self.extra_node_code)):
            if node_path is None:
                continue
            code_paths.append(mirror or _join(node_path, "code"))
            if scope.lead_bodies:
                q |= Q(**{_join(node_path, "lead_body__in"): sorted(scope.lead_bodies)})
        if self.code is not None:
            code_paths.append(self.code)
        for path in code_paths:
            for prefix in prefixes:
                q |= code_prefix_q(path, prefix)
            if self.ancestors and prefixes:
                ancestry = sorted({a for prefix in prefixes for a in ancestor_codes(prefix)})
                if ancestry:
                    q |= Q(**{f"{path}__in": ancestry})
        if self.unplaced and self.node:
            q |= Q(**{f"{self.node}__isnull": True})
        if self.body is not None and scope.bodies:
            q |= Q(**{_join(self.body, "in") if self.body != "pk" else "pk__in": sorted(scope.bodies)})
        if self.owner is not None and scope.user_id:
            q |= Q(**{self.owner if self.owner != "pk" else "pk": scope.user_id})
        return q

    def admits(self, scope: Scope, obj: models.Model) -> bool:
        """Is ``obj``, as it is in memory, one of the rows ``q(scope)`` admits? The same decision as the filter,
        without a query when the related objects the paths cross are loaded (e.g. the case just written)."""
        if scope.is_empty:
            return False
        if scope.everything or (self.everyone and (scope.prefixes or scope.lead_bodies or scope.bodies)):
            return True
        ancestry = {a for prefix in scope.prefixes for a in ancestor_codes(prefix)} if self.ancestors else set()
        codes: list[str | None] = []
        for node_path, mirror in ((self.node, self.node_code), (self.extra_node, self.extra_node_code)):
            if node_path is None:
                continue
            node = _follow(obj, node_path)
            codes.append(_follow(obj, mirror) if mirror else getattr(node, "code", None))
            if node is not None and scope.lead_bodies and node.lead_body_id in scope.lead_bodies:
                return True
            if self.unplaced and self.node and node_path == self.node and node is None:
                return True
        if self.code is not None:
            codes.append(_follow(obj, self.code))
        for code in codes:
            if code and (scope.covers(code) or code in ancestry):
                return True
        if self.body is not None and scope.bodies and _follow_id(obj, self.body) in scope.bodies:
            return True
        return self.owner is not None and bool(scope.user_id) and _follow_id(obj, self.owner) == scope.user_id


def _follow(obj: Any, path: str) -> Any:
    """The value at a ``__``-separated path from ``obj`` (None once a step is None)."""
    for name in path.split("__") if path else ():
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _follow_id(obj: Any, path: str) -> Any:
    """The primary key at a path ending in a foreign key (``pk`` for the object itself), read from the ``_id``
    column of the last step so that the related row is not loaded."""
    if path == "pk":
        return obj.pk
    head, _, last = path.rpartition("__")
    owner = _follow(obj, head) if head else obj
    return None if owner is None else getattr(owner, f"{last}_id")


def scope_of(
    user: AbstractBaseUser | AnonymousUser | ScopeHolder | None, model: type[models.Model], action: str
) -> Scope:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NOTHING
    scope_for = getattr(user, "scope_for", None)
    if scope_for is None:
        return NOTHING
    result: Scope = scope_for(model._meta.label_lower, action)
    return result


class ScopeHolder(Protocol):
    """A user as core knows one: it has a scope per model and action (the accounts app's ``User``)."""

    def scope_for(self, model_label: str, action: str) -> Scope: ...


_M = TypeVar("_M", bound=models.Model, covariant=True)  # as QuerySet's: an annotated queryset is still one of _M


class ScopedQuerySet(models.QuerySet[_M], Generic[_M]):
    def restrict(
        self, user: AbstractBaseUser | AnonymousUser | ScopeHolder | None, action: str = "view"
    ) -> ScopedQuerySet[_M]:
        """Only the rows ``user`` may perform ``action`` on. Models without a rule are visible to nobody."""
        rule: ScopeRule | None = getattr(self.model, "scope_rule", None)
        scope = scope_of(user, self.model, action)
        if rule is None or scope.is_empty:
            return self.none()
        if scope.everything:
            return self.all()
        return self.filter(rule.q(scope))

    def allows(
        self, user: AbstractBaseUser | AnonymousUser | ScopeHolder | None, action: str, obj: models.Model
    ) -> bool:
        manager = cast("ScopedManager[_M]", self.model._default_manager)  # every scoped model's default manager
        return manager.restrict(user, action).filter(pk=obj.pk).exists()


_ScopedManagerBase = models.Manager.from_queryset(ScopedQuerySet)


class ScopedManager(_ScopedManagerBase[_M]):
    """Default manager of every Gongzhi model: ``Model.objects.restrict(user, action)``."""
