"""API authentication: the browser session (with CSRF) or a bearer token from ``POST /api/v1/auth/token``; the
log-in lock-out per client address (django-axes locks per username + address)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from gongzhi.accounts import services
from gongzhi.core import throttle
from gongzhi.core.errors import DomainError
from gongzhi.core.http import client_ip

if TYPE_CHECKING:
    from gongzhi.accounts.models import User


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_token(key=token)
        if user is not None:
            request.user = user
        return user


# The bearer token first: a request that carries one is not a browser session, and must not fail the session
# auth's CSRF check before its token is even looked at.
API_AUTH = [BearerTokenAuth(), SessionAuth()]


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes lockout: the API's error shape for API calls, the log-in page with a message otherwise."""
    if getattr(request, "gongzhi_address_locked_out", False):
        message = _("Too many failed log-ins from this connection; try again in 15 minutes.")
    else:
        message = _("Too many failed log-ins for this account; try again in 15 minutes.")
    if request.path.startswith("/api/"):
        error = DomainError(message=str(message), code="locked_out", status=429)
        return JsonResponse(error.as_dict(), status=429)
    return render(request, "accounts/login.html", {"locked_out": True, "lockout_message": message}, status=429)


# --- Failed log-ins per client address, whatever the usernames -----------------------------------------------------

FAILED_SCOPE = "login_failed_address"


class AddressLockoutBackend:
    """Refuses every log-in, for any username and even with the right password, from a client address
    (``core.http.client_ip``) with too many failed log-ins in the window (``settings.GONGZHI_RATES``, counted in the
    database by ``core.throttle``). django-axes locks one username at one address; this stops one password tried
    across many usernames. A successful log-in does not reset it (axes' reset would let an attacker with one account
    clear the count). Comes after axes' backend in ``AUTHENTICATION_BACKENDS``; the refusal is axes' lockout
    answer (``lockout_response``), with its own message. It has no ``get_user`` (as axes' backend has none): a
    session is always tied to the model backend."""

    def authenticate(
        self, request: HttpRequest | None, username: Any = None, password: Any = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        rate = throttle.rate_of(FAILED_SCOPE)
        if throttle.count(FAILED_SCOPE, client_ip(request), rate) >= rate.limit:
            # django-axes' flags, read off the request by its lockout handling (unknown to HttpRequest's type)
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = {"username": username}  # type: ignore[attr-defined]
            request.gongzhi_address_locked_out = True  # type: ignore[attr-defined]
            raise PermissionDenied
        return None


def count_failed_login(sender: Any, credentials: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_login_failed``: one more failure for the client's address, unless the attempt was refused by a lock-out
    before its password was tried (axes records a tried password in ``axes_failures_since_start``)."""
    if request is None:
        return
    if getattr(request, "axes_locked_out", False) and getattr(request, "axes_failures_since_start", None) is None:
        return
    throttle.add(FAILED_SCOPE, client_ip(request), throttle.rate_of(FAILED_SCOPE))
