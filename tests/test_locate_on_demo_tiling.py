"""Point → grid on the demo tiling of 道义 (182 jittered cells): inside, on shared edges and corners, outside.

Uses the same ``GridIndex`` the API uses, built over the demo polygons in grid-code order; a point on a shared
border belongs to the grid with the lowest code. The database path is covered by the API tests; this one covers
the geometry at demo scale.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gongzhi.demo.tiling import tile_subdistrict
from gongzhi.territory.geo import GridIndex, to_geojson

TILING = tile_subdistrict(0)


@pytest.fixture(scope="module")
def index() -> GridIndex:
    rows = [(i + 1, f"210113006{i:06d}", to_geojson(p)) for i, p in enumerate(TILING.polygons)]
    return GridIndex.build(rows)


def test_a_point_inside_each_grid(index: GridIndex) -> None:
    for i, polygon in enumerate(TILING.polygons):
        p = polygon.representative_point()
        assert index.locate(lat=p.y, lng=p.x) == i + 1


def test_points_on_shared_edges_go_to_the_lowest_code(index: GridIndex) -> None:
    checked = 0
    for i, a in enumerate(TILING.polygons):
        for j in range(i + 1, len(TILING.polygons)):
            shared = a.intersection(TILING.polygons[j])
            if shared.geom_type in ("LineString", "MultiLineString") and shared.length > 0:
                mid = shared.interpolate(0.5, normalized=True)
                assert index.locate(lat=mid.y, lng=mid.x) == i + 1, (i, j)
                checked += 1
    assert checked > 300  # every interior edge of the 14 × 13 lattice


def test_interior_lattice_corners_go_to_the_lowest_code(index: GridIndex) -> None:
    corners: dict[tuple[float, float], list[int]] = {}
    for i, polygon in enumerate(TILING.polygons):
        for x, y in list(polygon.exterior.coords)[:-1]:
            corners.setdefault((x, y), []).append(i + 1)
    four_way = {xy: ids for xy, ids in corners.items() if len(ids) == 4}
    assert len(four_way) == 13 * 12
    for (x, y), ids in four_way.items():
        assert index.locate(lat=y, lng=x) == min(ids)


def test_points_outside_the_subdistrict(index: GridIndex) -> None:
    min_lng, min_lat, max_lng, max_lat = TILING.bounds
    for lat, lng in [(min_lat - 0.001, min_lng), (max_lat + 0.01, max_lng), (41.0, 120.0), (0.0, 0.0)]:
        assert index.locate(lat=lat, lng=lng) is None


def test_vectorised_lookup_agrees_over_random_points(index: GridIndex) -> None:
    min_lng, min_lat, max_lng, max_lat = TILING.bounds
    rng = np.random.default_rng(42)
    lngs = rng.uniform(min_lng - 0.01, max_lng + 0.01, 3000)
    lats = rng.uniform(min_lat - 0.01, max_lat + 0.01, 3000)
    many = index.locate_many(lats=lats, lngs=lngs)
    outline = shapely.box(*TILING.bounds)
    for k in range(0, 3000, 7):
        single = index.locate(lat=lats[k], lng=lngs[k])
        assert many[k] == (-1 if single is None else single)
        assert (many[k] == -1) == (not outline.covers(shapely.Point(lngs[k], lats[k])))
