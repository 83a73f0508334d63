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
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import pages
from gongzhi.core.http import AuthedRequest
from gongzhi.participation import selectors as participation
from gongzhi.participation.choices import ClaimantKind, NeedStatus, ProjectState
from gongzhi.territory import selectors as territory

LISTS = {"needs": "participation-needs", "projects": "participation-projects", "wishes": "participation-wishes"}


WISH_LABELS = {
    "wishes_published": _("wishes published"),
    "wishes_waiting": _("wishes waiting to be claimed"),
    "wishes_claimed": _("wishes claimed"),
    "wishes_fulfilled": _("wishes fulfilled"),
    "wishes_confirmed": _("wishes confirmed by the wisher"),
}


def drill_url(place_id: int, drill: dict[str, Any]) -> str:
    params = {"place": place_id, **{k: v for k, v in drill.items() if k != "list"}}  # a drill's own place wins
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
    wishes = participation.wish_figures(user=user, place=place)
    kind_labels = dict(ClaimantKind.choices)
    wish_cards = [
        {"key": f.key, "label": WISH_LABELS[f.key], "value": f.value, "url": drill_url(place.pk, f.drill)}
        for f in wishes.cards
    ]
    wish_kinds = [
        {"key": f.key, "label": kind_labels[f.key], "value": f.value, "url": drill_url(place.pk, f.drill)}
        for f in wishes.by_kind
    ]
    wish_communities = [
        {"community": c, "cells": [{"key": f.key, "value": f.value, "url": drill_url(place.pk, f.drill)} for f in row]}
        for c, row in wishes.by_community
    ]
    return render(
        request,
        "kpis/participation.html",
        {
            "place": place,
            "cards": cards,
            "units": units,
            "wish_cards": wish_cards,
            "wish_kinds": wish_kinds,
            "wish_communities": wish_communities,
            "days_to_fulfil": wishes.days_to_fulfil,
            "communities": participation.communities(user=user),
        },
    )
