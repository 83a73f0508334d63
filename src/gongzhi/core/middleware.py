"""Middleware for the server-rendered pages.

* :class:`DomainErrorMiddleware` turns the domain's refusals raised in a view into pages: ``NotFound`` → the
  404 page (out of scope looks exactly like absent), ``Forbidden`` → 403, ``ValidationFailed`` (and any other
  ``DomainError``) → a 400 page listing the details. An HTMX request gets a small fragment instead of a whole
  page, and an HTMX request whose session has ended is sent to the log-in page (``HX-Redirect``) instead of
  having the log-in form swapped into a panel.
* :class:`LockoutPageMiddleware` replaces django-axes' plain-text lockout answer with a page of the site that
  says the same thing. It must sit *before* ``axes.middleware.AxesMiddleware`` so that it sees axes' answer.

The API (``/api/v1/``) handles these errors itself (django-ninja catches them inside the view), so they never
reach this middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError, Forbidden, NotFound


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_htmx(request) and response.status_code == 302:
            login_url = resolve_url(settings.LOGIN_URL)
            location = response.get("Location", "")
            if location.startswith(login_url):
                # The session ended: reload the whole page on the log-in form, not inside the panel.
                redirect = HttpResponse(status=204)
                redirect["HX-Redirect"] = location
                return redirect
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            template, status = "404.html", 404
        elif isinstance(exception, Forbidden):
            template, status = "403.html", 403
        else:
            template, status = "400.html", exception.status if 400 <= exception.status < 500 else 400
        if is_htmx(request):
            template = "error_fragment.html"
        context = {"error": exception, "status": status, "details": exception.details}
        return render(request, template, context, status=status)


class LockoutPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "axes_locked_out", False)
            and not request.path_info.startswith("/api/")
            and response.status_code == getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
            and response.get("Content-Type", "").startswith("text/html")
            and request.headers.get("X-Requested-With") != "XMLHttpRequest"
        ):
            from axes.helpers import get_lockout_message

            message = get_lockout_message()
            if getattr(request, "gongzhi_address_locked_out", False):  # accounts.auth.AddressLockoutBackend
                message = _("Too many failed log-ins from this connection; try again in 15 minutes.")
            return render(request, "lockout.html", {"message": message}, status=response.status_code)
        return response
