"""Typing help for API views (ninja puts the authenticated user on ``request.auth``), the client's address, and the
small helpers every page view uses (a number from the query string, a refusal shown as a message)."""

from __future__ import annotations

import datetime
import functools
import ipaddress
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from gongzhi.core.errors import DomainError

if TYPE_CHECKING:
    # django-stubs' placeholder for settings.AUTH_USER_MODEL (core knows no app, so not accounts' User by name)
    from django.contrib.auth.models import _User


class ApiRequest(HttpRequest):
    auth: _User  # the signed-in user, on every endpoint that requires one (the public endpoints never read it)


class AuthedRequest(HttpRequest):
    """A page's request behind ``login_required``: its user is signed in (never ``AnonymousUser``)."""

    user: _User


# --- Page views -----------------------------------------------------------------------------------------------------


def int_param(value: Any) -> int | None:
    """A number from a query string or a form field; ``None`` when it is missing or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def date_param(value: Any) -> datetime.date | None:
    """A day from a query string or a form field (``2026-12-31``); ``None`` when missing, unreadable or a day that
    does not exist (2026-02-30)."""
    try:
        return parse_date(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def moment_param(value: Any) -> datetime.datetime | None:
    """A moment from a form field (a ``datetime-local`` input's local time, or with its offset), aware; ``None`` when
    missing, unreadable or impossible."""
    try:
        parsed = parse_datetime(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def refused(request: HttpRequest, exc: DomainError) -> None:
    """A service's refusal shown on the next page as an error message, its details after it."""
    details = "; ".join(str(d.message) for d in exc.details)
    messages.error(request, f"{exc.message} {details}".strip())


# --- The client's address -------------------------------------------------------------------------------------------


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [::1]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 1.2.3.4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``: every limit (the public endpoints' throttles, django-axes'
    log-in lock-out through ``AXES_CLIENT_IP_CALLABLE``) counts per this address.

    ``REMOTE_ADDR`` (the peer of the socket) unless that peer is one of ``settings.GONGZHI_TRUSTED_PROXIES``
    (addresses or networks). Only then is ``X-Forwarded-For`` read, from the right: each trusted proxy appended the
    address it saw, so the first address from the right that is not a trusted proxy is the client; what stands to
    its left was written by the client and is never believed. With no trusted proxy (the default) the header is
    ignored entirely."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = _networks(tuple(getattr(settings, "GONGZHI_TRUSTED_PROXIES", ())))
    peer = _address(remote)
    if not trusted or peer is None or not any(peer in net for net in trusted):
        return str(peer) if peer is not None else remote
    client = peer
    for item in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = _address(item)
        if hop is None:  # not an address: a proxy that was not configured to append one; stop at the last good hop
            break
        client = hop
        if not any(hop in net for net in trusted):
            break
    return str(client)
