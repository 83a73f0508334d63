"""The deferred-join pagination picks exactly the rows and count that slicing the full query does."""

from __future__ import annotations

import random

import pytest

from gongzhi.core.models import AuditLog
from gongzhi.core.pagination import page_of

pytestmark = pytest.mark.django_db


def test_pages_equal_slices_of_the_sorted_query() -> None:
    rng = random.Random(5)
    AuditLog.objects.bulk_create(
        AuditLog(action=rng.choice(["a", "b", "c"]), object_type="t", object_id=str(i), node_code=str(rng.randrange(4)))
        for i in range(57)
    )
    queries = [
        AuditLog.objects.order_by("node_code", "-id"),
        AuditLog.objects.filter(action="b").order_by("object_id"),
        AuditLog.objects.filter(node_code__in=["1", "3"]).select_related("actor").order_by("-action", "id"),
        AuditLog.objects.filter(action="nothing").order_by("id"),
    ]
    for qs in queries:
        expected_count = qs.count()
        for offset, limit in ((0, 10), (10, 10), (50, 10), (0, 100), (55, 5), (57, 5), (200, 10)):
            rows, count = page_of(qs, offset, limit)
            assert [r.pk for r in rows] == [r.pk for r in qs[offset : offset + limit]]
            assert count == expected_count
    rows, count = page_of(AuditLog.objects.order_by("id"), 0, 3, only=("id", "action"))
    assert [r.action for r in rows] == list(AuditLog.objects.order_by("id").values_list("action", flat=True)[:3])
    assert count == 57 and rows[0].get_deferred_fields() >= {"object_id", "node_code"}


def test_the_page_paginator_gives_django_s_pages() -> None:
    from django.core.paginator import Paginator

    from gongzhi.core.pagination import SortKeyPaginator

    AuditLog.objects.bulk_create(
        AuditLog(action="x", object_type="t", object_id=str(i), node_code=str(i % 3)) for i in range(23)
    )
    qs = AuditLog.objects.order_by("node_code", "-id")
    for number in (1, 2, 3, "last", "9", "x"):
        ours, theirs = SortKeyPaginator(qs, 10).get_page(number), Paginator(qs, 10).get_page(number)
        assert [r.pk for r in ours] == [r.pk for r in theirs]
        assert (ours.number, ours.has_next(), ours.paginator.num_pages) == (theirs.number, theirs.has_next(), 3)
