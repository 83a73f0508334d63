from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.open311 import services


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return user_with_role(Role.ADMIN)


@pytest.fixture
def key(tree):  # type: ignore[no-untyped-def]
    """A client app's key for the tree's subdistrict: (the row, the secret shown once)."""
    new = services.create_key(actor=None, name="市民通", subdistrict=tree.subdistrict, contact="dev@example.com")
    return new.key, new.secret
