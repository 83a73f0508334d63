"""The territory browser pages: tree, panel and node page, always within the user's scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree, co_cover

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return build_tree()


@pytest.fixture
def worker(tree):
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王网格")


@pytest.fixture
def community_staff(tree):
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], post=Post.SOCIAL_WORKER)


def test_anonymous_is_sent_to_login(client, tree):
    for url in (
        reverse("territory-browser"),
        reverse("territory-node", args=[tree.grids[0].pk]),
        reverse("territory-node-panel", args=[tree.grids[0].pk]),
        reverse("territory-node-children", args=[tree.grids[0].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_anonymous_htmx_request_reloads_on_login(client, tree):
    response = client.get(reverse("territory-node-panel", args=[tree.grids[0].pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_browser_page_renders_tree_and_map(client, tree, worker):
    client.force_login(worker)
    response = client.get(reverse("territory-browser"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="map"' in html
    assert 'id="node-panel"' in html
    assert "vendor/leaflet/leaflet.js" in html and "vendor/htmx/htmx.min.js" in html
    assert "/api/v1/territory/boundaries?kind=grid" in html
    # The tree starts at the worker's grid, not at the subdistrict.
    assert f'data-grid-code="{tree.grids[0].code}"' in html
    assert tree.subdistrict.name not in html.split('id="territory-tree"')[1]
    assert "辖区地图" in html  # Chinese by default
    assert "X-CSRFToken" in html  # htmx sends the CSRF token


def test_browser_preselects_a_node_from_the_query(client, tree, worker):
    client.force_login(worker)
    response = client.get(reverse("territory-browser"), {"node": tree.grids[0].pk})
    assert 'id="node-detail"' in response.content.decode()
    # An out-of-scope or bogus node is ignored, not an error.
    for value in (tree.grids[1].pk, "x"):
        response = client.get(reverse("territory-browser"), {"node": value})
        assert response.status_code == 200
        assert 'id="node-detail"' not in response.content.decode()


def test_panel_of_a_grid_shows_lead_body_co_bodies_party_and_buildings(client, tree, worker):
    grid = tree.grids[0]
    property_company = Body.objects.create(name="绿城物业", kind=BodyKind.PROPERTY_COMPANY)
    co_cover(grid, property_company)
    client.force_login(worker)
    response = client.get(reverse("territory-node-panel", args=[grid.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert grid.name in html and grid.code in html
    assert grid.lead_body.name in html
    assert "牵头单位" in html
    assert "绿城物业" in html
    assert "多主体共管" in html and 'data-overlap="true"' in html
    assert f"{grid.name}党支部" in html
    assert tree.buildings[0].name in html
    assert "1 户" in html  # one household in the building
    assert tree.households[0].name not in html  # households are counted, not listed
    # Breadcrumb: subdistrict and community are shown as context.
    assert tree.subdistrict.name in html and tree.communities[0].name in html
    # Staff come from the accounts app by HTMX, not from an import.
    assert reverse("accounts-staff", args=[grid.pk]) in html
    assert f'data-grid-id="{grid.pk}"' in html


def test_panel_without_overlap_has_no_overlap_box(client, tree, worker):
    client.force_login(worker)
    html = client.get(reverse("territory-node-panel", args=[tree.grids[0].pk])).content.decode()
    assert 'data-overlap="true"' not in html


def test_co_body_declared_on_an_ancestor_shows_on_the_grid(client, tree, worker):
    co_cover(tree.communities[0], Body.objects.create(name="渔业合作社", kind=BodyKind.ECONOMIC_COOPERATIVE))
    client.force_login(worker)
    html = client.get(reverse("territory-node-panel", args=[tree.grids[0].pk])).content.decode()
    assert "渔业合作社" in html and "多主体共管" in html


def test_out_of_scope_node_is_not_found(client, tree, worker):
    client.force_login(worker)
    other = tree.grids[1]
    for name in ("territory-node", "territory-node-panel", "territory-node-children"):
        response = client.get(reverse(name, args=[other.pk]))
        assert response.status_code == 404, name
    # A node above the worker's grid is context in the breadcrumb, but not a page of its own.
    assert client.get(reverse("territory-node", args=[tree.communities[0].pk])).status_code == 404
    assert client.get(reverse("territory-node", args=[999999])).status_code == 404


def test_not_found_page_and_htmx_fragment(client, tree, worker):
    client.force_login(worker)
    page = client.get(reverse("territory-node", args=[tree.grids[1].pk]))
    assert "<html" in page.content.decode() and "404" in page.content.decode()
    fragment = client.get(reverse("territory-node-panel", args=[tree.grids[1].pk]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 404
    assert "<html" not in fragment.content.decode()
    assert 'role="alert"' in fragment.content.decode()


def test_node_page_has_the_panel(client, tree, community_staff):
    client.force_login(community_staff)
    grid = tree.grids[1]
    response = client.get(reverse("territory-node", args=[grid.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="node-detail"' in html and grid.name in html and grid.lead_body.name in html
    assert f"{reverse('territory-browser')}?node={grid.pk}" in html
    assert tree.buildings[1].name in html


def test_children_partial_lists_the_next_level_without_households(client, tree, community_staff):
    client.force_login(community_staff)
    html = client.get(reverse("territory-node-children", args=[tree.communities[0].pk])).content.decode()
    assert tree.grids[0].name in html and tree.grids[1].name in html
    assert tree.grids[2].name not in html
    html = client.get(reverse("territory-node-children", args=[tree.grids[0].pk])).content.decode()
    assert tree.buildings[0].name in html
    assert tree.households[0].name not in html


def test_community_staff_tree_starts_at_their_community(client, tree, community_staff):
    client.force_login(community_staff)
    html = client.get(reverse("territory-browser")).content.decode()
    tree_html = html.split('id="territory-tree"')[1]
    assert tree.communities[0].name in tree_html
    assert tree.communities[1].name not in tree_html


def test_english_through_the_language_switch(client, tree, worker):
    client.force_login(worker)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("territory-browser")})
    assert response.status_code == 302
    html = client.get(reverse("territory-browser")).content.decode()
    assert "Territory map" in html and "辖区地图" not in html
    html = client.get(reverse("territory-node-panel", args=[tree.grids[0].pk])).content.decode()
    assert "Lead body" in html
