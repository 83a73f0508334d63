"""Service fixtures: community 0's staff, a post there, and two reported-in on-duty party members living in
community 0 with resident log-ins linked to them (so they can claim)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PartyMember
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import services
from gongzhi.service.models import PersonAccount, Post, PostKind
from gongzhi.territory.models import Body, PartyOrg


@dataclass
class Members:
    branch: PartyOrg
    unit: Body
    users: list[Any]
    members: list[PartyMember]


def party_member(tree: Any, name: str, branch: PartyOrg, unit: Body, community: int = 0) -> tuple[Any, PartyMember]:
    person = make_person(tree.households[2 * community], name=name)
    member = PartyMember.objects.create(
        person=person,
        member_type="on_duty",
        branch=branch,
        work_unit=unit,
        reported_in=True,
        reported_in_on=datetime.date(2026, 3, 1),
    )
    user = user_with_role(Role.RESIDENT, node=tree.communities[community])
    PersonAccount.objects.create(user=user, person=person)
    return user, member


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def members(tree) -> Members:  # type: ignore[no-untyped-def]
    branch = PartyOrg.objects.create(
        name="市税务局机关党支部", kind="general_branch", parent=tree.party_root, node=tree.subdistrict
    )
    unit = Body.objects.create(name="市税务局", kind="enterprise")
    pairs = [party_member(tree, name, branch, unit) for name in ("王在职", "李在职")]
    return Members(branch, unit, [u for u, _m in pairs], [m for _u, m in pairs])


@pytest.fixture
def post(tree, staff) -> Post:  # type: ignore[no-untyped-def]
    return services.publish_post(
        actor=staff,
        kind_id=PostKind.objects.get(name="楼道长").pk,
        title="1号楼楼道长",
        area_id=tree.grids[0].pk,
        schedule="每周六 8:00–10:00",
        capacity=1,
    )
