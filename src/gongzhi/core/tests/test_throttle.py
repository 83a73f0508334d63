"""The client's address comes from trusted proxies only, and the anonymous limits count in the shared table."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from gongzhi.core import throttle
from gongzhi.core.http import client_ip
from gongzhi.core.models import RateCount

pytestmark = pytest.mark.django_db


def _request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_ip(_request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client(settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    # nginx (127.0.0.1) behind a load balancer (10.0.0.5): what the client wrote itself, on the left, is not believed.
    assert client_ip(_request("127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5")) == "203.0.113.7"
    assert client_ip(_request("127.0.0.1", "203.0.113.7")) == "203.0.113.7"
    # A peer that is not a trusted proxy: its header is the client's own word.
    assert client_ip(_request("198.51.100.9", "203.0.113.7")) == "198.51.100.9"
    # Garbage where a proxy should have written an address: the last good hop.
    assert client_ip(_request("10.0.0.5", "junk")) == "10.0.0.5"


def test_rate_parsing() -> None:
    assert throttle.Rate.parse("20/h") == throttle.Rate(20, 3600)
    assert throttle.Rate.parse("30/15m") == throttle.Rate(30, 900)


def test_the_window_slides_and_old_rows_are_deleted(monkeypatch):  # type: ignore[no-untyped-def]
    rate = throttle.Rate(3, 100)
    clock = [1_000_000.0]
    monkeypatch.setattr(throttle, "now", lambda: clock[0])
    assert [throttle.hit("t", "a", rate) for _ in range(4)] == [True, True, True, False]
    assert throttle.hit("t", "b", rate), "another client has its own count"
    clock[0] += 150  # half of the previous slot still counts: 4 x 0.5 = 2, one more is allowed
    assert throttle.hit("t", "a", rate) and not throttle.hit("t", "a", rate)
    clock[0] += 1000
    monkeypatch.setattr(throttle, "CLEANUP_CHANCE", 1.0)
    assert throttle.hit("t", "a", rate)
    assert RateCount.objects.count() == 1, "expired slots are deleted"


def test_a_spoofed_forwarded_header_does_not_reset_the_public_limit(client, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_track": "3/h", "public_track_miss": "100/h"}
    url = "/api/v1/cases/public/track?code=ABCDEFGH23456789"
    answers = [client.get(url, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(5)]
    assert answers == [404, 404, 404, 429, 429]
    assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 404, "another address has its own count"
    # The resident page shares the same count.
    response = client.post("/cases/public/track/", {"code": "ABCDEFGH23456789"}, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_clients_are_told_apart(client, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_track": "1/h", "public_track_miss": "100/h"}
    url = "/api/v1/cases/public/track?code=ABCDEFGH23456789"
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 404
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get(url, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1").status_code == 429, "left part is ignored"
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 404


def test_django_axes_sees_the_same_client(settings):  # type: ignore[no-untyped-def]
    from axes.helpers import get_client_ip_address

    settings.GONGZHI_TRUSTED_PROXIES = ["127.0.0.1"]
    request = _request("127.0.0.1", "6.6.6.6, 203.0.113.7")
    assert get_client_ip_address(request) == client_ip(request) == "203.0.113.7"
    settings.GONGZHI_TRUSTED_PROXIES = []
    assert get_client_ip_address(request) == "127.0.0.1"
