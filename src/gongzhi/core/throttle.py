"""Rate limits counted in the database, shared by every web worker (and every server in front of one database).

A limit is a number of events per period (``Rate.parse("20/h")``) for one client (``core.http.client_ip``) and one
purpose (the scope). The count is a sliding window approximated by two fixed slots: the current slot's count plus
the previous slot's weighted by how much of it still lies inside the window. Adding to a slot is one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite and PostgreSQL): atomic, so workers never lose a count.

The limits are ``settings.GONGZHI_RATES`` by scope. :class:`SharedRateThrottle` is the django-ninja throttle of the
public API; the resident pages call :func:`hit_request`.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from gongzhi.core import sql
from gongzhi.core.http import client_ip
from gongzhi.core.models import RateCount

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CLEANUP_CHANCE = 1 / 64  # a new slot's row deletes the expired ones this often

now = time.time  # tests move the clock through this


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"20/h"``, ``"5/15m"``, ``"100/d"``."""
        count, _, per = text.partition("/")
        unit = per.lstrip("0123456789")
        return cls(int(count), int(per[: len(per) - len(unit)] or 1) * PERIODS[unit[:1]])


def _ident(scope: str, ident: str) -> str:
    key = f"{scope}:{ident}"
    return key if len(key) <= 200 else f"{scope[:100]}:{hashlib.sha256(ident.encode()).hexdigest()}"


def _table() -> str:
    return connection.ops.quote_name(RateCount._meta.db_table)


def _estimate(key: str, rate: Rate, at: float, current: int) -> float:
    slot = int(at // rate.period)
    with connection.cursor() as cursor:
        cursor.execute(sql.count_in_slot(_table()), [key, slot - 1])
        row = cursor.fetchone()
    previous = row[0] if row else 0
    return current + previous * (1 - (at % rate.period) / rate.period)


def add(scope: str, ident: str, rate: Rate) -> float:
    """Count one event; return the events in the window, this one included."""
    key, at = _ident(scope, ident), now()
    slot = int(at // rate.period)
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(sql.add_one(table), [key, slot, (slot + 2) * rate.period])
        current = cursor.fetchone()[0]
        if current == 1 and random.random() < CLEANUP_CHANCE:
            cursor.execute(sql.delete_expired(table), [int(at)])
    return _estimate(key, rate, at, current)


def count(scope: str, ident: str, rate: Rate) -> float:
    """The events in the window, without adding one."""
    key, at = _ident(scope, ident), now()
    with connection.cursor() as cursor:
        cursor.execute(sql.count_in_slot(_table()), [key, int(at // rate.period)])
        row = cursor.fetchone()
    return _estimate(key, rate, at, row[0] if row else 0)


def hit(scope: str, ident: str, rate: Rate) -> bool:
    """Count one request; ``True`` while the client is within the rate (a refused request counts too)."""
    return add(scope, ident, rate) <= rate.limit


def rate_of(scope: str) -> Rate:
    """The limit of ``scope`` in ``settings.GONGZHI_RATES``."""
    return Rate.parse(settings.GONGZHI_RATES[scope])


def hit_request(request: HttpRequest, scope: str) -> bool:
    """Count one request of this client for ``scope``; ``True`` while within its rate."""
    return hit(scope, client_ip(request), rate_of(scope))


class SharedRateThrottle(BaseThrottle):
    """A django-ninja throttle for anonymous endpoints: the rate of ``scope`` per client address."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def allow_request(self, request: HttpRequest) -> bool:
        return hit_request(request, self.scope)

    def wait(self) -> int | None:
        return rate_of(self.scope).period
