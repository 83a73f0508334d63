from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Private uploads (``core.storage``) go to the test's own directory, never to var/."""
    settings.PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVATE_ROOT


@pytest.fixture
def property_company(tree):  # type: ignore[no-untyped-def]
    """A property company with someone on duty for it (cases can be dispatched to it: someone can act)."""
    company = Body.objects.create(name="府东物业公司", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])
    user_with_role(Role.DEPARTMENT_HANDLER, body=company)
    return company


@pytest.fixture
def nobodys_company(tree):  # type: ignore[no-untyped-def]
    """A property company nobody acts for in Gongzhi."""
    return Body.objects.create(name="道义物业公司", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return user_with_role(Role.ADMIN)


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def handler(property_company):  # type: ignore[no-untyped-def]
    return user_with_role(Role.DEPARTMENT_HANDLER, body=property_company)
