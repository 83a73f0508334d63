"""Geometry: validating GeoJSON boundaries and finding the grid a point lies in (shapely 2, STRtree).

Coordinates are GeoJSON order, ``[lng, lat]`` (WGS-84 degrees). Functions that take a point take ``lat`` and
``lng`` by name so that the order cannot be mixed up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gongzhi.core.errors import ErrorDetail
from gongzhi.territory.choices import NodeKind

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# A point this close to a border (1e-9° ≈ 0.1 mm) is on it: it belongs to every grid that border separates, and
# the lowest code wins. Without it, a computed border point falls on either side by floating-point rounding.
BORDER_TOLERANCE = 1e-9


def overlap_tolerance(a: BaseGeometry, b: BaseGeometry) -> float:
    """Shared edges are fine; an overlap is a shared *area* above a millionth of the smaller polygon."""
    return max(1e-14, 1e-6 * min(a.area, b.area))


def parse_geometry(geometry: Any, where: str, row: int | None = None) -> tuple[BaseGeometry | None, list[ErrorDetail]]:
    """Turn a GeoJSON geometry into a valid shapely polygon, or say precisely why not."""
    errors: list[ErrorDetail] = []
    if not isinstance(geometry, dict):
        return None, [ErrorDetail(field=where, row=row, message="geometry is missing or is not an object")]
    gtype = geometry.get("type")
    if gtype not in POLYGON_TYPES:
        return None, [
            ErrorDetail(field=f"{where}.type", row=row, message=f"expected Polygon or MultiPolygon, got {gtype!r}")
        ]
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for bad coordinate arrays
        return None, [ErrorDetail(field=f"{where}.coordinates", row=row, message=f"coordinates are malformed: {exc}")]
    if geom.is_empty:
        return None, [ErrorDetail(field=f"{where}.coordinates", row=row, message="the polygon is empty")]
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        errors.append(
            ErrorDetail(
                field=f"{where}.coordinates",
                row=row,
                message="coordinates must be [longitude, latitude] in degrees (WGS-84)",
            )
        )
    if not geom.is_valid:
        errors.append(ErrorDetail(field=where, row=row, message=f"invalid polygon: {explain_validity(geom)}"))
    elif geom.area <= 0:
        errors.append(ErrorDetail(field=where, row=row, message="the polygon has no area"))
    return (None if errors else geom), errors


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    out: dict[str, Any] = mapping(geom)
    return _listify(out)


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
    """An STRtree over grid polygons. A point on a shared border belongs to the grid with the lowest code."""

    ids: np.ndarray
    codes: list[str]
    geoms: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(cls, rows: list[tuple[int, str, dict[str, Any]]]) -> GridIndex:
        rows = sorted(rows, key=lambda r: r[1])  # lowest code first: ties on borders resolve to it
        geoms = np.array([shape(r[2]) for r in rows], dtype=object)
        return cls(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            codes=[r[1] for r in rows],
            geoms=geoms,
            tree=shapely.STRtree(geoms),
        )

    def locate(self, *, lat: float, lng: float) -> int | None:
        hits = self.tree.query(shapely.Point(lng, lat), predicate="dwithin", distance=BORDER_TOLERANCE)
        if len(hits) == 0:
            return None
        return int(self.ids[int(hits.min())])

    def locate_many(self, *, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """Grid id for each point, -1 where a point lies in no grid. Vectorised: one tree query for all."""
        points = shapely.points(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        result = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or len(self.ids) == 0:
            return result
        point_idx, geom_idx = self.tree.query(points, predicate="dwithin", distance=BORDER_TOLERANCE)
        if len(point_idx):
            # For each point keep the lowest geometry index (= lowest code): sort by (point, geom) and take firsts.
            order = np.lexsort((geom_idx, point_idx))
            p_sorted, g_sorted = point_idx[order], geom_idx[order]
            first = np.ones(len(p_sorted), dtype=bool)
            first[1:] = p_sorted[1:] != p_sorted[:-1]
            result[p_sorted[first]] = self.ids[g_sorted[first]]
        return result


_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {"key": None, "index": None}


def grid_index() -> GridIndex:
    """The process-wide grid index, rebuilt when the grid boundaries change (count or latest update differ)."""
    from gongzhi.territory.models import Node

    grids = Node.objects.filter(kind=NodeKind.GRID, boundary__isnull=False)
    stats = grids.aggregate(n=Count("id"), latest=Max("updated_at"))
    key = (stats["n"], stats["latest"])
    with _index_lock:
        if _index_cache["key"] != key or _index_cache["index"] is None:
            rows = list(grids.values_list("id", "code", "boundary"))
            _index_cache["index"] = GridIndex.build(rows)
            _index_cache["key"] = key
        index: GridIndex = _index_cache["index"]
    return index
