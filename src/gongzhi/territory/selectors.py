"""Reads of the territory. Every function that serves a user starts from ``restrict(user, action)``."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.db import connection
from django.db.models import Count, Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from shapely.geometry import shape

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, Text, ValidationFailed
from gongzhi.core.scope import ancestor_codes, code_prefix_q, scope_of
from gongzhi.territory import geo
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg

# A building "at" a reported point: the nearest one of the grid within this many metres.
BUILDING_REACH_M = 80.0
_M_PER_DEG_LAT = 111_000
_COS_LAT = 0.745  # cos(41.9°): metres per degree of longitude at the demo's latitude, as a fraction of a degree of
# latitude (the distances compared are short, so one factor serves)


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
        qs = qs.filter(code_prefix_q("code", root.code))
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
        .filter(code_prefix_q("code", node.code))
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
    message: Text


def _check_point(*, lat: float, lng: float) -> None:
    details = []
    if not -90 <= lat <= 90:
        details.append(ErrorDetail(field="lat", message=_("latitude must be between -90 and 90")))
    if not -180 <= lng <= 180:
        details.append(ErrorDetail(field="lng", message=_("longitude must be between -180 and 180")))
    if details:
        raise ValidationFailed(_("The point is not a valid WGS-84 position."), details)


def _grid_rows(*, lat: float, lng: float, query: Callable[[int], list[Node]]) -> tuple[int | None, list[Node]]:
    """The grid a point lies in by this process's grid index, and the rows ``query(grid_id)`` reads for it.

    ``query`` must read the index's freshness key with its rows (``geo.key_annotations``): when the key differs
    from the one the index was built with (another process changed a boundary), or the grid row is not the grid the
    index knows (a stale id), the index is rebuilt and the point located again. A point outside every grid costs
    one key query to make sure no new grid covers it.
    """
    index = geo.cached_grid_index()
    for _attempt in range(3):
        grid_id = index.locate(lat=lat, lng=lng)
        if grid_id is None:
            fresh = geo.grid_index()
            if fresh is index:
                return None, []
            index = fresh
            continue
        rows = query(grid_id)
        grid = next((row for row in rows if row.pk == grid_id), None)
        key = geo.key_of(rows[0]) if rows else None
        wrong = grid is None or grid.code != index.code_of(grid_id)  # not the grid the index was built from
        if not wrong and key == index.key:
            return grid_id, rows
        index = geo.grid_index(key, rebuild=wrong)
    # Boundaries changing under every attempt: settle on a freshly built index without comparing again.
    grid_id = geo.grid_index(rebuild=True).locate(lat=lat, lng=lng)
    return (grid_id, query(grid_id)) if grid_id is not None else (None, [])


def _sees(user: Any, node: Node) -> bool:
    """``Node.objects.restrict(user, "view").filter(pk=node.pk).exists()`` without the query: a node is in a
    user's view scope when its code lies under one of their places or one of their bodies leads it."""
    scope = scope_of(user, Node, "view")
    return not scope.is_empty and scope.covers(node.code, node.lead_body_id)


def locate(*, user: Any, lat: float, lng: float) -> Location:
    """The grid a point lies in. A point in no grid is not an error: it goes to the subdistrict desk."""
    _check_point(lat=lat, lng=lng)

    def grid_row(grid_id: int) -> list[Node]:
        qs = Node.objects.select_related("lead_body", "parent__lead_body").annotate(**geo.key_annotations())
        return list(qs.filter(pk=grid_id))

    grid_id, rows = _grid_rows(lat=lat, lng=lng, query=grid_row)
    grid = next((row for row in rows if row.pk == grid_id), None)
    if grid is None:
        fallback = _fallback_desk(lat=lat, lng=lng)
        return Location(
            None, None, fallback, False, _("The point lies outside every grid; the subdistrict desk takes it.")
        )
    return Location(
        grid, grid.parent, None, _sees(user, grid), f"{grid.parent.name if grid.parent else ''} {grid.name}".strip()
    )


@dataclass
class PointPlace:
    """Where a point is, for intake: its grid and the grid's building nearest to it (within reach), or the desk
    that takes a point outside every grid."""

    grid: Node | None
    building: Node | None
    fallback: Node | None


