"""One distance for the whole project (``geo.metres_between``), checked against known distances and the great
circle at latitudes far from Shenyang, where the old fixed cos(41.9°) was wrong by up to a fifth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gongzhi.territory import geo
from gongzhi.territory.tests.test_grid_index import haversine_m


def test_a_degree_of_latitude_and_of_longitude():
    assert geo.metres_between(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-4)
    assert geo.metres_between(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, rel=1e-4)  # on the equator
    assert geo.metres_between(60.0, 10.0, 60.0, 11.0) == pytest.approx(55_597, rel=1e-3)  # half of it at 60°


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((39.9042, 116.4074), (39.9163, 116.3972), 1.6),  # Tiananmen → the Forbidden City's north gate, ~1.6 km
        ((41.8057, 123.4315), (41.7968, 123.4290), 1.0),  # Shenyang: two points ~1 km apart
        ((18.2528, 109.5120), (18.2528, 109.5215), 1.0),  # Sanya, 18°N: 0.0095° of longitude is ~1.0 km
        ((45.7567, 126.6424), (45.7567, 126.6553), 1.0),  # Harbin, 45.8°N
    ],
)
def test_short_distances_agree_with_the_great_circle(a, b, km):
    d = geo.metres_between(*a, *b)
    assert d == pytest.approx(haversine_m(*a, *b), rel=1e-3)
    assert d == pytest.approx(km * 1000, rel=0.06)


def test_far_from_shenyang_the_longitude_is_scaled_by_the_actual_latitude():
    """100 m east at Sanya (18.25°N): the old factor cos(41.9°) = 0.745 made it 78 m (−22 %)."""
    dlng = 100 / (geo.M_PER_DEG_LAT * math.cos(math.radians(18.25)))
    assert geo.metres_between(18.25, 109.5, 18.25, 109.5 + dlng) == pytest.approx(100, rel=1e-3)
    old = dlng * 111_000 * 0.745
    assert abs(old - 100) > 19, "the old constant was this far off"


def test_long_distance_beijing_to_shanghai():
    # Tiananmen → People's Square, Shanghai: 1,067 km along the great circle.
    d = geo.metres_between(39.9042, 116.4074, 31.2304, 121.4737)
    assert d == pytest.approx(1_067_000, rel=0.01)


def test_arrays_broadcast_like_single_points():
    lats = np.array([41.90, 41.905, 18.25])
    lngs = np.array([123.40, 123.41, 109.5])
    many = geo.metres_between(41.9041, 123.4041, lats, lngs)
    assert many.tolist() == pytest.approx(
        [geo.metres_between(41.9041, 123.4041, a, b) for a, b in zip(lats, lngs, strict=True)]
    )


def test_the_box_holds_every_point_within_reach():
    for lat in (0.0, 18.25, 41.9, 53.5, -33.9):
        dlat, dlng = geo.degree_box(lat=lat, within_m=80)
        for bearing in range(0, 360, 15):
            # a point 79.9 m away in this direction lies inside the box
            north, east = 79.9 * math.cos(math.radians(bearing)), 79.9 * math.sin(math.radians(bearing))
            plat = lat + north / geo.M_PER_DEG_LAT
            plng = 100 + east / (geo.M_PER_DEG_LAT * math.cos(math.radians((lat + plat) / 2)))
            assert geo.metres_between(lat, 100.0, plat, plng) == pytest.approx(79.9, rel=1e-6)
            assert abs(plat - lat) <= dlat and abs(plng - 100) <= dlng
