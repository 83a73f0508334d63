"""Reads of the territory. Every function that serves a user starts from ``restrict(user, action)``."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import shapely
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from shapely.geometry import shape

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, Text, ValidationFailed
from gongzhi.core.scope import ancestor_codes, code_prefix_q, scope_of
from gongzhi.territory import geo, sql
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg

if TYPE_CHECKING:
    from django.contrib.auth.models import _User  # django-stubs: settings.AUTH_USER_MODEL

# A building "at" a reported point: the nearest one of the grid within this many metres (``geo.metres_between``).
BUILDING_REACH_M = 80.0


def co_jurisdiction_codes(body_ids: set[int]) -> dict[int, set[str]]:
    """For each body, the codes of the places it co-covers (used to build a user's scope)."""
    out: dict[int, set[str]] = defaultdict(set)
    for body_id, code in CoJurisdiction.objects.filter(body_id__in=body_ids).values_list("body_id", "node__code"):
        out[body_id].add(code)
    return out


def node_list(
    *,
    user: _User,
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


def node_get(*, user: _User, node_id: int, action: str = "view") -> Node:
    return get_in_scope(Node, user, node_id, action, queryset=Node.objects.select_related("lead_body", "parent"))


def scope_roots(*, user: _User) -> list[Node]:
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


def children_counts(*, user: _User, node: Node) -> dict[str, int]:
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


def body_list(*, user: _User, kind: str | None = None, q: str | None = None) -> QuerySet[Body]:
    qs = Body.objects.restrict(user, "view").select_related("node")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("kind", "name")


def body_get(*, user: _User, body_id: int, action: str = "view") -> Body:
    return get_in_scope(Body, user, body_id, action, queryset=Body.objects.select_related("node"))


def party_org_list(*, user: _User, kind: str | None = None, node_id: int | None = None) -> QuerySet[PartyOrg]:
    qs = PartyOrg.objects.restrict(user, "view").select_related("node", "parent")
    if kind:
        qs = qs.filter(kind=kind)
    if node_id is not None:
        qs = qs.filter(node_id=node_id)
    return qs.order_by("node__code", "kind", "name")


def party_orgs_on(*, node: Node) -> list[PartyOrg]:
    return list(PartyOrg.objects.filter(node=node).order_by("kind", "name"))


def boundaries(*, user: _User, kind: str = NodeKind.GRID, within_id: int | None = None) -> QuerySet[Node]:
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


def _sees(user: _User, node: Node) -> bool:
    """``Node.objects.restrict(user, "view").filter(pk=node.pk).exists()`` without the query: a node is in a
    user's view scope when its code lies under one of their places or one of their bodies leads it."""
    scope = scope_of(user, Node, "view")
    return not scope.is_empty and scope.covers(node.code, node.lead_body_id)


def locate(*, user: _User, lat: float, lng: float) -> Location:
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
        statement, key_params = _place_sql()
        params = [*key_params, grid_id, grid_id, NodeKind.BUILDING.value, *near["centroid_lat__range"]]
        rows = list(Node.objects.raw(statement, [*params, *near["centroid_lng__range"]]))
        for row in rows:  # the lead body's id and name (the rest loads on demand), as a case's owner needs them
            name = row.lead_body_name  # type: ignore[attr-defined]  # a column of the raw query
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
    """The query of :func:`place_of_point` (``territory.sql.grid_and_buildings``): the grid row, its buildings in a
    box (without their polygons: the index holds the grids', and a case needs none), the lead body's name and the
    grid index's key. Written once in SQL rather than composed by the ORM on every intake (composing it cost more
    CPU than running it)."""
    key_sql, key_params = geo.key_sql()
    columns = [str(f.column) for f in Node._meta.concrete_fields if f.name != "boundary"]
    q = connection.ops.quote_name
    return sql.grid_and_buildings(q, Node._meta.db_table, Body._meta.db_table, columns, key_sql), key_params


def _fallback_desk(*, lat: float, lng: float) -> Node | None:
    """The subdistrict whose boundary covers a point outside every grid (lowest code first), else the one whose
    centre is nearest (most installations have exactly one)."""
    roots = list(Node.objects.filter(kind=NodeKind.SUBDISTRICT).select_related("lead_body").order_by("code"))
    point = shapely.Point(lng, lat)
    for root in roots:
        if root.boundary and shape(root.boundary).covers(point):
            return root
    if not roots:
        return None
    return min(roots, key=lambda r: geo.metres_between(lat, lng, r.centroid_lat or 0.0, r.centroid_lng or 0.0))


def boundaries_geojson(*, user: _User, kind: str = NodeKind.GRID, within_id: int | None = None) -> dict[str, Any]:
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
    dlat, dlng = geo.degree_box(lat=lat, within_m=within_m)
    return {"centroid_lat__range": (lat - dlat, lat + dlat), "centroid_lng__range": (lng - dlng, lng + dlng)}


def _nearest(candidates: Iterable[Node], *, lat: float, lng: float, within_m: float) -> Node | None:
    """The nearest candidate within ``within_m`` metres; on a tie the first (candidates come in code order)."""
    best: tuple[float, Node] | None = None
    for b in candidates:
        if b.centroid_lat is None or b.centroid_lng is None:
            continue
        d = geo.metres_between(lat, lng, b.centroid_lat, b.centroid_lng)
        if d <= within_m and (best is None or d < best[0]):
            best = (d, b)
    return best[1] if best else None


def nearest_building(*, grid: Node, lat: float, lng: float, within_m: float = BUILDING_REACH_M) -> Node | None:
    """The building of ``grid`` nearest to a point, if one stands within ``within_m`` metres (one indexed query:
    the grid's buildings in a box around the point)."""
    near = _near_box(lat=lat, lng=lng, within_m=within_m)
    candidates = Node.objects.filter(parent=grid, kind=NodeKind.BUILDING, **near).select_related("lead_body")
    return _nearest(candidates.order_by("code"), lat=lat, lng=lng, within_m=within_m)


def building_by_address(*, address: str, user: _User | None = None) -> Node | None:
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
    for b in candidates.filter(Q(name__in=[text[:i] for i in range(len(text), 2, -1)])).order_by("-name", "code")[:1]:
        return b
    return None


def default_desk(*, user: _User | None = None) -> Node | None:
    """The subdistrict desk that takes an unplaceable case: the user's own subdistrict if they have one."""
    roots = Node.objects.filter(kind=NodeKind.SUBDISTRICT).select_related("lead_body").order_by("code")
    if user is not None:
        mine = [r.code[:9] for r in scope_roots(user=user)]
        own = roots.filter(code__in=mine).first()
        if own is not None:
            return own
    return roots.first()


def places_for(*, user: _User, label: str, action: str, kinds: Iterable[str], limit: int = 5000) -> list[Node]:
    """The places of these kinds, in tree order, where ``user`` may ``action`` rows of model ``label`` (the areas a
    campaign, a notice or an agreement can be made for)."""
    scope = user.scope_for(label, action)
    if scope.is_empty:
        return []
    nodes = node_list(user=user).filter(kind__in=list(kinds))[:limit]
    return [node for node in nodes if scope.covers(node.code, node.lead_body_id)]


# --- placement: where a reported problem lands ---------------------------------------------------------------------


class PlaceRef(NamedTuple):
    """A place as a case written in bulk needs it (``pk``, ``code``, ``kind``, ``lead_body_id``; ``name`` for
    messages): what :class:`Placer` answers instead of a whole ``Node``."""

    pk: int
    code: str
    name: str
    kind: str
    lead_body_id: int


class PlacePoint(NamedTuple):
    """What a report says about where it is: a WGS-84 point (both or neither) and a free-text address."""

    lat: float | None
    lng: float | None
    address: str = ""


@dataclass(slots=True)
class Placed:
    """Where a point landed: ``node`` (a ``Node`` or a :class:`PlaceRef`; ``None`` only when no subdistrict exists
    at all), ``unplaced`` (held by the desk: flagged) and ``how`` (``gps``, ``address`` or ``desk``; ``""`` without
    a territory)."""

    node: Node | PlaceRef | None
    unplaced: bool
    how: str


def place_many(points: Sequence[PlacePoint], *, user: _User | None = None) -> list[Placed]:
    """Where each reported point lands — the one placement rule of the project, for one case or a 12345 file:

    1. a point in a grid → the grid's building nearest to it within :data:`BUILDING_REACH_M` (ties: the lowest
       code), else the grid itself;
    2. else an address → the building named (or addressed) so, else the one whose name the address begins with
       (the longest; among the buildings ``user`` sees, any for a resident without an account);
    3. else the desk, flagged: the subdistrict covering a point outside every grid (else the nearest one), or the
       user's own subdistrict (:func:`default_desk`).

    One point (single intake) costs one query for the grid and its buildings near the point (plus one for an
    address or the desk when needed) and answers ``Node`` rows; many points go through :class:`Placer` (the grid
    index for all points at once, each grid's buildings read once) and answer :class:`PlaceRef` rows. Not scoped:
    whether the user may act at the place is the caller's check."""
    if len(points) == 1:
        return [_place_one(points[0], user=user)]
    return Placer(user).place_many(points)


def _place_one(point: PlacePoint, *, user: _User | None) -> Placed:
    fallback: Node | None = None
    if point.lat is not None and point.lng is not None:
        spot = place_of_point(lat=point.lat, lng=point.lng)  # grid + nearest building: one query
        if spot.grid is not None:
            return Placed(spot.building or spot.grid, False, "gps")
        fallback = spot.fallback
    if point.address.strip():
        building = building_by_address(address=point.address, user=user)
        if building is not None:
            return Placed(building, False, "address")
    if fallback is None:
        fallback = default_desk(user=user)
    return Placed(fallback, True, "desk") if fallback is not None else Placed(None, True, "")


class Placer:
    """:func:`place_many` for batch after batch of one import: what it read (each grid's buildings, the
    subdistricts, the buildings by name and address, the places) is kept from one batch to the next."""

    def __init__(self, user: _User | None = None) -> None:
        self.user = user
        self.nodes: dict[int, PlaceRef] = {}
        self.buildings: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # grid → ids, lats, lngs
        self._roots: list[tuple[int, Any, float, float]] | None = None
        self._desk: list[int | None] = []
        self._exact: dict[str, int] | None = None
        self._names: dict[str, int] = {}
        self._by_address: dict[str, int | None] = {}

    def place_many(self, points: Sequence[PlacePoint]) -> list[Placed]:
        n = len(points)
        node_ids = np.full(n, -1, dtype=np.int64)
        fallback = np.full(n, -1, dtype=np.int64)
        how = [""] * n
        with_point = np.array([i for i, p in enumerate(points) if p.lat is not None and p.lng is not None], dtype=int)
        if len(with_point):
            lats = np.array([points[i].lat for i in with_point], dtype=float)
            lngs = np.array([points[i].lng for i in with_point], dtype=float)
            grids = geo.grid_index().locate_many(lats=lats, lngs=lngs)
            inside = grids >= 0
            if inside.any():
                node_ids[with_point[inside]] = self._nearest_buildings(grids[inside], lats[inside], lngs[inside])
                for i in with_point[inside].tolist():
                    how[i] = "gps"
            if (~inside).any():
                fallback[with_point[~inside]] = self._fallback_desks(lats[~inside], lngs[~inside])
        desks = fallback.tolist()
        for i, point in enumerate(points):
            if how[i]:
                continue
            building = self._building_by_address(point.address) if point.address.strip() else None
            if building is not None:
                node_ids[i], how[i] = building, "address"
                continue
            desk = desks[i] if desks[i] >= 0 else self._default_desk()
            if desk is not None:
                node_ids[i], how[i] = desk, "desk"
        ids = node_ids.tolist()  # plain ints: reading a numpy array element by element costs more than the rest
        self._load_nodes({x for x in ids if x >= 0})
        nodes = self.nodes
        return [
            Placed(nodes[node_id], placed_by == "desk", placed_by) if placed_by else Placed(None, True, "")
            for node_id, placed_by in zip(ids, how, strict=True)
        ]

    def _load_nodes(self, ids: set[int]) -> None:
        missing = sorted(ids - self.nodes.keys())
        for start in range(0, len(missing), 2000):
            rows = Node.objects.filter(pk__in=missing[start : start + 2000]).values_list(
                "pk", "code", "name", "kind", "lead_body_id"
            )
            for row in rows:
                self.nodes[row[0]] = PlaceRef(*row)

    def _nearest_buildings(self, grids: np.ndarray, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """For points in grids: the grid's building nearest to each point within reach (ties: the lowest code),
        else the grid itself (:func:`nearest_building` for many points)."""
        out = grids.copy()
        wanted = {int(g) for g in np.unique(grids)} - self.buildings.keys()
        if wanted:
            found: dict[int, list[tuple[int, float | None, float | None]]] = {g: [] for g in wanted}  # never None
            rows = (
                Node.objects.filter(parent_id__in=sorted(wanted), kind=NodeKind.BUILDING, centroid_lat__isnull=False)
                .exclude(centroid_lng__isnull=True)
                .order_by("code")
                .values_list("pk", "parent_id", "centroid_lat", "centroid_lng")
            )
            for pk, parent_id, lat, lng in rows:
                found[parent_id].append((pk, lat, lng))
            for g, items in found.items():
                self.buildings[g] = (
                    np.array([b[0] for b in items], dtype=np.int64),
                    np.array([b[1] for b in items], dtype=float),
                    np.array([b[2] for b in items], dtype=float),
                )
        keys, inverse = np.unique(grids, return_inverse=True)
        for k, grid in enumerate(keys):
            ids, b_lat, b_lng = self.buildings[int(grid)]
            if not len(ids):
                continue
            at = np.flatnonzero(inverse == k)
            d = geo.metres_between(lats[at, None], lngs[at, None], b_lat[None, :], b_lng[None, :])
            d[d > BUILDING_REACH_M] = np.inf
            best = np.argmin(d, axis=1)  # the first of equals: code order
            near = np.isfinite(d[np.arange(len(at)), best])
            out[at[near]] = ids[best[near]]
        return out

    def _fallback_desks(self, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """For points outside every grid: the subdistrict whose boundary covers the point (lowest code first), else
        the one whose centre is nearest (:func:`_fallback_desk` for many points); -1 if none exists."""
        if self._roots is None:
            self._roots = [
                (pk, shape(boundary) if boundary else None, c_lat or 0.0, c_lng or 0.0)
                for pk, boundary, c_lat, c_lng in Node.objects.filter(kind=NodeKind.SUBDISTRICT)
                .order_by("code")
                .values_list("pk", "boundary", "centroid_lat", "centroid_lng")
            ]
        out = np.full(len(lats), -1, dtype=np.int64)
        if not self._roots:
            return out
        points = shapely.points(lngs, lats)
        for pk, geom, _code, _lead in self._roots:
            todo = np.flatnonzero(out < 0)
            if not len(todo):
                break
            if geom is not None:
                out[todo[shapely.covers(geom, points[todo])]] = pk
        rest = np.flatnonzero(out < 0)
        if len(rest):
            d = np.stack(
                [geo.metres_between(lats[rest], lngs[rest], c_lat, c_lng) for _, _, c_lat, c_lng in self._roots]
            )
            ids = np.array([r[0] for r in self._roots], dtype=np.int64)
            out[rest] = ids[np.argmin(d, axis=0)]
        return out

    def _building_by_address(self, address: str) -> int | None:
        """:func:`building_by_address` for many addresses: the buildings the user sees are read once; a building
        named (or addressed) exactly so, else the longest building name the address begins with (at least 3
        characters); ties go to the lowest code."""
        text = address.strip()
        if text in self._by_address:
            return self._by_address[text]
        if self._exact is None:
            self._exact = {}
            candidates = Node.objects.filter(kind=NodeKind.BUILDING)
            if self.user is not None:
                visible = Node.objects.restrict(self.user, "view")
                if visible.exists():
                    candidates = candidates.filter(pk__in=visible.filter(kind=NodeKind.BUILDING))
            for pk, name, addr in candidates.order_by("code").values_list("pk", "name", "address"):
                self._exact.setdefault(name, pk)
                if addr:
                    self._exact.setdefault(addr, pk)
                self._names.setdefault(name, pk)
        hit = self._exact.get(text)
        if hit is None:
            for end in range(len(text), 2, -1):
                hit = self._names.get(text[:end])
                if hit is not None:
                    break
        if len(self._by_address) > 100_000:
            self._by_address.clear()
        self._by_address[text] = hit
        return hit

    def _default_desk(self) -> int | None:
        if not self._desk:
            desk = default_desk(user=self.user)
            self._desk.append(desk.pk if desk is not None else None)
        return self._desk[0]


# --- maps: the buildings drawn, and where a picked point lands (docs/maps.md) --------------------------------------

MAX_MAP_BUILDINGS = 5000
NEARBY_BUILDINGS_M = 250.0
MAX_NEARBY_BUILDINGS = 8


def _bbox_q(bbox: tuple[float, float, float, float] | None, lat: str, lng: str) -> Q:
    """Rows whose point lies in ``(south, west, north, east)`` (WGS-84), or every row without a box."""
    if bbox is None:
        return Q()
    south, west, north, east = bbox
    return Q(**{f"{lat}__range": (south, north), f"{lng}__range": (west, east)})


def building_points(
    *,
    user: Any,
    within_id: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = MAX_MAP_BUILDINGS,
) -> tuple[list[dict[str, Any]], bool]:
    """The buildings in the user's scope with a position (WGS-84 centroids), for a map: under ``within_id`` (404 out
    of scope) and inside ``bbox`` when given, at most ``limit`` (and whether more were left out)."""
    qs = node_list(user=user, kind=NodeKind.BUILDING, within_id=within_id).filter(
        _bbox_q(bbox, "centroid_lat", "centroid_lng"), centroid_lat__isnull=False, centroid_lng__isnull=False
    )
    rows = list(qs.values("id", "code", "name", "parent_id", "centroid_lat", "centroid_lng")[: limit + 1])
    items = [
        {"id": r["id"], "code": r["code"], "name": r["name"], "grid_id": r["parent_id"],
         "lat": r["centroid_lat"], "lng": r["centroid_lng"]}
        for r in rows[:limit]
    ]  # fmt: skip
    return items, len(rows) > limit


@dataclass
class PointMatch:
    """Where a report's point (or address) lands, as the report form shows it before it is sent: the building,
    grid and community by :func:`place_many` (the rule intake applies), ``in_scope`` whether the user sees that
    place (else nothing is named), and the user's buildings near the point to choose from instead."""

    how: str
    unplaced: bool
    in_scope: bool
    building: Node | None
    grid: Node | None
    community: Node | None
    nearby: list[dict[str, Any]]


def match_point(*, user: Any, lat: float | None, lng: float | None, address: str = "") -> PointMatch:
    placed = place_many([PlacePoint(lat, lng, address)], user=user)[0]
    node = placed.node if isinstance(placed.node, Node) else None
    chain: dict[str, Node] = {}
    if node is not None and not placed.unplaced:
        for n in [*node_ancestors(node=node), node]:
            chain[n.kind] = n
    in_scope = node is not None and _sees(user, node)
    nearby: list[dict[str, Any]] = []
    if lat is not None and lng is not None:
        _check_point(lat=lat, lng=lng)
        near = _near_box(lat=lat, lng=lng, within_m=NEARBY_BUILDINGS_M)
        candidates = node_list(user=user, kind=NodeKind.BUILDING).filter(**near).select_related("parent__parent")
        scored = [
            (geo.metres_between(lat, lng, b.centroid_lat, b.centroid_lng), b)
            for b in candidates[:500]
            if b.centroid_lat is not None and b.centroid_lng is not None
        ]
        scored = sorted((s for s in scored if s[0] <= NEARBY_BUILDINGS_M), key=lambda s: (s[0], s[1].code))
        nearby = [
            {"id": b.pk, "name": b.name, "code": b.code, "metres": round(d),
             "grid": b.parent.name if b.parent else "",
             "community": b.parent.parent.name if b.parent and b.parent.parent else ""}
            for d, b in scored[:MAX_NEARBY_BUILDINGS]
        ]  # fmt: skip
    if not in_scope:
        return PointMatch(placed.how, placed.unplaced, False, None, None, None, nearby)
    community = chain.get(NodeKind.COMMUNITY) or chain.get(NodeKind.VILLAGE)
    return PointMatch(
        placed.how, placed.unplaced, True, chain.get(NodeKind.BUILDING), chain.get(NodeKind.GRID), community, nearby
    )
