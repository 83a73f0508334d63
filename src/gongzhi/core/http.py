"""Typing help for API views: ninja puts the authenticated user on ``request.auth``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ApiRequest(HttpRequest):
    auth: Any
