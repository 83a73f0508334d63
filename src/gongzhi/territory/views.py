"""Pages of the territory browser: the tree, the map and the panel of one place.

Reads only through :mod:`gongzhi.territory.selectors` (scope applied there; out of scope raises ``NotFound``,
which the error middleware turns into the 404 page). The staff of a place belong to the accounts app, which this
app must not import: the panel loads them from an accounts URL by HTMX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.core import pageguard
from gongzhi.core.errors import NotFound
from gongzhi.core.http import AuthedRequest
from gongzhi.territory import selectors
from gongzhi.territory.choices import COUNTED_KINDS, NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from django.contrib.auth.models import _User  # django-stubs: settings.AUTH_USER_MODEL

# Kinds shown in the tree; households are counted, never listed there.
TREE_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID, NodeKind.BUILDING)
EXPANDABLE_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
MAX_LISTED_CHILDREN = 500


def count_rows(node: Node, counts: dict[str, int]) -> list[dict[str, Any]]:
    """``children_counts`` as rows for a template: the kinds below ``node``, in order, with their labels."""
    rows = [
        {"kind": kind.value, "label": kind.label, "count": counts.get(kind.value, 0)}
        for kind in COUNTED_KINDS[NodeKind(node.kind)]
    ]
    # A subdistrict of only communities (or only villages) need not show "villages: 0".
    if counts.get(NodeKind.COMMUNITY) or counts.get(NodeKind.VILLAGE):
        rows = [r for r in rows if r["count"] or r["kind"] not in (NodeKind.COMMUNITY, NodeKind.VILLAGE)]
    return rows


def _children(user: _User, node: Node) -> tuple[list[dict[str, Any]], bool]:
    """The places directly under ``node`` (no households), each with its own counts."""
    qs = selectors.node_list(user=user, parent_id=node.pk).exclude(kind=NodeKind.HOUSEHOLD)
    rows = list(qs[: MAX_LISTED_CHILDREN + 1])
    truncated = len(rows) > MAX_LISTED_CHILDREN
    return [
        {
            "node": child,
            "counts": count_rows(child, selectors.children_counts(user=user, node=child)),
            "expandable": child.kind in EXPANDABLE_KINDS,
        }
        for child in rows[:MAX_LISTED_CHILDREN]
    ], truncated


def _panel_context(request: AuthedRequest, node: Node) -> dict[str, Any]:
    user = request.user
    ancestors = selectors.node_ancestors(node=node)
    grid = next((n for n in [*ancestors, node] if n.kind == NodeKind.GRID), None)
    children, truncated = _children(user, node)
    return {
        "node": node,
        "ancestors": ancestors,
        "grid": grid,
        "counts": count_rows(node, selectors.children_counts(user=user, node=node)),
        "co_bodies": selectors.co_bodies(node=node),
        "party_orgs": selectors.party_orgs_on(node=node),
        "children": children,
        "children_truncated": truncated,
        "browser_url": f"{reverse('territory-browser')}?node={node.pk}",
    }


@login_required
@pageguard.page("territory-browser")
def browser(request: AuthedRequest) -> HttpResponse:
    """The tree of the user's scope beside the map of their grids; ``?node=<id>`` opens a place's panel."""
    context: dict[str, Any] = {
        "roots": [
            {"node": root, "expandable": root.kind in EXPANDABLE_KINDS}
            for root in selectors.scope_roots(user=request.user)
        ],
        "map_strings": {
            "loading": _("Loading the map…"),
            "none": _("No grid in your scope has a boundary yet."),
            "failed": _("The grid boundaries could not be loaded."),
            "grids": _("Grids on the map: %(count)s"),
            "legend": _("Communities and villages"),
        },
    }
    selected = request.GET.get("node", "")
    if selected:
        try:
            node = selectors.node_get(user=request.user, node_id=int(selected))
        except (NotFound, ValueError):
            node = None
        if node is not None:
            context["panel"] = _panel_context(request, node)
    return render(request, "territory/browser.html", context)


@login_required
def node_children(request: AuthedRequest, node_id: int) -> HttpResponse:
    """HTMX partial: the next level of the tree under a place."""
    node = selectors.node_get(user=request.user, node_id=node_id)
    children, truncated = _children(request.user, node)
    return render(
        request, "territory/_tree_children.html", {"parent": node, "children": children, "truncated": truncated}
    )


@login_required
def node_panel(request: AuthedRequest, node_id: int) -> HttpResponse:
    """HTMX partial: the side panel of a place (what the map and the tree open)."""
    node = selectors.node_get(user=request.user, node_id=node_id)
    return render(request, "territory/_node_panel.html", _panel_context(request, node))


@login_required
def node_page(request: AuthedRequest, node_id: int) -> HttpResponse:
    """The panel as a page of its own: for phones and deep links."""
    node = selectors.node_get(user=request.user, node_id=node_id)
    return render(request, "territory/node.html", _panel_context(request, node))
