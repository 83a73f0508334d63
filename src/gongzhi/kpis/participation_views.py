"""Participation figures (三张清单, issue 20): a place's needs open / matched / closed, projects by state,
beneficiaries reached and each unit's contribution. Every value links to the list whose rows make it (the needs or
projects list with the same place and filter): the count shown is that list's total (``kpis/tests``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from gongzhi.accounts import pages
from gongzhi.core.http import AuthedRequest
from gongzhi.participation import selectors as participation
from gongzhi.participation.choices import NeedStatus, ProjectState
from gongzhi.territory import selectors as territory

LISTS = {"needs": "participation-needs", "projects": "participation-projects"}


def drill_url(place_id: int, drill: dict[str, Any]) -> str:
    params = {"place": place_id, **{k: v for k, v in drill.items() if k != "list"}}
    return f"{reverse(LISTS[drill['list']])}?{urlencode(params)}"


@login_required
@pages.page("kpis-participation")
def figures(request: AuthedRequest) -> HttpResponse:
    user = request.user
    place_id = request.GET.get("place")
    roots = territory.scope_roots(user=user)
    place = territory.node_get(user=user, node_id=int(place_id)) if place_id and place_id.isdigit() else None
    place = place or (roots[0] if roots else None)
    if place is None:
        return render(request, "kpis/participation.html", {"place": None})
    data = participation.figures(user=user, place=place)
    labels = {f"needs_{k}": v for k, v in NeedStatus.choices} | {f"projects_{k}": v for k, v in ProjectState.choices}
    cards = [
        {"key": f.key, "label": labels.get(f.key, ""), "value": f.value, "url": drill_url(place.pk, f.drill)}
        for f in data["figures"]
    ]
    units = [
        {"row": u, "url": drill_url(place.pk, {"list": "projects", "unit": u.unit_id})} for u in data["units"]
    ]
    return render(
        request,
        "kpis/participation.html",
        {
            "place": place,
            "cards": cards,
            "units": units,
            "communities": participation.communities(user=user),
        },
    )
