"""Test helpers shared by every app: a JSON API client and the generic permission matrix.

The permission matrix places every role somewhere in a territory, makes for each scoped model one object on
that role's ground and one on another subdistrict's ground, and asserts for every action that
``restrict(user, action)`` admits the first exactly when the role policy allows the action, and never the second.
``tests/test_permission_matrix.py`` lists the models (a :class:`MatrixModel` each) and runs it.
"""

from __future__ import annotations

import importlib
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


# Rows the data migrations write, keyed by a model whose empty table says they are gone. A transactional test (the
# live server's, the concurrency tests') flushes the database when it ends, so whatever runs on it later (another
# transactional test, a demo build in a test module) puts them back first.
MIGRATION_SEEDS = (
    ("cases.Category", "gongzhi.cases.migrations.0002_categories", "load"),
    ("cases.Category", "gongzhi.cases.migrations.0015_facility_categories", "load"),
    ("disputes.DisputeKind", "gongzhi.disputes.migrations.0001_initial", "seed_kinds"),
    ("participation.NeedCategory", "gongzhi.participation.migrations.0002_need_categories", "seed"),
    ("service.PostKind", "gongzhi.service.migrations.0002_default_post_kinds", "add_kinds"),
    ("meetings.MeetingKind", "gongzhi.meetings.migrations.0001_meetings", "seed_kinds"),
)


def restore_migration_rows() -> None:
    """Run the seeding functions of :data:`MIGRATION_SEEDS` whose table is empty (as the migrations ran them)."""
    from django.apps import apps

    empty = {label for label, *_ in MIGRATION_SEEDS if not apps.get_model(label).objects.exists()}
    for label, module, function in MIGRATION_SEEDS:
        if label in empty:
            getattr(importlib.import_module(module), function)(apps, None)
