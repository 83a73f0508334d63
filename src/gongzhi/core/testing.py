"""Test helpers shared by every app: a JSON API client and the generic permission matrix.

The permission matrix places every role somewhere in a territory, makes for each scoped model one object on
that role's ground and one on another subdistrict's ground, and asserts for every action that
``restrict(user, action)`` admits the first exactly when the role policy allows the action, and never the second.
``tests/test_permission_matrix.py`` lists the models (a :class:`MatrixModel` each) and runs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.test import Client

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

PASSWORD = "Correct-Horse-42"  # every test user's password (accounts.tests.factories uses it)


class ApiClient:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    def as_user(self, user: AbstractUser, password: str | None = None) -> ApiClient:
        response = self.client.post(
            "/api/v1/auth/token",
            data=json.dumps({"username": user.username, "password": password or PASSWORD}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}
        return self

    def _call(self, method: str, url: str, data: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        kwargs.update(extra)
        return getattr(self.client, method)(url, **kwargs)

    def get(self, url: str, **extra: Any) -> Any:
        return self._call("get", url, **extra)

    def post(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self._call("post", url, data, **extra)

    def patch(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self._call("patch", url, data, **extra)

    def put(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self._call("put", url, data, **extra)

    def delete(self, url: str, **extra: Any) -> Any:
        return self._call("delete", url, **extra)


@dataclass(frozen=True)
class Ground:
    """Where a role stands: its place (node), the body it acts for, and the objects a test builds there."""

    node: Any
    body: Any


@dataclass(frozen=True)
class MatrixModel:
    model: type[models.Model]
    make: Callable[[Ground], models.Model]  # one object on this ground
    detail_url: Callable[[models.Model], str] | None = None
    personal: Callable[[models.Model], list[str]] | None = None  # raw personal values that must never leak

