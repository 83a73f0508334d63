"""Project-wide pytest fixtures."""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_outside_requests():  # type: ignore[no-untyped-def]
    """Code called directly by a test (a service, a selector) speaks English, the language its messages are written
    in, so that tests can read them; a request still gets its own language from ``LocaleMiddleware`` (Chinese by
    default, English with ``Accept-Language: en``), and keeps it on the thread after it until the test ends."""
    with translation.override("en"):
        yield


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _rows_the_migrations_seed(request: pytest.FixtureRequest) -> None:
    if not _transactional(request):
        return
    from gongzhi.core.testing import restore_migration_rows

    request.getfixturevalue("transactional_db")
    restore_migration_rows()  # a transactional test runs on a database an earlier one may have flushed


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
