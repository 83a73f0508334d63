"""``place_many``: the one placement rule. Many points at once (the 12345 import's way) land exactly where each
point lands alone (a single intake's way)."""

from __future__ import annotations

import numpy as np
import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory import selectors
from gongzhi.territory.selectors import PlacePoint
from gongzhi.territory.tests.factories import child

pytestmark = pytest.mark.django_db


def test_place_many_is_place_for_each_point(tree):  # type: ignore[no-untyped-def]
    grid = tree.grids[0]
    rng = np.random.default_rng(5)
    for i, (dlat, dlng) in enumerate(rng.uniform(0.0005, 0.0095, (12, 2))):
        child(grid, "building", 10 + i, f"金禾家苑{i}号楼", centroid_lat=41.90 + dlat, centroid_lng=123.40 + dlng)
    b0 = tree.buildings[0]
    child(grid, "building", 99, "同位楼", centroid_lat=b0.centroid_lat, centroid_lng=b0.centroid_lng)  # a tie
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    points = [
        PlacePoint(41.9041, 123.4041),  # on a building (and its twin: the lowest code)
        PlacePoint(41.9090, 123.4010),  # in a grid, no building within reach
        PlacePoint(41.945, 123.445),  # in no grid: the desk, flagged
        PlacePoint(None, None, b0.name),  # an address: that building
        PlacePoint(None, None, "金禾家苑3号楼2单元501"),  # an address beginning with a building's name
        PlacePoint(None, None, "不知道哪里"),  # nothing matches: the desk
        PlacePoint(None, None, ""),
        PlacePoint(41.945, 123.445, "金禾家苑3号楼"),  # outside every grid, but the address names a building
        *(PlacePoint(lat, lng) for lat, lng in rng.uniform((41.899, 123.399), (41.911, 123.441), (60, 2)).tolist()),
    ]
    for user in (operator, None):
        many = selectors.place_many(points, user=user)
        one = [selectors.place_many([p], user=user)[0] for p in points]
        assert [(p.node.pk, p.unplaced, p.how) for p in many] == [(p.node.pk, p.unplaced, p.how) for p in one]
        assert [(p.node.code, p.node.kind, p.node.lead_body_id) for p in many] == [
            (p.node.code, p.node.kind, p.node.lead_body_id) for p in one
        ]
    placed = selectors.place_many(points[:8], user=operator)
    assert [p.how for p in placed] == ["gps", "gps", "desk", "address", "address", "desk", "desk", "address"]
    assert placed[0].node.pk == b0.pk and placed[2].node.pk == tree.subdistrict.pk
    assert [p.unplaced for p in placed] == [False, False, True, False, False, True, True, False]
