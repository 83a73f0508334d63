"""Project-wide pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def tree(db):  # type: ignore[no-untyped-def]
    from gongzhi.territory.tests.factories import build_tree

    return build_tree()


@pytest.fixture
def other_tree(db):  # type: ignore[no-untyped-def]
    from gongzhi.territory.tests.factories import build_tree

    return build_tree(code="210113002", origin=(123.50, 41.90))


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    """A JSON API client; ``api.as_user(user)`` logs a user in by bearer token."""
    from gongzhi.core.testing import ApiClient

    return ApiClient(client)
