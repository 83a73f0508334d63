from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.disputes.choices import TierKind
from gongzhi.disputes.models import DisputeKind, LadderTier
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body


@dataclass
class World:
    tree: Any
    team: Body  # the station's mediation team (老娘舅调解队)
    court: Body
    operator: Any  # the subdistrict desk (综治中心)
    staff: Any  # community 1's staff
    worker: Any  # grid 1 (of community 1)
    other_worker: Any  # grid 4 (community 2)
    mediator: Any  # of the team
    other_mediator: Any  # of the team, not assigned
    police: Any  # the police station's handler
    judge: Any  # the court's handler
    kind: DisputeKind


@pytest.fixture
def world(tree) -> World:  # type: ignore[no-untyped-def]
    team = Body.objects.create(name="老娘舅调解队", kind=BodyKind.SOCIAL_ORGANISATION, node=tree.subdistrict)
    court = Body.objects.create(name="巡回审判庭", kind=BodyKind.COURT)
    LadderTier.objects.create(subdistrict=tree.subdistrict, level=1, kind=TierKind.ON_SITE, name="联勤处置分队")
    LadderTier.objects.create(subdistrict=tree.subdistrict, level=2, kind=TierKind.STATION, name="综合治理站", body=team)
    LadderTier.objects.create(subdistrict=tree.subdistrict, level=3, kind=TierKind.REFERRAL, name="诉调对接")
    return World(
        tree=tree,
        team=team,
        court=court,
        operator=user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict),
        staff=user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0]),
        worker=user_with_role(Role.GRID_WORKER, node=tree.grids[0]),
        other_worker=user_with_role(Role.GRID_WORKER, node=tree.grids[3]),
        mediator=user_with_role(Role.MEDIATOR, node=tree.subdistrict, body=team),
        other_mediator=user_with_role(Role.MEDIATOR, node=tree.communities[1]),
        police=user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department),
        judge=user_with_role(Role.DEPARTMENT_HANDLER, body=court),
        kind=DisputeKind.objects.get(code="neighbour"),
    )
