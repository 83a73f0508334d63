"""Reads of the territory. Every function that serves a user starts from ``restrict(user, action)``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.db.models import Count, Q, QuerySet
from shapely.geometry import shape

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.scope import ancestor_codes
from gongzhi.territory import geo
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg


def co_jurisdiction_codes(body_ids: set[int]) -> dict[int, set[str]]:
    """For each body, the codes of the places it co-covers (used to build a user's scope)."""
    out: dict[int, set[str]] = defaultdict(set)
    for body_id, code in CoJurisdiction.objects.filter(body_id__in=body_ids).values_list("body_id", "node__code"):
        out[body_id].add(code)
    return out


def node_list(
    *,
    user: Any,
    kind: str | None = None,
    parent_id: int | None = None,
    within_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Node]:
    qs = Node.objects.restrict(user, "view").select_related("lead_body")
    if kind:
        qs = qs.filter(kind=kind)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(code__startswith=root.code)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q) | Q(address__icontains=q))
    return qs.order_by("code")


def node_get(*, user: Any, node_id: int, action: str = "view") -> Node:
    return get_in_scope(Node, user, node_id, action, queryset=Node.objects.select_related("lead_body", "parent"))


def scope_roots(*, user: Any) -> list[Node]:
    """The topmost places the user can see: where their territory browser starts."""
    visible = Node.objects.restrict(user, "view")
    codes = list(visible.exclude(kind=NodeKind.HOUSEHOLD).order_by("code").values_list("code", flat=True)[:20000])
    roots: list[str] = []
    for code in sorted(codes, key=lambda c: (len(c), c)):
        if not any(code.startswith(root) for root in roots):
            roots.append(code)
    return list(Node.objects.filter(code__in=roots).select_related("lead_body").order_by("code"))


def node_ancestors(*, node: Node) -> list[Node]:
    """The path from the root to ``node`` (the breadcrumb). Ancestors are context, shown to whoever sees the node."""
    by_code = {n.code: n for n in Node.objects.filter(code__in=ancestor_codes(node.code))}
    return [by_code[c] for c in ancestor_codes(node.code) if c in by_code]


def children_counts(*, user: Any, node: Node) -> dict[str, int]:
    rows = (
        Node.objects.restrict(user, "view")
        .filter(code__startswith=node.code)
        .exclude(pk=node.pk)
        .values("kind")
        .annotate(n=Count("id"))
    )
    return {row["kind"]: row["n"] for row in rows}


def co_bodies(*, node: Node) -> list[Body]:
    """Bodies that co-cover ``node``: declared on it or on any of its ancestors."""
    codes = [*ancestor_codes(node.code), node.code]
    return list(Body.objects.filter(co_jurisdictions__node__code__in=codes).distinct().order_by("kind", "name"))


def body_list(*, user: Any, kind: str | None = None, q: str | None = None) -> QuerySet[Body]:
    qs = Body.objects.restrict(user, "view").select_related("node")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("kind", "name")


def body_get(*, user: Any, body_id: int, action: str = "view") -> Body:
    return get_in_scope(Body, user, body_id, action, queryset=Body.objects.select_related("node"))


def party_org_list(*, user: Any, kind: str | None = None, node_id: int | None = None) -> QuerySet[PartyOrg]:
    qs = PartyOrg.objects.restrict(user, "view").select_related("node", "parent")
    if kind:
        qs = qs.filter(kind=kind)
    if node_id is not None:
        qs = qs.filter(node_id=node_id)
    return qs.order_by("node__code", "kind", "name")


def party_orgs_on(*, node: Node) -> list[PartyOrg]:
    return list(PartyOrg.objects.filter(node=node).order_by("kind", "name"))


def boundaries(*, user: Any, kind: str = NodeKind.GRID, within_id: int | None = None) -> QuerySet[Node]:
    return node_list(user=user, kind=kind, within_id=within_id).filter(boundary__isnull=False)


@dataclass
class Location:
    grid: Node | None
    community: Node | None
    fallback: Node | None
    in_scope: bool
    message: str


