"""API tokens end with a password change or a deactivation; users list and revoke theirs, administrators anyone's;
every revocation is audited."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import ApiToken, User
from gongzhi.accounts.tests.factories import PASSWORD, user_with_role
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Horse-77"


def _key(client, user, password=PASSWORD) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/token", data=json.dumps({"username": user.username, "password": password}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _me(client, key: str) -> int:  # type: ignore[no-untyped-def]
    """The token alone (a fresh client: no session to fall back on)."""
    return Client().get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code


def test_a_password_changed_anywhere_ends_the_tokens(tree, client):  # type: ignore[no-untyped-def]
    """set_password in any code path: the tokens issued before stop working; one issued after works."""
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _key(client, user)
    assert _me(client, key) == 200
    user.set_password(NEW_PASSWORD)
    user.save()
    assert _me(client, key) == 401
    assert not ApiToken.objects.filter(key_hash=ApiToken.hash(key)).exists(), "the dead token is gone"
    fresh = _key(client, user, NEW_PASSWORD)
    assert _me(client, fresh) == 200


def test_the_admins_password_form_ends_the_tokens(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _key(client, user)
    root = user_with_role(Role.ADMIN)
    client.force_login(root)
    response = client.post(f"/admin/accounts/user/{user.pk}/password/",
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content
    client.logout()
    assert _me(client, key) == 401
    assert not ApiToken.objects.filter(user=user).exists()
    row = AuditLog.objects.get(action="auth.tokens_revoked", object_id=str(user.pk))
    assert row.actor == root and row.after["reason"] == "password_changed"


def test_deactivation_ends_the_tokens_for_good(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _key(client, user)
    root = user_with_role(Role.ADMIN)
    request = RequestFactory().post("/admin/")
    request.user = root
    user.is_active = False
    admin.site._registry[User].save_model(request, user, SimpleNamespace(changed_data=["is_active"]), True)
    assert _me(client, key) == 401
    user.is_active = True
    user.save()
    assert _me(client, key) == 401, "switched on again, the old token stays ended"
    assert AuditLog.objects.get(action="auth.tokens_revoked").after["reason"] == "deactivated"


def test_a_user_lists_and_revokes_their_tokens(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    other = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    laptop, phone = _key(client, user), _key(client, user)
    theirs = _key(client, other)
    auth = {"Authorization": f"Bearer {laptop}"}
    listed = client.get("/api/v1/accounts/tokens", headers=auth).json()
    assert len(listed) == 2 and [t["current"] for t in listed].count(True) == 1
    assert all("token" not in t and "key_hash" not in t for t in listed)
    phone_id = next(t["id"] for t in listed if not t["current"])
    assert client.delete(f"/api/v1/accounts/tokens/{phone_id}", headers=auth).status_code == 204
    assert _me(client, phone) == 401 and _me(client, laptop) == 200
    row = AuditLog.objects.get(action="auth.token_revoked")
    assert row.actor == user and row.after == {"tokens": [phone_id], "reason": "revoked"}
    # Someone else's token: not found, and it still works.
    their_id = ApiToken.objects.get(user=other).pk
    response = client.delete(f"/api/v1/accounts/tokens/{their_id}", headers=auth)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert _me(client, theirs) == 200
    assert client.get(f"/api/v1/accounts/tokens?user_id={other.pk}", headers=auth).status_code == 403
    assert client.delete(f"/api/v1/accounts/users/{other.pk}/tokens", headers=auth).status_code == 403
    # Log out everywhere.
    response = client.delete(f"/api/v1/accounts/users/{user.pk}/tokens", headers=auth)
    assert response.status_code == 200 and response.json() == {"revoked": 1}
    assert _me(client, laptop) == 401


def test_the_admin_revokes_anyones_tokens(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    keys = [_key(client, user), _key(client, user)]
    root = user_with_role(Role.ADMIN)
    auth = {"Authorization": f"Bearer {_key(client, root)}"}
    assert len(client.get(f"/api/v1/accounts/tokens?user_id={user.pk}", headers=auth).json()) == 2
    one = ApiToken.objects.filter(user=user).order_by("id").first()
    assert client.delete(f"/api/v1/accounts/tokens/{one.pk}", headers=auth).status_code == 204
    response = client.delete(f"/api/v1/accounts/users/{user.pk}/tokens", headers=auth)
    assert response.json() == {"revoked": 1}
    assert [_me(client, k) for k in keys] == [401, 401]
    assert AuditLog.objects.filter(actor=root, action__in=["auth.token_revoked", "auth.tokens_revoked"]).count() == 2
    # The operator grants roles but does not handle other people's credentials.
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    _key(client, user)
    op_auth = {"Authorization": f"Bearer {_key(client, operator)}"}
    assert client.delete(f"/api/v1/accounts/users/{user.pk}/tokens", headers=op_auth).status_code == 403
    assert ApiToken.objects.filter(user=user).count() == 1


def test_the_django_admin_revokes_tokens(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _key(client, user)
    client.force_login(user_with_role(Role.ADMIN))
    token = ApiToken.objects.get(user=user)
    assert client.get("/admin/accounts/apitoken/").status_code == 200
    response = client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert _me(client, key) == 401
    key = _key(client, user)
    response = client.post("/admin/accounts/user/", {"action": "revoke_api_tokens", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert _me(client, key) == 401
    assert AuditLog.objects.filter(action__in=["auth.token_revoked", "auth.tokens_revoked"]).count() == 2


def test_my_page_lists_and_revokes_my_tokens(tree, client):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    key = _key(client, user)
    token = ApiToken.objects.get(user=user)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert f'data-token-id="{token.pk}"' in page and key not in page and token.key_hash not in page
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert _me(client, key) == 401
    assert 'id="my-tokens"' not in client.get("/").content.decode()
