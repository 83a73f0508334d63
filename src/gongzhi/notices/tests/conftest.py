"""Notice fixtures: the small test tree with three inhabited households per grid, one empty household and one whose
only resident has moved away (inactive), some residents tagged."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node
from gongzhi.territory.tests.factories import Tree, child, co_cover


@dataclass
class Ground:
    tree: Tree
    inhabited: dict[int, list[Node]]  # grid index → inhabited households
    empty: list[Node]  # households nobody (active) lives in
    elderly: list[Node]  # households with a resident tagged "elderly" today
    village: Body  # a village committee co-covering community 0 (村居融洽)

    def community_households(self, c: int) -> list[Node]:
        return [h for g in (2 * c, 2 * c + 1) for h in self.inhabited[g]]

    @property
    def all_households(self) -> list[Node]:
        return [h for g in sorted(self.inhabited) for h in self.inhabited[g]]


def build_ground(tree: Tree) -> Ground:
    today = datetime.date.today()
    inhabited: dict[int, list[Node]] = {}
    empty: list[Node] = []
    elderly: list[Node] = []
    for g, building in enumerate(tree.buildings):
        households = [tree.households[g]] + [
            child(building, NodeKind.HOUSEHOLD, n, f"1单元{100 + n}", address=f"{building.name}1单元{100 + n}")
            for n in (2, 3)
        ]
        for n, household in enumerate(households):
            person = make_person(household, name=f"居民{g}{n}", phone=f"139{g}{n}00{g}{n}{n}{n}")
            if n == 0:
                PersonTag.objects.create(person=person, tag="elderly", since=today - datetime.timedelta(days=400))
                elderly.append(household)
            if n == 1:  # tags that do not apply today
                PersonTag.objects.create(
                    person=person,
                    tag="elderly",
                    since=today - datetime.timedelta(days=400),
                    until=today - datetime.timedelta(days=1),
                )
                PersonTag.objects.create(person=person, tag="elderly", since=today + datetime.timedelta(days=5))
        inhabited[g] = households
        nobody = child(building, NodeKind.HOUSEHOLD, 8, "1单元108")
        gone = child(building, NodeKind.HOUSEHOLD, 9, "1单元109")
        make_person(gone, name="已迁出", is_active=False)
        empty += [nobody, gone]
    village = Body.objects.create(name="渔业村村委会", kind=BodyKind.VILLAGE_COMMITTEE, node=tree.subdistrict)
    co_cover(tree.communities[0], village)
    return Ground(tree, inhabited, empty, elderly, village)


@pytest.fixture
def ground(tree) -> Ground:  # type: ignore[no-untyped-def]
    return build_ground(tree)


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    """Community 0's staff, for its residents' committee."""
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def staff_b(tree):  # type: ignore[no-untyped-def]
    """Community 1's staff."""
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])


@pytest.fixture
def village_staff(ground):  # type: ignore[no-untyped-def]
    """Staff of the village committee that co-covers community 0 (no place of their own)."""
    return user_with_role(Role.COMMUNITY_STAFF, body=ground.village)


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    """The grid worker of community 0's first grid."""
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


@pytest.fixture
def worker_b(tree):  # type: ignore[no-untyped-def]
    """The grid worker of community 0's second grid."""
    return user_with_role(Role.GRID_WORKER, node=tree.grids[1])
