"""Context processors of the site's pages.

Named in settings, so they import the apps lazily: a module settings names is read by django-stubs with the
settings, and an import of accounts from here would make it type the user manager before its queryset (every
``User.objects`` query typed ``Any``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    """The main menu from the page policy (``accounts.pages``)."""
    from gongzhi.accounts import pages

    return pages.context(request)


def inbox(request: HttpRequest) -> dict[str, Any]:
    """The bell's unread count in the top bar (``messaging``): one count on the user's index."""
    from gongzhi.messaging import selectors

    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": selectors.unread_count(user=user)}


def offline(request: HttpRequest) -> dict[str, Any]:
    """The pages the service worker keeps ready for the basement (``pwa/_badge.html``'s ``data-warm``): the to-do
    list, the report form and the outbox; and the rounds to do for those who inspect (the service worker then keeps
    each round's form that page lists: ``data-gz-warm``). Lazy: only a page with the badge asks."""

    def urls() -> str:
        from django.urls import reverse

        from gongzhi.accounts import pages

        names = ["cases-todo", "cases-report", "pwa-outbox"]
        if pages.allowed(getattr(request, "user", None), "inspections-home"):
            names.append("inspections-home")
        return " ".join(reverse(n) for n in names)

    return {"offline_warm": urls}
