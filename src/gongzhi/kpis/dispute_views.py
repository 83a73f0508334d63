"""The dispute figures (矛盾纠纷) of a place and period, and the disputes (or police notices) behind each figure.

The figures come from :mod:`gongzhi.kpis.disputes` (on ``disputes.selectors``); the period and place controls are the
dashboard's (``KpiQuery``). Every value links to its list, whose count is the figure's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts import pages
from gongzhi.core.http import AuthedRequest
from gongzhi.kpis import disputes, selectors

DRILL_PAGE_SIZE = 50


def _link(query: Any, key: str, part: str = disputes.NUM) -> str:
    params = {**selectors.query_params(query), "figure": key}
    if part != disputes.NUM:
        params["part"] = part
    return f"{reverse('kpis-disputes-drill')}?{urlencode(params)}"


@login_required
@pages.page("kpis-dashboard")
def figures(request: AuthedRequest) -> HttpResponse:
    """The dispute figures: the cards, then by kind, place, month and tier; each value opens its list."""
    user = request.user
    query = selectors.query_from_params(user=user, params=request.GET)
    cards = [{"f": f, "url": _link(query, f.key), "den_url": _link(query, f.key, disputes.DEN) if f.denominator
              is not None else ""} for f in disputes.headline(user=user, query=query)]  # fmt: skip
    if request.GET.get("fragment") == "cards":  # the dashboard's dispute row, loaded when scrolled to
        return render(request, "kpis/_dispute_cards.html", {"cards": cards, "all_url": f"{reverse('kpis-disputes')}?"
                      f"{urlencode(selectors.query_params(query))}"})  # fmt: skip
    groups = {
        name: [{"f": f, "url": _link(query, f.key)} for f in rows]
        for name, rows in disputes.breakdowns(user=user, query=query).items()
    }
    context = {
        "query": query,
        "qs": urlencode(selectors.query_params(query)),
        "cards": cards,
        "groups": groups,
        "total_url": _link(query, "total"),
    }
    return render(request, "kpis/disputes.html", context)


@login_required
@pages.page("kpis-dashboard")
def drill(request: AuthedRequest) -> HttpResponse:
    """The disputes (or police notices) a figure counts, 50 a page; the count is the figure's."""
    user = request.user
    query = selectors.query_from_params(user=user, params=request.GET)
    key = request.GET.get("figure", "")
    part = disputes.DEN if request.GET.get("part") == disputes.DEN else disputes.NUM
    what, rows = disputes.drill(user=user, query=query, key=key, part=part)
    page = Paginator(rows, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "query": query,
        "qs": urlencode(selectors.query_params(query)),
        "label": disputes.label_of(key),
        "part": part,
        "what": what,
        "page": page,
        "now": timezone.now(),
    }
    return render(request, "kpis/disputes_drill.html", context)
