"""Failed log-ins are limited per client address across usernames, not only per username + address (django-axes)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from gongzhi.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 6


@pytest.fixture(autouse=True)
def _limit(settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "login_failed_address": f"{LIMIT}/15m"}


def _token(client, username, password, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}),
        content_type="application/json",
        **extra,
    )


def test_one_password_across_many_usernames_locks_the_address(client):  # type: ignore[no-untyped-def]
    victim = UserFactory()
    # One failure per username (axes alone never locks any of them), half through the page, half through the API,
    # each with a made-up X-Forwarded-For that must not count as another client.
    for i in range(LIMIT):
        spoof = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"}
        if i % 2:
            assert _token(client, f"guess{i}", "Password123!", **spoof).status_code == 401
        else:
            response = client.post(reverse("login"), {"username": f"guess{i}", "password": "Password123!"}, **spoof)
            assert response.status_code == 200
    # The address is locked out now, even with a right password, for the page and the API.
    response = client.post(reverse("login"), {"username": victim.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "此网络连接登录失败次数过多" in response.content.decode()
    response = _token(client, victim.username, PASSWORD)
    assert response.status_code == 429 and response.json()["error"]["code"] == "locked_out"
    # Another address is not.
    assert _token(client, victim.username, PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_a_successful_log_in_does_not_clear_the_address_count(client):  # type: ignore[no-untyped-def]
    insider = UserFactory()
    for i in range(LIMIT - 1):
        assert _token(client, f"guess{i}", "Password123!").status_code == 401
    assert _token(client, insider.username, PASSWORD).status_code == 200
    assert _token(client, "guess-last", "Password123!").status_code == 401
    assert _token(client, insider.username, PASSWORD).status_code == 429


def test_a_few_failures_of_one_office_do_not_lock_it(client):  # type: ignore[no-untyped-def]
    user = UserFactory()
    for i in range(LIMIT - 1):
        assert _token(client, f"colleague{i}", "typo-typo").status_code == 401
    assert _token(client, user.username, PASSWORD).status_code == 200
