"""Open311 ``GET requests.json`` (issue 24; docs/open311.md) against the plain scoped case list, in one run.

Two queries, each both ways, timed ``reps`` times after a warm-up:

* **default**: the spec's default window (the last 90 days, newest first, at most 1,000);
* **filtered**: the same with the most reported category's ``service_code`` and ``status=open``.

The Open311 side is the whole view (``open311.views.requests`` through a ``RequestFactory`` request with a bench
key: the key check, its rate counter, the filters, the 1,000 rows, their public notes and the JSON); the baseline is
the project's own scoped list for the operator (``cases.selectors.case_list``, the same filters, the first 1,000
rows read into objects).
"""

from __future__ import annotations

import argparse
import statistics
from datetime import timedelta
from typing import Any


def bench_open311(args: argparse.Namespace, res: Any) -> None:
    from django.db.models import Count
    from django.test import RequestFactory
    from django.utils import timezone

    from bench.run import _timed, _user, ms, pct, say
    from gongzhi.cases import selectors as case_selectors
    from gongzhi.cases.choices import OPEN_STATUSES
    from gongzhi.cases.models import Case
    from gongzhi.demo import names
    from gongzhi.open311 import selectors, services, views
    from gongzhi.territory.models import Node

    operator = _user("operator")
    subdistrict = Node.objects.get(code=names.street_code(0))
    secret = services.create_key(actor=None, name="bench", subdistrict=subdistrict, rate_limit=10**9).secret
    since = timezone.now() - timedelta(days=selectors.DEFAULT_DAYS)
    top = (
        Case.objects.filter(reported_at__gte=since).values("category_id").annotate(n=Count("id")).order_by("-n").first()
    )
    assert top is not None, "no case in the last 90 days"
    from gongzhi.cases.models import Category

    category = Category.objects.get(pk=top["category_id"])
    factory = RequestFactory()
    reps = max(20, args.kpi_reps * 3)

    def open311(params: dict[str, str]) -> int:
        request = factory.get("/open311/v2/requests.json", {"api_key": secret, **params})
        response = views.requests(request, fmt="json")
        assert response.status_code == 200, response.content[:200]
        return len(response.content)

    def plain(**filters: Any) -> int:
        qs = case_selectors.case_list(user=operator, date_from=since.date(), **filters)
        return len(list(qs.select_related("category")[: selectors.MAX_REQUESTS]))

    variants = {
        "default": ({}, {}),
        "filtered": (
            {"service_code": selectors.service_code(category), "status": "open"},
            {"category_id": category.pk, "status": list(OPEN_STATUSES)},
        ),
    }
    cases = int(res.setup.get("cases") or Case.objects.count())
    size = f"{round(cases / 1_000_000)}m" if cases >= 1_000_000 else f"{round(cases / 1000)}k"  # 1 M and 10 M apart
    for label, (params, filters) in variants.items():
        open311(params), plain(**filters)  # warm
        ours = _timed(lambda params=params: open311(params), reps)
        theirs = _timed(lambda filters=filters: plain(**filters), reps)
        p99, base = pct(ours, 99), pct(theirs, 99)
        say(f"open311 {label}: p99 {ms(p99):.1f} ms, plain list p99 {ms(base):.1f} ms")
        res.add(
            f"open311_requests_{label}_{size}",
            value=ms(p99),
            unit="ms (p99)",
            baseline=ms(base),
            baseline_name="the operator's scoped case list, same filters, first 1,000 rows (cases.selectors.case_list)",
            target="p99 < 1,000 ms (≤ 1,000 rows as JSON)",
            passed=p99 < 1.0,
            p50_ms=ms(statistics.median(ours)),
            baseline_p50_ms=ms(statistics.median(theirs)),
            reps=reps,
            cases=cases,
            params=params,
            bytes=open311(params),
        )
