"""The per-process grid index: the border rule in bulk, and that a boundary edit made anywhere is seen at once."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory import geo, selectors, services
from gongzhi.territory.models import Node
from gongzhi.territory.tests.factories import child, co_cover, square

pytestmark = pytest.mark.django_db

# tree: grids[0] spans lng 123.40–123.41, grids[1] 123.41–123.42 (community 1), grids[2] 123.42–123.43 and grids[3]
# 123.43–123.44 (community 2); all lat 41.90–41.91.
OUTSIDE = (41.945, 123.445)  # lat, lng: in no grid


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * geo.EARTH_RADIUS_M * math.asin(math.sqrt(h))


def test_locate_many_keeps_the_border_rule(tree):  # type: ignore[no-untyped-def]
    index = geo.grid_index()
    g = [n.pk for n in tree.grids]
    points = [
        ((41.905, 123.41), g[0]),  # on the border of grids 0 and 1: the lowest code
        ((41.905, 123.41 + 1e-12), g[0]),  # a computed border point a hair inside grid 1: still on the border
        ((41.905, 123.41 - 1e-12), g[0]),
        ((41.90, 123.42), g[1]),  # the corner of grids 1 and 2 (two communities)
        ((41.905, 123.43), g[2]),
        ((41.905, 123.415), g[1]),  # inside
        ((41.905, 123.435), g[3]),
        ((41.91, 123.44), g[3]),  # the outer corner of the last grid
        ((41.905, 123.40 - 1e-6), -1),  # just outside (0.1 m): no grid
        ((41.9105, 123.405), -1),
        (OUTSIDE, -1),
    ]
    lats = np.array([p[0][0] for p in points])
    lngs = np.array([p[0][1] for p in points])
    many = index.locate_many(lats=lats, lngs=lngs)
    assert many.tolist() == [want for _, want in points]
    single = [index.locate(lat=lat, lng=lng) for lat, lng in zip(lats, lngs, strict=True)]
    assert [(-1 if s is None else s) for s in single] == many.tolist()
    assert index.locate_many(lats=np.array([]), lngs=np.array([])).tolist() == []


def test_locate_many_lowest_code_wins_whatever_order_the_grids_were_given(tree):  # type: ignore[no-untyped-def]
    rows = list(Node.objects.filter(kind="grid").values_list("id", "code", "boundary"))
    forward = geo.GridIndex.build(rows)
    backward = geo.GridIndex.build(rows[::-1])
    rng = np.random.default_rng(3)
    # Points on every vertical border and random points, many of them on borders.
    lngs = np.concatenate([np.repeat([123.40, 123.41, 123.42, 123.43, 123.44], 40), rng.uniform(123.395, 123.445, 800)])
    lats = np.concatenate([rng.uniform(41.899, 41.911, 200), rng.uniform(41.899, 41.911, 800)])
    assert forward.locate_many(lats=lats, lngs=lngs).tolist() == backward.locate_many(lats=lats, lngs=lngs).tolist()
    on_border = forward.locate_many(lats=np.full(3, 41.905), lngs=np.array([123.41, 123.42, 123.43]))
    assert on_border.tolist() == [tree.grids[0].pk, tree.grids[1].pk, tree.grids[2].pk]


def _other_process_moves(grid: Node, boundary: dict) -> None:  # type: ignore[type-arg]
    """What a save in another worker does to the row, without touching this process's cached index."""
    Node.objects.filter(pk=grid.pk).update(boundary=boundary, updated_at=timezone.now())


def test_an_edit_in_another_process_is_seen_by_the_next_lookup(tree):  # type: ignore[no-untyped-def]
    lat, lng = 41.905, 123.405
    assert selectors.place_of_point(lat=lat, lng=lng).grid == tree.grids[0]
    cached = geo.cached_grid_index()
    _other_process_moves(tree.grids[0], square(123.44, 41.94))
    assert geo.cached_grid_index() is cached, "nothing told this process"
    # The old spot is no longer in any grid; the new one is grids[0] — both on the very next lookup.
    spot = selectors.place_of_point(lat=lat, lng=lng)
    assert spot.grid is None and spot.fallback == tree.subdistrict
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid == tree.grids[0]
    assert selectors.locate(user=None, lat=OUTSIDE[0], lng=OUTSIDE[1]).grid == tree.grids[0]


