"""Fetching one object within scope: out of scope is *not found*; in scope without the right is *forbidden*."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import Forbidden, NotFound
from gongzhi.core.messages import action_word, fmt

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from gongzhi.core.scope import ScopedManager, ScopedQuerySet, ScopeHolder

M = TypeVar("M", bound=models.Model)


def get_in_scope(
    model: type[M],
    user: AbstractBaseUser | AnonymousUser | None,
    pk: Any,
    action: str = "view",
    queryset: ScopedQuerySet[M] | None = None,
) -> M:
    manager = cast("ScopedManager[M]", model._default_manager)  # every scoped model's default manager
    base = queryset if queryset is not None else manager.all()
    try:
        obj = base.restrict(user, "view").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]  # concrete models all have it
        raise NotFound(
            fmt(_("No %(verbose_name)s with id %(pk)s."), verbose_name=model._meta.verbose_name, pk=pk)
        ) from None
    if action != "view" and not manager.restrict(user, action).filter(pk=obj.pk).exists():
        raise Forbidden(
            fmt(
                _("You may not %(action)s this %(verbose_name)s."),
                action=action_word(action),
                verbose_name=model._meta.verbose_name,
            )
        )
    return obj


def reaches(user: ScopeHolder, label: str, action: str, node: Any) -> bool:
    """May ``user`` take ``action`` on rows of model ``label`` at this place (a territory node: its code and lead
    body)? For checks before a row exists, e.g. "may I register a person in this household"."""
    return bool(user.scope_for(label, action).covers(node.code, node.lead_body_id))
