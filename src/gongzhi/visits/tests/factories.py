"""Visit test helpers: households with residents under the small test tree."""

from __future__ import annotations

from typing import Any

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import Person
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node
from gongzhi.territory.tests.factories import child


def populate(building: Node, households: int, *, first_seq: int = 2, people: int = 1) -> list[Node]:
    """Add ``households`` households (each with ``people`` residents) to a building; returns them."""
    made = []
    for i in range(households):
        household = child(building, NodeKind.HOUSEHOLD, first_seq + i, f"1单元{first_seq + i:02d}室")
        for _ in range(people):
            make_person(household)
        made.append(household)
    return made


def resident_of(household: Node) -> Person:
    return Person.objects.filter(household=household).order_by("id").first() or make_person(household)


def staff(tree: Any) -> dict[str, Any]:
    """Community staff of community 1, and a grid worker on each of its two grids."""
    return {
        "staff": user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]),
        "worker1": user_with_role(Role.GRID_WORKER, node=tree.grids[0]),
        "worker2": user_with_role(Role.GRID_WORKER, node=tree.grids[1]),
    }
