"""Middleware for the server-rendered pages.

* :class:`DomainErrorMiddleware` turns the domain's refusals raised in a view into pages: ``NotFound`` → the
  404 page (out of scope looks exactly like absent), ``Forbidden`` → 403, ``ValidationFailed`` (and any other
  ``DomainError``) → a 400 page listing the details. An HTMX request gets a small fragment instead of a whole
  page, and an HTMX request whose session has ended is sent to the log-in page (``HX-Redirect``) instead of
  having the log-in form swapped into a panel.
* A database that stays locked past its busy timeout (SQLite's "database is locked" while a long import writes;
  PostgreSQL's lock timeout) is not the user's fault and passes: the page answers **503** with ``Retry-After``,
  never the HTML 500.
* Under ``/api/`` every error is the API's error shape (``core.errors``), whoever made it: django-ninja's handlers
  (``config/api.py``) answer for what a view raises; what they let through is answered here — an exception
  (503 for a locked database, 400 for a malformed multipart body, else a logged 500) and any error response that is
  not in the shape (ninja's plain-text 405, Django's HTML 400 for a request body it cannot parse, …).
* :class:`LockoutPageMiddleware` replaces django-axes' plain-text lockout answer with a page of the site that
  says the same thing. It must sit *before* ``axes.middleware.AxesMiddleware`` so that it sees axes' answer.

The API (``/api/v1/``) handles the domain's errors itself (django-ninja catches them inside the view).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext

from gongzhi.core.errors import DomainError, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.schemas import contains_nul, nul_message

logger = logging.getLogger("django.request")

# Seconds a client should wait before trying again when the database is busy (a 503's Retry-After).
RETRY_AFTER_SECONDS = 5


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def database_busy(exc: BaseException) -> bool:
    """A lock that outlived the busy timeout: SQLite's "database is locked" / "database table is locked", or
    PostgreSQL's lock timeout (SQLSTATE 55P03). Transient: the same request may succeed a moment later."""
    if not isinstance(exc, OperationalError):
        return False
    if "locked" in str(exc).lower():
        return True
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


def busy_message() -> str:
    return gettext("The database is busy (another large write is running). Please try again in a few seconds.")


def api_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse(DomainError(message=message, code=code, status=status).as_dict(), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_busy() -> JsonResponse:
    return api_error(503, "database_busy", busy_message(), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def api_exception_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The error-shape answer to an exception that escaped the API's own handlers."""
    if database_busy(exc):
        logger.warning("Database busy: %s %s: %s", request.method, request.path, exc)
        return api_busy()
    if isinstance(exc, RequestDataTooBig):
        return api_error(413, "too_large", gettext("The request body is too large."))
    if isinstance(exc, (MultiPartParserError, BadRequest, SuspiciousOperation)):
        message = gettext("The request body could not be read: %(reason)s") % {"reason": exc}
        return api_error(400, "bad_request", message)
    logger.error(
        "Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500, "request": request}
    )
    return api_error(500, "internal_error", gettext("The server could not finish this request. It has been logged."))


def api_query_with_nul(request: HttpRequest) -> HttpResponse | None:
    """A 400 naming the query parameters that hold a NUL character (PostgreSQL cannot compare or store one)."""
    fields = sorted({key for key, values in request.GET.lists() if contains_nul(key) or contains_nul(values)})
    if not fields:
        return None
    error = ValidationFailed(
        gettext("The request is not valid."), [ErrorDetail(field=f, message=nul_message()) for f in fields]
    )
    return JsonResponse(error.as_dict(), status=400)


# The code of an error response that came without the error shape, by status.
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
    500: "internal_error",
    503: "unavailable",
}


def _in_error_shape(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json") or getattr(response, "streaming", False):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]


def api_error_shape(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An API error response in the error shape (the response itself when it already is)."""
    if response.status_code < 400 or _in_error_shape(response):
        return response
    status = response.status_code
    if status == 405:
        allowed = response.get("Allow", "")
        message = gettext("Method %(method)s is not allowed here; allowed: %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed,
        }
    else:
        try:
            message = HTTPStatus(status).phrase + "."
        except ValueError:
            message = gettext("The request failed.")
    headers = {name: response[name] for name in ("Allow", "Retry-After") if response.has_header(name)}
    return api_error(status, _STATUS_CODES.get(status, "http_error"), message, headers)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            refused = api_query_with_nul(request)
            if refused is not None:
                return refused
            return api_error_shape(request, self.get_response(request))
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
        if is_api(request):
            return api_exception_response(request, exception)
        if database_busy(exception):
            logger.warning("Database busy: %s %s: %s", request.method, request.path, exception)
            busy = DomainError(message=busy_message(), code="database_busy", status=503)
            if is_htmx(request):
                response = render(request, "error_fragment.html", {"error": busy, "status": 503}, status=503)
            else:
                response = render(request, "503.html", {"error": busy}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
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
                message = gettext("Too many failed log-ins from this connection; try again in 15 minutes.")
            return render(request, "lockout.html", {"message": message}, status=response.status_code)
        return response
