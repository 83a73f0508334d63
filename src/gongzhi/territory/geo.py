"""Geometry: validating GeoJSON boundaries and finding the grid a point lies in (shapely 2, STRtree).

Coordinates are GeoJSON order, ``[lng, lat]`` (WGS-84 degrees). Functions that take a point take ``lat`` and
``lng`` by name so that the order cannot be mixed up.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from django.db import connection
from django.db.models import CharField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gongzhi.core.errors import ErrorDetail
from gongzhi.core.messages import fmt
from gongzhi.territory.choices import NodeKind

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# A point this close to a border (1e-9° ≈ 0.1 mm) is on it: it belongs to every grid that border separates, and
# the lowest code wins. Without it, a computed border point falls on either side by floating-point rounding.
# (GridIndex grows each polygon by it with mitred corners: at a sharp corner "this close" reaches a little further,
# at most the buffer's mitre limit, 5 × 1e-9°.)
BORDER_TOLERANCE = 1e-9

# Distances on the ground. The mean radius of the earth (IUGG); a degree of latitude is this many metres everywhere
# (to 0.5 %), a degree of longitude that times the cosine of the latitude.
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180  # ≈ 111,195 m


def metres_between(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Any:
    """The distance in metres between two WGS-84 points (degrees), the one distance of the project.

    Equirectangular: the longitude difference scaled by the cosine of the two points' mean latitude. For the
    distances the project compares (a building within 80 m, a similar case within a few hundred metres, a
    subdistrict's centre) it is within 0.1 % of the great-circle distance at any latitude; for long ones
    (hundreds of kilometres) it stays within 1 % below 60° of latitude. Takes floats, or numpy arrays (broadcast:
    one point against many at once)."""
    if isinstance(lat1, float | int) and isinstance(lat2, float | int):
        dy = (lat2 - lat1) * M_PER_DEG_LAT
        dx = (lng2 - lng1) * M_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
        return math.hypot(dx, dy)
    dy = (np.asarray(lat2, dtype=float) - lat1) * M_PER_DEG_LAT
    dx = (np.asarray(lng2, dtype=float) - lng1) * M_PER_DEG_LAT * np.cos(np.radians((np.asarray(lat1) + lat2) / 2))
    return np.hypot(dx, dy)


def degree_box(*, lat: float, within_m: float) -> tuple[float, float]:
    """(Δlat, Δlng) in degrees of a box around a point at ``lat`` that holds every point within ``within_m`` metres
    by :func:`metres_between` (with a margin, so that rounding in SQL never drops one the distance keeps)."""
    dlat = within_m / M_PER_DEG_LAT * 1.001 + 1e-9
    # The narrowest degree of longitude in the box is at its edge farthest from the equator.
    cos_edge = max(math.cos(math.radians(min(abs(lat) + dlat, 90.0))), 1e-6)
    return dlat, within_m / (M_PER_DEG_LAT * cos_edge) * 1.001 + 1e-9


def overlap_tolerance(a: BaseGeometry, b: BaseGeometry) -> float:
    """Shared edges are fine; an overlap is a shared *area* above a millionth of the smaller polygon."""
    return max(1e-14, 1e-6 * cast(float, min(a.area, b.area)))


def parse_geometry(geometry: Any, where: str, row: int | None = None) -> tuple[BaseGeometry | None, list[ErrorDetail]]:
    """Turn a GeoJSON geometry into a valid shapely polygon, or say precisely why not."""
    errors: list[ErrorDetail] = []
    if not isinstance(geometry, dict):
        return None, [ErrorDetail(field=where, row=row, message=_("geometry is missing or is not an object"))]
    gtype = geometry.get("type")
    if gtype not in POLYGON_TYPES:
        return None, [
            ErrorDetail(
                field=f"{where}.type",
                row=row,
                message=fmt(_("expected Polygon or MultiPolygon, got %(gtype)s"), gtype=repr(gtype)),
            )
        ]
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for bad coordinate arrays
        return None, [
            ErrorDetail(
                field=f"{where}.coordinates", row=row, message=fmt(_("coordinates are malformed: %(exc)s"), exc=exc)
            )
        ]
    if geom.is_empty:
        return None, [ErrorDetail(field=f"{where}.coordinates", row=row, message=_("the polygon is empty"))]
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        errors.append(
            ErrorDetail(
                field=f"{where}.coordinates",
                row=row,
                message=_("coordinates must be [longitude, latitude] in degrees (WGS-84)"),
            )
        )
    if not geom.is_valid:
        errors.append(
            ErrorDetail(field=where, row=row, message=fmt(_("invalid polygon: %(geom)s"), geom=explain_validity(geom)))
        )
    elif geom.area <= 0:
        errors.append(ErrorDetail(field=where, row=row, message=_("the polygon has no area")))
    return (None if errors else geom), errors


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    out: dict[str, Any] = mapping(geom)
    return cast(dict[str, Any], _listify(out))


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_listify(v) for v in value]
    return value


def find_overlaps(geoms: list[BaseGeometry]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of polygons that share more than an edge."""
    if len(geoms) < 2:
        return []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            inter = geoms[i].intersection(geoms[j])
            if inter.area > overlap_tolerance(geoms[i], geoms[j]):
                pairs.append((i, j))
    return pairs


@dataclass
class GridIndex:
    """An STRtree over grid polygons. A point on a shared border belongs to the grid with the lowest code.

    The tree holds each polygon grown by :data:`BORDER_TOLERANCE` (mitred corners, so no vertices are added), and
    is queried with ``intersects``: a point within the tolerance of several grids hits all of them and the lowest
    code wins; one outside every grown polygon is in no grid. ``locate`` and ``locate_many`` answer alike.
    ``geoms`` are the polygons as stored (the map, the benchmark's raw comparison); ``key`` is the freshness key
    (:func:`grid_key`) of the rows the index was built from.
    """

    ids: np.ndarray
    codes: list[str]
    geoms: np.ndarray
    tree: shapely.STRtree
    key: str = ""

    @classmethod
    def build(cls, rows: list[tuple[int, str, dict[str, Any]]], key: str = "") -> GridIndex:
        rows = sorted(rows, key=lambda r: r[1])  # lowest code first: ties on borders resolve to it
        geoms = np.array([shape(r[2]) for r in rows], dtype=object)
        return cls(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            codes=[r[1] for r in rows],
            geoms=geoms,
            tree=shapely.STRtree(_grown(geoms)),
            key=key,
        )

    def locate(self, *, lat: float, lng: float) -> int | None:
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return int(self.ids[int(hits.min())])

    def code_of(self, grid_id: int) -> str | None:
        where = np.flatnonzero(self.ids == grid_id)
        return self.codes[int(where[0])] if len(where) else None

    def locate_many(self, *, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """Grid id for each point, -1 where a point lies in no grid. Vectorised: one tree query for all."""
        points = shapely.points(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        result = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or len(self.ids) == 0:
            return result
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        if len(point_idx) == 0:
            return result
        step = np.diff(point_idx)
        if (step > 0).all():  # every point hit at most one grid (the common case): no tie to break
            result[point_idx] = self.ids[geom_idx]
        elif (step >= 0).all():  # hits come grouped by point: the lowest geometry index (= code) of each group
            starts = np.flatnonzero(np.concatenate(([True], step != 0)))
            result[point_idx[starts]] = self.ids[np.minimum.reduceat(geom_idx, starts)]
        else:  # not grouped (shapely does group them today): sort by (point, geometry) and keep the firsts
            order = np.lexsort((geom_idx, point_idx))
            p_sorted, g_sorted = point_idx[order], geom_idx[order]
            first = np.ones(len(p_sorted), dtype=bool)
            first[1:] = p_sorted[1:] != p_sorted[:-1]
            result[p_sorted[first]] = self.ids[g_sorted[first]]
        return result


def _grown(geoms: np.ndarray) -> np.ndarray:
    """The polygons grown by the border tolerance: a point that close to a grid counts as in it."""
    if len(geoms) == 0:
        return geoms
    grown = shapely.buffer(geoms, BORDER_TOLERANCE, join_style="mitre")
    bad = shapely.is_empty(grown) | ~shapely.is_valid(grown)
    grown[bad] = geoms[bad]  # an invalid stored polygon (only possible outside the services) stays as it is
    return np.asarray(grown, dtype=object)


# --- the process-wide index and its freshness ---------------------------------------------------------------------
#
# Each process (web worker) keeps one index. Whether it is current is a property of the grid rows in the database:
# how many grids have a boundary and when the latest of them was saved (``updated_at``, bumped by every save; the
# territory services stamp changed grids once more after commit, see ``services._boundaries_changed``). Lookups
# read that key in the same query as the grid row they need anyway (``key_sql`` as a sub-select), so a worker sees
# an edit made anywhere on its very next lookup, without an extra round trip; only a point outside every grid
# costs a separate key query (``grid_key``), to be sure no new grid covers it.

_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {"index": None}


def _grids() -> Any:
    from gongzhi.territory.models import Node

    return Node.objects.filter(kind=NodeKind.GRID, boundary__isnull=False)


def key_sql() -> tuple[str, list[Any]]:
    """One text value that changes whenever a grid boundary is added, removed or saved: the number of grids with
    a boundary and the latest ``updated_at`` among them. Plain SQL that PostgreSQL and SQLite both run, so the key
    reads the same whether it is queried alone or beside a row (and costs the ORM nothing to compile)."""
    from gongzhi.territory import sql
    from gongzhi.territory.models import Node

    return sql.grid_key(connection.ops.quote_name, Node._meta.db_table), [str(NodeKind.GRID)]


def grid_key() -> str:
    """The freshness key of the grid boundaries in the database (one query)."""
    sql, params = key_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return str(row[0])


def key_annotations() -> dict[str, Any]:
    """An annotation that reads :func:`grid_key` alongside any query on nodes (``key_of`` reads it back)."""
    sql, params = key_sql()
    return {"_grids_key": RawSQL(sql, params, output_field=CharField())}


def key_of(row: Any) -> str | None:
    return getattr(row, "_grids_key", None)


def cached_grid_index() -> GridIndex:
    """This process's index as it is, without asking the database whether it is current (built on first use).
    Callers check the key they read with their own query against ``index.key`` (see ``territory.selectors``)."""
    index: GridIndex | None = _index_cache["index"]
    return index if index is not None else grid_index()


def grid_index(key: str | None = None, *, rebuild: bool = False) -> GridIndex:
    """The process-wide grid index, checked against the database (``key``: a key just read, else one query) and
    rebuilt when the grid boundaries changed (or, with ``rebuild``, when a caller found it wrong)."""
    if key is None:
        key = grid_key()
    with _index_lock:
        index: GridIndex | None = _index_cache["index"]
        if rebuild or index is None or index.key != key:
            # The key is read before the rows: an edit committed in between makes the index newer than its key,
            # never older, and the next check simply rebuilds it once more.
            index = GridIndex.build(list(_grids().values_list("id", "code", "boundary")), key=key)
            _index_cache["index"] = index
    return index


def forget_grid_index() -> None:
    """Drop this process's index (the next lookup rebuilds it)."""
    with _index_lock:
        _index_cache["index"] = None
