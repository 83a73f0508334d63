"""API authentication: the browser session (with CSRF) or a bearer token from ``POST /api/v1/auth/token``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from gongzhi.accounts import services
from gongzhi.core.errors import DomainError


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.user_for_token(key=token)
        if user is not None:
            request.user = user
        return user


# The bearer token first: a request that carries one is not a browser session, and must not fail the session
# auth's CSRF check before its token is even looked at.
API_AUTH = [BearerTokenAuth(), SessionAuth()]


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes lockout: the API's error shape for API calls, the log-in page with a message otherwise."""
    message = _("Too many failed log-ins for this account; try again in 15 minutes.")
    if request.path.startswith("/api/"):
        error = DomainError(message=str(message), code="locked_out", status=429)
        return JsonResponse(error.as_dict(), status=429)
    return render(request, "accounts/login.html", {"locked_out": True, "lockout_message": message}, status=429)
