"""Point → grid: inside, on shared borders, and outside every grid."""

from __future__ import annotations

import numpy as np
import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory import geo

pytestmark = pytest.mark.django_db


def test_point_inside_a_grid(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[1]))
    body = api.get("/api/v1/territory/locate?lat=41.905&lng=123.415").json()
    assert body["grid"]["code"] == tree.grids[1].code
    assert body["community"]["code"] == tree.communities[0].code
    assert body["fallback"] is None and body["in_scope"] is True


def test_point_on_a_shared_border_goes_to_the_lowest_code(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict))
    # grids[0] spans lng 123.40–123.41, grids[1] 123.41–123.42: the border is lng 123.41.
    body = api.get("/api/v1/territory/locate?lat=41.905&lng=123.41").json()
    assert body["grid"]["code"] == tree.grids[0].code
    # The corner shared by grids[1] and grids[2] (different communities).
    body = api.get("/api/v1/territory/locate?lat=41.90&lng=123.42").json()
    assert body["grid"]["code"] == tree.grids[1].code


def test_point_outside_every_grid_falls_back_to_the_subdistrict(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    response = api.get("/api/v1/territory/locate?lat=41.95&lng=123.45")
    assert response.status_code == 200
    body = response.json()
    assert body["grid"] is None and body["community"] is None
    assert body["fallback"]["code"] == tree.subdistrict.code
    assert body["message"] == "该点不在任何网格内，由街道受理台接收。"
    english = api.get("/api/v1/territory/locate?lat=41.95&lng=123.45", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "outside every grid" in english["message"]


def test_out_of_scope_grid_is_flagged(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    body = api.get("/api/v1/territory/locate?lat=41.905&lng=123.435").json()
    assert body["grid"]["code"] == tree.grids[3].code and body["in_scope"] is False


def test_bad_coordinates_get_a_clear_error(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.GRID_WORKER, node=tree.grids[0]))
    response = api.get("/api/v1/territory/locate?lat=123.4&lng=41.9")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "lat"
    response = api.get("/api/v1/territory/locate?lat=abc&lng=41.9")
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "lat"


def test_index_is_rebuilt_when_boundaries_change(tree):  # type: ignore[no-untyped-def]
    from gongzhi.territory.tests.factories import square

    first = geo.grid_index()
    assert first.locate(lat=41.945, lng=123.445) is None
    tree.grids[0].boundary = square(123.44, 41.94)
    tree.grids[0].save()
    assert geo.grid_index().locate(lat=41.945, lng=123.445) == tree.grids[0].pk


def test_locate_many_matches_single_lookups(tree):  # type: ignore[no-untyped-def]
    index = geo.grid_index()
    rng = np.random.default_rng(7)
    lats = rng.uniform(41.89, 41.92, 500)
    lngs = rng.uniform(123.39, 123.45, 500)
    many = index.locate_many(lats=lats, lngs=lngs)
    single = [index.locate(lat=a, lng=b) for a, b in zip(lats, lngs, strict=True)]
    assert [(-1 if s is None else s) for s in single] == many.tolist()
    assert (many == -1).any() and (many != -1).any()
