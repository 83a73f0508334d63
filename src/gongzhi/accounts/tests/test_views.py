"""Log-in, "my scope", the staff of a place and revealing a phone number."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import PASSWORD, UserFactory, user_with_role
from gongzhi.core.models import AuditLog
from gongzhi.core.privacy import mask_phone
from gongzhi.territory.tests.factories import build_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return build_tree()


@pytest.fixture
def grid(tree):
    return tree.grids[0]


@pytest.fixture
def crew(grid):
    """A grid's "1+3+N", deliberately created out of order."""
    return {
        "police": user_with_role(Role.GRID_WORKER, node=grid, post=Post.POLICE, display_name="李警官"),
        "part_time": user_with_role(Role.GRID_WORKER, node=grid, post=Post.PART_TIME, display_name="赵兼职"),
        "leader": user_with_role(Role.GRID_LEADER, node=grid, post=Post.GRID_LEADER, display_name="张网格长"),
        "full_time": user_with_role(Role.GRID_WORKER, node=grid, post=Post.FULL_TIME, display_name="王专职"),
        "instructor": user_with_role(Role.GRID_WORKER, node=grid, post=Post.INSTRUCTOR, display_name="陈指导员"),
    }


@pytest.fixture
def community_staff(tree):
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], post=Post.SECRETARY, display_name="刘书记")


# --- log-in ------------------------------------------------------------------------------------------------------


def test_login_page_renders_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "共治 <span" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_login_with_a_wrong_password_says_so(client, community_staff):
    response = client.post(reverse("login"), {"username": community_staff.username, "password": "nope-nope-nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-error"' in html
    assert "用户名或密码不正确" in html


def test_login_and_logout(client, community_staff):
    response = client.post(reverse("login"), {"username": community_staff.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_too_many_failures_show_the_lockout_message(client, community_staff, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": community_staff.username, "password": "wrong-wrong"})
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="lockout-message"' in html
    assert "登录失败次数过多" in html
    assert "账号已锁定" in html  # axes' own message, translated by our catalogue
    assert "<html" in html  # a page of the site, not axes' bare text
    # Still locked with the right password.
    response = client.post(reverse("login"), {"username": community_staff.username, "password": PASSWORD})
    assert response.status_code == 429


def test_anonymous_is_sent_to_login(client, grid, crew):
    for method, url in (
        ("get", reverse("home")),
        ("get", reverse("accounts-staff", args=[grid.pk])),
        ("post", reverse("accounts-reveal", args=[crew["leader"].pk])),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))
    assert not AuditLog.objects.filter(action="privacy.reveal").exists()


# --- home: my scope ----------------------------------------------------------------------------------------------


def test_home_lists_my_roles_and_places_with_counts(client, tree, community_staff):
    client.force_login(community_staff)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "工作台" in html
    assert "社区工作人员" in html  # the role
    community = tree.communities[0]
    assert community.name in html and community.code in html
    assert reverse("territory-node", args=[community.pk]) in html
    assert f"{reverse('territory-browser')}?node={community.pk}" in html
    place = response.context["places"][0]
    assert {c["kind"]: c["count"] for c in place["counts"]} == {"grid": 2, "building": 2, "household": 2}
    assert tree.communities[1].name not in html


def test_home_of_a_grid_worker(client, grid, crew):
    client.force_login(crew["full_time"])
    response = client.get(reverse("home"))
    place = response.context["places"][0]
    assert place["node"] == grid
    assert {c["kind"]: c["count"] for c in place["counts"]} == {"building": 1, "household": 1}


def test_home_of_a_resident_without_territory(client, tree):
    resident = UserFactory()
    from gongzhi.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=resident, role=Role.RESIDENT)
    client.force_login(resident)
    html = client.get(reverse("home")).content.decode()
    assert 'id="wb-mine"' in html and 'id="my-places"' not in html, "a resident's home is their reports"
    assert tree.subdistrict.name not in html


# --- staff of a place (1+3+N) ----------------------------------------------------------------------------------


def test_staff_partial_groups_1_3_n_and_masks_phones(client, grid, crew, community_staff):
    client.force_login(community_staff)
    response = client.get(reverse("accounts-staff", args=[grid.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    order = [html.index(crew[k].display_name) for k in ("leader", "full_time", "part_time", "instructor", "police")]
    assert order == sorted(order)
    assert [g["key"] for g in response.context["groups"]] == ["1", "3", "N"]
    for person in crew.values():
        assert person.phone not in html
        assert mask_phone(person.phone) in html
    # Community staff may reveal: each phone has a reveal button.
    assert html.count('class="button button-small button-quiet reveal"') == len(crew)
    assert reverse("accounts-reveal", args=[crew["leader"].pk]) in html


def test_staff_partial_offers_no_reveal_without_the_right(client, grid, crew):
    client.force_login(crew["full_time"])  # a grid worker may view, not reveal
    html = client.get(reverse("accounts-staff", args=[grid.pk])).content.decode()
    assert crew["leader"].display_name in html
    assert "hx-post" not in html
    assert crew["leader"].phone not in html


def test_staff_of_an_out_of_scope_place_is_not_found(client, tree, crew):
    client.force_login(crew["full_time"])
    assert client.get(reverse("accounts-staff", args=[tree.grids[1].pk])).status_code == 404


# --- reveal ---------------------------------------------------------------------------------------------------


def test_reveal_in_scope_returns_the_number_and_is_audited(client, crew, community_staff):
    target = crew["leader"]
    client.force_login(community_staff)
    response = client.post(reverse("accounts-reveal", args=[target.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert target.phone in response.content.decode()
    log = AuditLog.objects.get(action="privacy.reveal")
    assert log.actor == community_staff
    assert log.object_id == str(target.pk)
    assert "phone" in log.note


def test_reveal_out_of_scope_is_not_found_and_not_audited(client, tree, crew):
    outsider = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1])
    client.force_login(outsider)
    response = client.post(reverse("accounts-reveal", args=[crew["leader"].pk]))
    assert response.status_code == 404
    assert crew["leader"].phone not in response.content.decode()
    assert not AuditLog.objects.filter(action="privacy.reveal").exists()


def test_reveal_without_the_right_is_forbidden(client, crew):
    client.force_login(crew["full_time"])
    response = client.post(reverse("accounts-reveal", args=[crew["leader"].pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert crew["leader"].phone not in response.content.decode()
    assert not AuditLog.objects.filter(action="privacy.reveal").exists()


def test_reveal_needs_post(client, crew, community_staff):
    client.force_login(community_staff)
    assert client.get(reverse("accounts-reveal", args=[crew["leader"].pk])).status_code == 405
    assert not AuditLog.objects.filter(action="privacy.reveal").exists()
