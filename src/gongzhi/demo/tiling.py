"""Pure geometry for the demo subdistrict: grid polygons that tile it, and points inside them. No database.

A copy of 道义街道 is a 14 × 13 lattice of cells about 460 m across (≈ 38 km² in all) around 41.9°N 123.4°E.
Interior lattice vertices are jittered deterministically and *shared* by the four cells around them, so the
cells stay valid (convex) quadrilaterals and neighbours share edges exactly; vertices on the outline move only
along it, so the outline stays the bounding rectangle. Cells are ordered along a serpentine through 2-column
bands (each step goes to an edge neighbour), and cut into 23 runs of 7–8 cells: the communities and villages,
each a contiguous group of grids. Copy ``k`` is shifted east by ``k`` widths (plus a gap) so copies never overlap.

Coordinates are GeoJSON order ``(lng, lat)`` in WGS-84 degrees, rounded to 6 decimals (≈ 0.1 m).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import cast

import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

COLS = 14
ROWS = 13
CELL_LNG = 0.005515  # ≈ 457 m at 41.9°N
CELL_LAT = 0.004117  # ≈ 457 m
ORIGIN_LNG = 123.4 - COLS * CELL_LNG / 2  # south-west corner of copy 0, centred on 41.9°N 123.4°E
ORIGIN_LAT = 41.9 - ROWS * CELL_LAT / 2
COPY_GAP_LNG = 0.02
JITTER = 0.22  # of a cell; below 0.25 every cell stays convex
DIGITS = 6
TILING_SEED = 210113006

# Cells per community/village in code order: 16 communities of 8, then villages of 8 and 7 (182 in all).
RUN_SIZES = (8,) * 16 + (8, 8, 8, 7, 8, 8, 7)


@dataclass(frozen=True)
class Tiling:
    """The grids of one subdistrict copy, in grid-code order (serpentine), and how they group into communities."""

    polygons: list[Polygon]
    cells: list[tuple[int, int]]  # (column, row) of each polygon
    runs: list[range]  # polygon indices of community/village i (code i + 1)
    bounds: tuple[float, float, float, float]  # (min_lng, min_lat, max_lng, max_lat) of the whole copy

    @property
    def outline(self) -> Polygon:
        return shapely.box(*self.bounds)


def copy_offset_lng(k: int) -> float:
    return k * (COLS * CELL_LNG + COPY_GAP_LNG)


def serpentine(cols: int = COLS, rows: int = ROWS) -> list[tuple[int, int]]:
    """Every (column, row) once, each an edge neighbour of the one before: up the first 2-column band, down
    the next, and so on, zig-zagging across each band's two columns."""
    if cols % 2 or not rows % 2:
        raise ValueError("the serpentine needs an even number of columns and an odd number of rows")
    order: list[tuple[int, int]] = []
    for band in range(cols // 2):
        left, right = 2 * band, 2 * band + 1
        rows_seq = range(rows) if band % 2 == 0 else range(rows - 1, -1, -1)
        for step, row in enumerate(rows_seq):
            pair = (left, right) if step % 2 == 0 else (right, left)
            order.extend((col, row) for col in pair)
    return order


def tile_subdistrict(k: int = 0) -> Tiling:
    """The 182 grid polygons of subdistrict copy ``k``. Deterministic: same ``k``, same coordinates."""
    rng = random.Random(TILING_SEED + k)
    x0 = ORIGIN_LNG + copy_offset_lng(k)
    y0 = ORIGIN_LAT
    vertices: list[list[tuple[float, float]]] = []
    for i in range(COLS + 1):
        column = []
        for j in range(ROWS + 1):
            jx = 0.0 if i in (0, COLS) else rng.uniform(-JITTER, JITTER)
            jy = 0.0 if j in (0, ROWS) else rng.uniform(-JITTER, JITTER)
            column.append((round(x0 + (i + jx) * CELL_LNG, DIGITS), round(y0 + (j + jy) * CELL_LAT, DIGITS)))
        vertices.append(column)
    cells = serpentine()
    polygons = [
        Polygon([vertices[c][r], vertices[c + 1][r], vertices[c + 1][r + 1], vertices[c][r + 1]]) for c, r in cells
    ]
    runs: list[range] = []
    start = 0
    for size in RUN_SIZES:
        runs.append(range(start, start + size))
        start += size
    assert start == len(polygons), "run sizes must cover every cell"
    bounds = (vertices[0][0][0], vertices[0][0][1], vertices[COLS][ROWS][0], vertices[COLS][ROWS][1])
    return Tiling(polygons=polygons, cells=cells, runs=runs, bounds=bounds)


def grid_polygons(k: int = 0) -> list[Polygon]:
    """Just the polygons of copy ``k``, in grid-code order."""
    return tile_subdistrict(k).polygons


def union(polygons: list[Polygon]) -> BaseGeometry:
    """The outline of a set of grids (a community, the subdistrict): a valid Polygon or MultiPolygon."""
    merged = shapely.unary_union(polygons)
    if not merged.is_valid:
        merged = shapely.make_valid(merged)
    return merged


def representative(geom: BaseGeometry) -> tuple[float, float]:
    """A point surely inside ``geom`` as ``(lng, lat)``, rounded."""
    point = geom.representative_point()
    return round(point.x, DIGITS), round(point.y, DIGITS)


def points_inside(polygon: Polygon, n: int, rng: random.Random, margin: float = 0.0003) -> list[tuple[float, float]]:
    """``n`` random points ``(lng, lat)`` strictly inside ``polygon``, at least ``margin`` degrees from its edge."""
    inner = polygon.buffer(-margin)
    if inner.is_empty:
        inner = polygon.buffer(-margin / 10)
    minx, miny, maxx, maxy = inner.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x = round(rng.uniform(minx, maxx), DIGITS)
        y = round(rng.uniform(miny, maxy), DIGITS)
        if inner.contains(Point(x, y)):
            points.append((x, y))
    return points


def area_km2(geom: BaseGeometry) -> float:
    """Approximate area in km² (equirectangular at the geometry's latitude; fine for a few km)."""
    lat = geom.centroid.y
    return cast(float, geom.area) * 111.32 * math.cos(math.radians(lat)) * 110.95
