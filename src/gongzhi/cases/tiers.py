"""Tiers: 小事不出楼宇、大事不出网格、难事不出社区 — building → grid → community → subdistrict → department.

A case starts at the tier of its place. Escalation moves it one tier up, hands ownership to the lead body of that
level (the community's committee, the subdistrict office) on the record, and counts it. It happens by hand (with a
reason) or automatically when a deadline is missed.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import Tier
from gongzhi.cases.models import Case
from gongzhi.core.errors import Conflict
from gongzhi.core.messages import fmt
from gongzhi.core.scope import ancestor_codes
from gongzhi.territory.choices import NodeKind

TIER_OF_KIND = {
    NodeKind.HOUSEHOLD: Tier.BUILDING,
    NodeKind.BUILDING: Tier.BUILDING,
    NodeKind.GRID: Tier.GRID,
    NodeKind.COMMUNITY: Tier.COMMUNITY,
    NodeKind.VILLAGE: Tier.COMMUNITY,
    NodeKind.SUBDISTRICT: Tier.SUBDISTRICT,
}
# The code length of the level that owns each tier.
LEVEL_OF_TIER = {Tier.BUILDING: 19, Tier.GRID: 15, Tier.COMMUNITY: 12, Tier.SUBDISTRICT: 9, Tier.DEPARTMENT: 9}


def initial_tier(node_kind: str) -> int:
    return int(TIER_OF_KIND.get(NodeKind(node_kind), Tier.SUBDISTRICT))


def owner_node_code(case: Case, tier: int) -> str:
    code = case.node.code
    length = LEVEL_OF_TIER[Tier(tier)]
    candidates = [*ancestor_codes(code), code]
    fitting = [c for c in candidates if len(c) <= length]
    return fitting[-1] if fitting else candidates[0]


def escalate(case: Case) -> None:
    from gongzhi.territory.models import Node

    if case.tier >= Tier.DEPARTMENT:
        raise Conflict(fmt(_("Case %(number)s is already at the top tier."), number=case.number))
    case.tier = case.tier + 1
    code = owner_node_code(case, case.tier)
    owner = Node.objects.select_related("lead_body").get(code=code).lead_body
    case.owner_body = owner
    case.owner_user = None if case.tier >= Tier.COMMUNITY else case.owner_user
    case.escalation_count += 1
