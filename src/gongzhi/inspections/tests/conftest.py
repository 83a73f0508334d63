from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.inspections import services
from gongzhi.inspections.choices import PlaceKind
from gongzhi.inspections.models import ChecklistItem, Round


@pytest.fixture
def ground(tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    services.ensure_checklists(actor=operator, subdistrict_id=tree.subdistrict.pk)
    return {
        "operator": operator,
        "staff": user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]),
        "worker": user_with_role(Role.GRID_WORKER, node=tree.grids[0]),
        "worker2": user_with_role(Role.GRID_WORKER, node=tree.grids[1]),
        "head": user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0]),
    }


@pytest.fixture
def round_(tree, ground):  # type: ignore[no-untyped-def]
    plan = services.create_plan(
        actor=ground["staff"], area_id=tree.communities[0].pk, kind=PlaceKind.RESIDENTIAL, every_months=1
    )
    return Round.objects.get(plan=plan, building=tree.buildings[0])


def answers(round_: Round, fail: dict[int, str] | None = None) -> list[dict[str, object]]:
    fail = fail or {}
    items = ChecklistItem.objects.filter(checklist=round_.checklist, is_active=True).order_by("position")
    return [
        {"item": i.pk, "result": "fail" if i.position in fail else "pass", "note": "", "severity": fail.get(i.position)}
        for i in items
    ]