def locate(*, user: Any, lat: float, lng: float) -> Location:
    """The grid a point lies in. A point in no grid is not an error: it goes to the subdistrict desk."""
    details = []
    if not -90 <= lat <= 90:
        details.append(ErrorDetail(field="lat", message="latitude must be between -90 and 90"))
    if not -180 <= lng <= 180:
        details.append(ErrorDetail(field="lng", message="longitude must be between -180 and 180"))
    if details:
        raise ValidationFailed("The point is not a valid WGS-84 position.", details)
    grid_id = geo.grid_index().locate(lat=lat, lng=lng)
    if grid_id is None:
        fallback = _fallback_desk(lat=lat, lng=lng)
        return Location(
            None, None, fallback, False, "The point lies outside every grid; the subdistrict desk takes it."
        )
    grid = Node.objects.select_related("lead_body", "parent__lead_body").get(pk=grid_id)
    in_scope = Node.objects.restrict(user, "view").filter(pk=grid.pk).exists()
    return Location(grid, grid.parent, None, in_scope, f"{grid.parent.name if grid.parent else ''} {grid.name}".strip())


def _fallback_desk(*, lat: float, lng: float) -> Node | None:
    roots = list(Node.objects.filter(kind=NodeKind.SUBDISTRICT).select_related("lead_body").order_by("code"))
    point = shapely.Point(lng, lat)
    for root in roots:
        if root.boundary and shape(root.boundary).covers(point):
            return root
    if not roots:
        return None
    # Nearest subdistrict by its centroid (most installations have exactly one).
    return min(roots, key=lambda r: ((r.centroid_lat or 0) - lat) ** 2 + ((r.centroid_lng or 0) - lng) ** 2)


def boundaries_geojson(*, user: Any, kind: str = NodeKind.GRID, within_id: int | None = None) -> dict[str, Any]:
    rows = boundaries(user=user, kind=kind, within_id=within_id).select_related("parent", "lead_body")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": n.id,
                "geometry": n.boundary,
                "properties": {
                    "id": n.id,
                    "code": n.code,
                    "name": n.name,
                    "kind": n.kind,
                    "parent_code": n.parent.code if n.parent else None,
                    "parent_name": n.parent.name if n.parent else None,
                    "lead_body": n.lead_body.name,
                },
            }
            for n in rows
        ],
    }


def nearest_building(*, grid: Node, lat: float, lng: float, within_m: float = 80.0) -> Node | None:
    """The building of ``grid`` nearest to a point, if one stands within ``within_m`` metres."""
    best: tuple[float, Node] | None = None
    for b in Node.objects.filter(parent=grid, kind=NodeKind.BUILDING, centroid_lat__isnull=False).select_related(
        "lead_body"
    ):
        dy = (b.centroid_lat - lat) * 111_000  # type: ignore[operator]
        dx = (b.centroid_lng - lng) * 111_000 * 0.745  # type: ignore[operator]  # cos(41.9°)
        d = (dx * dx + dy * dy) ** 0.5
        if d <= within_m and (best is None or d < best[0]):
            best = (d, b)
    return best[1] if best else None


def building_by_address(*, address: str, user: Any = None) -> Node | None:
    """A building whose name or address begins a free-text address (e.g. "金禾家苑3号楼2单元"); within the user's
    scope when a staff user gives it, anywhere for a resident without an account."""
    text = address.strip()
    if not text:
        return None
    candidates = Node.objects.filter(kind=NodeKind.BUILDING).select_related("lead_body")
    if user is not None and Node.objects.restrict(user, "view").exists():
        candidates = candidates.filter(pk__in=Node.objects.restrict(user, "view").filter(kind=NodeKind.BUILDING))
    exact = candidates.filter(Q(name=text) | Q(address=text)).first()
    if exact is not None:
        return exact
    for b in candidates.filter(Q(name__in=[text[:i] for i in range(len(text), 2, -1)])).order_by("-name")[:1]:
        return b
    return None


def default_desk(*, user: Any = None) -> Node | None:
    """The subdistrict desk that takes an unplaceable case: the user's own subdistrict if they have one."""
    roots = Node.objects.filter(kind=NodeKind.SUBDISTRICT).select_related("lead_body").order_by("code")
    if user is not None:
        mine = [r.code[:9] for r in scope_roots(user=user)]
        own = roots.filter(code__in=mine).first()
        if own is not None:
            return own
    return roots.first()


def places_for(*, user: Any, label: str, action: str, kinds: Iterable[str], limit: int = 5000) -> list[Node]:
    """The places of these kinds, in tree order, where ``user`` may ``action`` rows of model ``label`` (the areas a
    campaign, a notice or an agreement can be made for)."""
    scope = user.scope_for(label, action)
    if scope.is_empty:
        return []
    nodes = node_list(user=user).filter(kind__in=list(kinds))[:limit]
    return [node for node in nodes if scope.covers(node.code, node.lead_body_id)]
