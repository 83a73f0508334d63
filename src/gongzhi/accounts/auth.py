"""API authentication: the browser session (with CSRF) or a bearer token from ``POST /api/v1/auth/token``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from gongzhi.accounts import services


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.user_for_token(key=token)
        if user is not None:
            request.user = user
        return user


API_AUTH = [SessionAuth(), BearerTokenAuth()]
