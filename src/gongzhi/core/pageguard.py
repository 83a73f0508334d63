"""The guard of a page by the page policy, for views of any app.

The policy itself (which role may open which page, and the menu built from it) is ``gongzhi.accounts.pages``; it
installs its check here when the accounts app is ready, so that an app below accounts (territory) guards its pages
with the same rule without importing it. No policy installed: every guarded page refuses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import Forbidden

REFUSED = _("Your role has no use for this page.")

_policy: Callable[[Any, str], bool] | None = None


def install(policy: Callable[[Any, str], bool]) -> None:
    global _policy
    _policy = policy


def allowed(user: Any, name: str) -> bool:
    return _policy is not None and _policy(user, name)


def require(user: Any, name: str) -> None:
    """Not allowed by the policy → ``Forbidden`` (the 403 page)."""
    if not allowed(user, name):
        raise Forbidden(REFUSED)


def page(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view with the policy of the page ``name`` (use under ``@login_required``)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require(request.user, name)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