def test_a_boundary_edit_through_the_service_is_seen_and_restamped_after_commit(
    tree, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.update_node(actor=admin, node_id=tree.grids[1].pk, boundary=square(123.44, 41.94))
    assert len(callbacks) == 1
    stamped = Node.objects.get(pk=tree.grids[1].pk).updated_at
    assert stamped >= Node.objects.filter(kind="grid").exclude(pk=tree.grids[1].pk).latest("updated_at").updated_at
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid == tree.grids[1]
    assert selectors.locate(user=admin, lat=OUTSIDE[0], lng=OUTSIDE[1]).grid == tree.grids[1]
    assert selectors.place_of_point(lat=41.905, lng=123.415).grid is None


def test_grids_added_and_boundaries_removed_are_seen(tree):  # type: ignore[no-untyped-def]
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid is None  # the index is now cached
    new = child(tree.communities[1], "grid", 7, "新网格", boundary=square(123.44, 41.94))
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid == new
    Node.objects.filter(pk=new.pk).update(boundary=None)  # the count of grids with a boundary drops
    assert selectors.place_of_point(lat=OUTSIDE[0], lng=OUTSIDE[1]).grid is None


def test_an_index_that_does_not_match_the_rows_is_not_trusted(tree):  # type: ignore[no-untyped-def]
    """A cached index whose key happens to match but whose ids name other places (e.g. built from data that was
    since replaced) is caught by the grid's code and rebuilt."""
    rows = list(Node.objects.filter(kind="grid").values_list("id", "code", "boundary"))
    ids = [r[0] for r in rows]
    shuffled = [(ids[(i + 1) % len(ids)], code, boundary) for i, (_, code, boundary) in enumerate(rows)]
    geo.forget_grid_index()
    geo._index_cache["index"] = geo.GridIndex.build(shuffled, key=geo.grid_key())
    assert selectors.place_of_point(lat=41.905, lng=123.435).grid == tree.grids[3]
    assert geo.cached_grid_index().locate(lat=41.905, lng=123.435) == tree.grids[3].pk


def test_the_index_is_not_rebuilt_while_nothing_changes(tree, monkeypatch):  # type: ignore[no-untyped-def]
    selectors.place_of_point(lat=41.905, lng=123.405)
    builds: list[int] = []
    real = geo.GridIndex.build
    monkeypatch.setattr(
        geo.GridIndex, "build", classmethod(lambda cls, rows, key="": builds.append(1) or real(rows, key))
    )
    for lng in (123.405, 123.415, 123.425, 123.435):
        assert selectors.place_of_point(lat=41.905, lng=lng).grid is not None
    selectors.locate(user=None, lat=41.905, lng=123.405)
    assert builds == []
    assert geo.grid_key() == geo.cached_grid_index().key


def test_nearest_building_is_the_same_as_comparing_every_building(tree):  # type: ignore[no-untyped-def]
    grid = tree.grids[0]
    rng = np.random.default_rng(11)
    for i, (dlat, dlng) in enumerate(rng.uniform(0.0005, 0.0095, (30, 2))):
        child(grid, "building", 10 + i, f"{i}号楼", centroid_lat=41.90 + dlat, centroid_lng=123.40 + dlng)
    b0 = tree.buildings[0]
    child(grid, "building", 99, "同位楼", centroid_lat=b0.centroid_lat, centroid_lng=b0.centroid_lng)  # a tie
    everyone = list(Node.objects.filter(parent=grid, kind="building").order_by("code"))

    def brute(lat: float, lng: float) -> Node | None:
        best = None
        for b in everyone:
            d = haversine_m(lat, lng, b.centroid_lat, b.centroid_lng)  # the great circle, computed independently
            if d <= 80.0 and (best is None or d < best[0]):
                best = (d, b)
        return best[1] if best else None

    for lat, lng in [(41.904, 123.404), *rng.uniform((41.9, 123.4), (41.91, 123.41), (300, 2)).tolist()]:
        want = brute(lat, lng)
        assert selectors.place_of_point(lat=lat, lng=lng).building == want
        assert selectors.nearest_building(grid=grid, lat=lat, lng=lng) == want
    assert selectors.place_of_point(lat=41.9041, lng=123.4041).building == b0, "ties: the lowest code"


def test_in_scope_is_what_the_scoped_query_says(tree, other_tree):  # type: ignore[no-untyped-def]
    co_cover(tree.communities[1], other_tree.committees[0])
    users = [
        None,
        user_with_role(Role.ADMIN),
        user_with_role(Role.GRID_WORKER, node=tree.grids[0]),
        user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1]),
        user_with_role(Role.COMMUNITY_STAFF, body=other_tree.committees[0]),  # a co-body of community 2
        user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict),
        user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department),
        user_with_role(Role.RESIDENT),
    ]
    for user in users:
        for grid in tree.grids:
            lat, lng = grid.centroid_lat, grid.centroid_lng
            expected = Node.objects.restrict(user, "view").filter(pk=grid.pk).exists()
            assert selectors.locate(user=user, lat=lat, lng=lng).in_scope is expected, (user, grid)