def place_of_point(*, lat: float, lng: float, within_m: float = BUILDING_REACH_M) -> PointPlace:
    """The grid of a point and its nearest building in one query (the grid row, the grid's buildings in a box of
    ``within_m`` around the point, and the grid index's freshness key), the same answer as :func:`locate` followed
    by :func:`nearest_building`. Not scoped: a case may be reported anywhere; the case's own scope applies after."""
    _check_point(lat=lat, lng=lng)

    def grid_and_buildings(grid_id: int) -> list[Node]:
        near = _near_box(lat=lat, lng=lng, within_m=within_m)
        sql, key_params = _place_sql()
        params = [*key_params, grid_id, grid_id, NodeKind.BUILDING.value, *near["centroid_lat__range"]]
        rows = list(Node.objects.raw(sql, [*params, *near["centroid_lng__range"]]))
        for row in rows:  # the lead body's id and name (the rest loads on demand), as a case's owner needs them
            name = row.lead_body_name  # type: ignore[attr-defined]
            row.lead_body = Body.from_db(connection.alias, ["id", "name"], [row.lead_body_id, name])
        return rows

    grid_id, rows = _grid_rows(lat=lat, lng=lng, query=grid_and_buildings)
    grid = next((row for row in rows if row.pk == grid_id), None)
    if grid is None:
        return PointPlace(None, None, _fallback_desk(lat=lat, lng=lng))
    buildings = [row for row in rows if row.parent_id == grid_id and row.kind == NodeKind.BUILDING]
    return PointPlace(grid, _nearest(buildings, lat=lat, lng=lng, within_m=within_m), None)


@functools.cache
def _place_sql() -> tuple[str, list[Any]]:
    """The query of :func:`place_of_point`: the grid row, its buildings in a box (without their polygons: the index
    holds the grids', and a case needs none), the lead body's name and the grid index's key. Written once in SQL
    rather than composed by the ORM on every intake (composing it cost more CPU than running it); the table and
    column names come from the models."""
    q = connection.ops.quote_name

    def column(model: type[Model], name: str, alias: str) -> str:
        return f"{alias}.{q(str(model._meta.get_field(name).column))}"  # type: ignore[union-attr]

    def n(name: str) -> str:
        return column(Node, name, "n")

    key_sql, key_params = geo.key_sql()
    sql = (
        f"SELECT {', '.join(n(f.name) for f in Node._meta.concrete_fields if f.name != 'boundary')}, "
        f"{column(Body, 'name', 'b')} AS lead_body_name, ({key_sql}) AS _grids_key "
        f"FROM {q(Node._meta.db_table)} n INNER JOIN {q(Body._meta.db_table)} b ON {column(Body, 'id', 'b')} = "
        f"{n('lead_body')} WHERE {n('id')} = %s OR ({n('parent')} = %s AND {n('kind')} = %s "
        f"AND {n('centroid_lat')} BETWEEN %s AND %s AND {n('centroid_lng')} BETWEEN %s AND %s) ORDER BY {n('code')}"
    )
    return sql, key_params


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


def _near_box(*, lat: float, lng: float, within_m: float) -> dict[str, tuple[float, float]]:
    """Filters for the centroids within a box around a point that holds every one ``_nearest`` may accept (with a
    margin, so that rounding in SQL never drops one the distance below keeps)."""
    dlat = within_m / _M_PER_DEG_LAT * 1.001 + 1e-9
    dlng = within_m / (_M_PER_DEG_LAT * _COS_LAT) * 1.001 + 1e-9
    return {"centroid_lat__range": (lat - dlat, lat + dlat), "centroid_lng__range": (lng - dlng, lng + dlng)}


def _nearest(candidates: Iterable[Node], *, lat: float, lng: float, within_m: float) -> Node | None:
    """The nearest candidate within ``within_m`` metres; on a tie the first (candidates come in code order)."""
    best: tuple[float, Node] | None = None
    for b in candidates:
        if b.centroid_lat is None or b.centroid_lng is None:
            continue
        dy = (b.centroid_lat - lat) * _M_PER_DEG_LAT
        dx = (b.centroid_lng - lng) * _M_PER_DEG_LAT * _COS_LAT
        d = (dx * dx + dy * dy) ** 0.5
        if d <= within_m and (best is None or d < best[0]):
            best = (d, b)
    return best[1] if best else None


def nearest_building(*, grid: Node, lat: float, lng: float, within_m: float = BUILDING_REACH_M) -> Node | None:
    """The building of ``grid`` nearest to a point, if one stands within ``within_m`` metres (one indexed query:
    the grid's buildings in a box around the point)."""
    near = _near_box(lat=lat, lng=lng, within_m=within_m)
    candidates = Node.objects.filter(parent=grid, kind=NodeKind.BUILDING, **near).select_related("lead_body")
    return _nearest(candidates.order_by("code"), lat=lat, lng=lng, within_m=within_m)


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
