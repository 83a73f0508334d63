"""Authentication, the common error shape, masking and audited reveal through the API."""

from __future__ import annotations

import json

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import ApiToken, RoleAssignment
from gongzhi.accounts.tests.factories import PASSWORD, user_with_role
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _token(client, username, password):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json")


def test_token_is_issued_and_works(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    response = _token(client, user.username, PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    assert not ApiToken.objects.filter(key_hash=key).exists(), "only the hash is stored"
    me = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert me.json()["roles"][0]["role"] == Role.GRID_WORKER


def test_wrong_password_and_lockout(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    response = _token(client, user.username, "wrong")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"
    for _ in range(6):
        response = _token(client, user.username, "wrong")
    assert response.status_code == 429 and response.json()["error"]["code"] == "locked_out"
    assert _token(client, user.username, PASSWORD).status_code == 429, "locked out even with the right password"


def test_no_credentials_is_401_in_the_common_shape(client):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/territory/nodes")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}
    response = client.get("/api/v1/territory/nodes", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_validation_error_names_the_field(tree, api):  # type: ignore[no-untyped-def]
    api.as_user(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict))
    response = api.post("/api/v1/territory/nodes", {"parent_id": tree.communities[0].pk})
    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"kind", "name"} <= fields
    response = api.post("/api/v1/territory/nodes",
                        {"parent_id": tree.communities[0].pk, "kind": "building", "name": "楼"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "kind"


def test_session_auth_needs_csrf_for_writes(tree, client):  # type: ignore[no-untyped-def]
    from django.test import Client

    user = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.get("/api/v1/accounts/me").status_code == 200
    response = strict.post("/api/v1/territory/nodes", data=json.dumps(
        {"parent_id": tree.communities[0].pk, "kind": "grid", "name": "新网格"}), content_type="application/json")
    assert response.status_code in (401, 403)


def test_bearer_token_writes_need_no_csrf(tree):  # type: ignore[no-untyped-def]
    """A client with a token (a phone app, a script) is not a browser session: no CSRF cookie, yet writes work,
    also when the same client happens to hold a session cookie."""
    from django.test import Client

    user = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    strict = Client(enforce_csrf_checks=True)
    token = strict.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": user.username, "password": PASSWORD}),
        content_type="application/json",
    ).json()["token"]
    body = json.dumps({"parent_id": tree.communities[0].pk, "kind": "grid", "name": "令牌网格"})
    response = strict.post(
        "/api/v1/territory/nodes", data=body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.content
    strict.force_login(user)
    response = strict.post(
        "/api/v1/territory/nodes",
        data=body.replace("令牌网格", "令牌网格二"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    # Without the token the session still needs its CSRF token.
    response = strict.post("/api/v1/territory/nodes", data=body, content_type="application/json")
    assert response.status_code in (401, 403)


def test_create_node_through_the_api_is_audited(tree, api):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    api.as_user(staff)
    response = api.post("/api/v1/territory/nodes", {"parent_id": tree.grids[0].pk, "kind": "building",
                                                    "name": "新建3号楼", "floors": 18})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == f"{tree.grids[0].code}0002" and body["lead_body"]["id"] == tree.committees[0].pk
    log = AuditLog.objects.get(action="territory.node_created")
    assert log.actor == staff and log.after["name"] == "新建3号楼" and log.node_code == body["code"]
    # Not in another community.
    response = api.post("/api/v1/territory/nodes", {"parent_id": tree.grids[2].pk, "kind": "building", "name": "x"})
    assert response.status_code == 404


def test_reveal_phone_is_audited_and_scoped(tree, other_tree, api):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], phone="13512345678")
    stranger = user_with_role(Role.GRID_WORKER, node=other_tree.grids[0], phone="13587654321")
    api.as_user(staff)
    detail = api.get(f"/api/v1/accounts/users/{worker.pk}").json()
    assert detail["phone_masked"] == "135****5678"
    response = api.post(f"/api/v1/accounts/users/{worker.pk}/reveal", {"field": "phone"})
    assert response.status_code == 200 and response.json()["value"] == "13512345678"
    log = AuditLog.objects.get(action="privacy.reveal")
    assert log.actor == staff and log.object_id == str(worker.pk) and log.note == "field=phone"
    assert api.post(f"/api/v1/accounts/users/{stranger.pk}/reveal", {"field": "phone"}).status_code == 404
    assert api.post(f"/api/v1/accounts/users/{worker.pk}/reveal", {"field": "password"}).status_code == 400
    # A grid worker may see colleagues but not reveal their numbers.
    peer = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(peer)
    assert api.get(f"/api/v1/accounts/users/{worker.pk}").status_code == 200
    assert api.post(f"/api/v1/accounts/users/{worker.pk}/reveal", {"field": "phone"}).status_code == 403
    assert AuditLog.objects.filter(action="privacy.reveal").count() == 1


def test_grant_and_revoke_roles(tree, other_tree, api):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    newcomer = user_with_role(Role.GRID_WORKER, node=tree.grids[1])
    api.as_user(operator)
    response = api.post(f"/api/v1/accounts/users/{newcomer.pk}/roles",
                        {"role": "grid_leader", "node_id": tree.grids[1].pk, "post": Post.GRID_LEADER})
    assert response.status_code == 201, response.content
    assignment_id = response.json()["id"]
    staff = api.get(f"/api/v1/accounts/staff?node_id={tree.grids[1].pk}").json()
    assert staff[0]["post"] == Post.GRID_LEADER, "the grid leader comes first (1+3+N)"
    # Not on another subdistrict's ground.
    response = api.post(f"/api/v1/accounts/users/{newcomer.pk}/roles",
                        {"role": "grid_leader", "node_id": other_tree.grids[1].pk})
    assert response.status_code == 404
    assert api.delete(f"/api/v1/accounts/roles/{assignment_id}").status_code == 204
    assert not RoleAssignment.objects.get(pk=assignment_id).is_active
    assert AuditLog.objects.filter(action__in=["accounts.role_granted", "accounts.role_revoked"]).count() == 2


def test_only_admins_make_admins(tree, api):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    other = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    api.as_user(operator)
    assert api.post(f"/api/v1/accounts/users/{other.pk}/roles", {"role": "admin"}).status_code == 403


def test_a_token_stops_working_when_it_expires_or_its_user_is_deactivated(tree, client):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _token(client, user.username, PASSWORD).json()["token"]
    auth = {"Authorization": f"Bearer {key}"}
    me = client.get("/api/v1/accounts/me", headers=auth)
    assert me.status_code == 200 and [r["role"] for r in me.json()["roles"]] == [Role.GRID_WORKER]
    user.is_active = False
    user.save(update_fields=["is_active"])  # however it is switched off (the admin also ends its tokens)
    assert client.get("/api/v1/accounts/me", headers=auth).status_code == 401
    user.is_active = True
    user.save(update_fields=["is_active"])
    key = _token(client, user.username, PASSWORD).json()["token"]
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/accounts/me", headers=auth).status_code == 200
    ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/accounts/me", headers=auth)
    assert response.status_code == 401 and response.json()["error"]["code"]
    other = user_with_role(Role.GRID_WORKER, node=tree.grids[1])
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}x"}).status_code == 401
    assert other.api_tokens.count() == 0


def test_a_tokens_last_use_is_kept_to_five_minutes(tree, client):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _token(client, user.username, PASSWORD).json()["token"]
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is None
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(minutes=1)
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first, "not written again within five minutes"
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=6))
    assert client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_scope_reads_only_active_role_assignments(tree):  # type: ignore[no-untyped-def]
    from gongzhi.accounts.models import User

    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, node=tree.communities[1], is_active=False)
    fresh = User.objects.get(pk=user.pk)
    assert fresh.roles() == {Role.GRID_WORKER}
    scope = fresh.scope_for("cases.case", "change")
    assert scope.prefixes == frozenset({tree.grids[0].code})


