"""GCJ-02 ⇄ WGS-84 (territory.coords) against published pairs, the round trip, and points outside China."""

from __future__ import annotations

import pytest

from gongzhi.territory import coords
from gongzhi.territory.geo import metres_between

# (WGS-84 lat, lng) → (GCJ-02 lat, lng), as published with the reference implementations' tests
# (googollee/eviltransform: Shanghai, Shenzhen, Beijing; wandergis/coordtransform via hutool: Beijing).
PUBLISHED = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),  # Beijing, Tiananmen
]


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_forward_matches_published_pairs(wgs, gcj):
    lat, lng = coords.wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lng == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_inverse_recovers_the_wgs84_point(wgs, gcj):
    lat, lng = coords.gcj02_to_wgs84(*gcj)
    assert metres_between(lat, lng, *wgs) < 0.01


@pytest.mark.parametrize(
    "point",
    [
        (41.80, 123.43),  # Shenyang
        (41.7968, 123.4328),
        (30.0, 122.1),  # Zhoushan
        (31.78, 119.95),  # Changzhou
        (45.75, 126.63),  # Harbin
        (18.25, 109.5),  # Sanya
        (43.8, 87.6),  # Urumqi
    ],
)
def test_round_trip_within_half_a_metre(point):
    gcj = coords.wgs84_to_gcj02(*point)
    shift = metres_between(*point, *gcj)
    assert 50 < shift < 1000  # the offset is real (hundreds of metres) …
    back = coords.gcj02_to_wgs84(*gcj)
    assert metres_between(*point, *back) < 0.5  # … and undone to well within half a metre


@pytest.mark.parametrize("point", [(48.8584, 2.2945), (40.7484, -73.9857), (-33.8568, 151.2153), (35.6586, 139.99)])
def test_points_outside_china_are_unchanged(point):
    assert coords.wgs84_to_gcj02(*point) == point
    assert coords.gcj02_to_wgs84(*point) == point
    assert coords.to_wgs84(*point, coords.GCJ02) == point


def test_to_wgs84_by_system():
    gcj = PUBLISHED[3][1]
    assert coords.to_wgs84(*gcj, coords.WGS84) == gcj
    assert metres_between(*coords.to_wgs84(*gcj, coords.GCJ02), *PUBLISHED[3][0]) < 0.01