def test_the_operator_sees_every_user_of_the_subdistricts_bodies(tree, other_tree, api):  # type: ignore[no-untyped-def]
    """Department handlers act for a body, not on a place: the operator who grants roles still lists them — the
    handlers of every body placed in the subdistrict, leading or co-covering a place there (a department without a
    home ground included); not those of a body attached nowhere, nor another subdistrict's."""
    from gongzhi.territory.choices import BodyKind
    from gongzhi.territory.models import Body
    from gongzhi.territory.tests.factories import co_cover

    police = user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department)  # placed on the subdistrict
    company = Body.objects.create(name="府东物业", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])
    property_staff = user_with_role(Role.DEPARTMENT_HANDLER, body=company)
    urban = Body.objects.create(name="城管执法中队", kind=BodyKind.DEPARTMENT)  # no home ground …
    co_cover(tree.grids[1], urban)  # … but it co-covers a grid of the subdistrict
    urban_staff = user_with_role(Role.DEPARTMENT_HANDLER, body=urban)
    court = Body.objects.create(name="巡回审判庭", kind=BodyKind.COURT)  # attached to no place
    judge = user_with_role(Role.DEPARTMENT_HANDLER, body=court)
    elsewhere = user_with_role(Role.DEPARTMENT_HANDLER, body=other_tree.department)
    unit = Body.objects.create(name="共建单位", kind=BodyKind.CO_BUILDING_UNIT, node=tree.subdistrict)
    unit_user = user_with_role(Role.CO_BUILDING_UNIT, body=unit)

    api.as_user(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict))
    listed = {u["username"] for u in api.get("/api/v1/accounts/users?role=department_handler").json()["items"]}
    assert listed == {police.username, property_staff.username, urban_staff.username}
    assert judge.username not in listed and elsewhere.username not in listed
    everyone = {u["username"] for u in api.get("/api/v1/accounts/users?page_size=100").json()["items"]}
    assert unit_user.username in everyone
    assert api.get(f"/api/v1/accounts/users/{police.pk}").status_code == 200
    assert api.get(f"/api/v1/accounts/users/{elsewhere.pk}").status_code == 404
    # The operator can hand such a user another role, as the README says it does.
    response = api.post(f"/api/v1/accounts/users/{urban_staff.pk}/roles",
                        {"role": Role.GRID_WORKER, "node_id": tree.grids[1].pk, "post": "police"})
    assert response.status_code == 201, response.content

    # Community staff see the partners placed in or covering their community (the urban team co-covers one of its
    # grids), not the departments placed on the subdistrict.
    api.as_user(user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]))
    listed = {u["username"] for u in api.get("/api/v1/accounts/users?role=department_handler").json()["items"]}
    assert listed == {property_staff.username, urban_staff.username}
