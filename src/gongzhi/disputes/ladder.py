"""The mediation ladder of a subdistrict (its ``LadderTier`` rows, else ``choices.DEFAULT_LADDER``) and putting a
dispute on a tier: who handles it there (the grid of its place on site, the station's body or the subdistrict at
the station, the body referred to)."""

from __future__ import annotations

from dataclasses import dataclass

from gongzhi.disputes.choices import DEFAULT_LADDER, TierKind
from gongzhi.disputes.models import SUBDISTRICT_CODE_LENGTH, Dispute, LadderTier
from gongzhi.territory.models import Node

GRID_CODE_LENGTH = 15


@dataclass(frozen=True)
class Tier:
    level: int
    kind: str
    name: str
    body_id: int | None = None


def tiers_of(subdistrict_code: str) -> list[Tier]:
    """The subdistrict's ladder, lowest first (not a read for a user: configuration)."""
    rows = LadderTier.objects.filter(subdistrict__code=subdistrict_code[:SUBDISTRICT_CODE_LENGTH]).order_by("level")
    tiers = [Tier(r.level, r.kind, r.name, r.body_id) for r in rows]
    return tiers or [Tier(t.level, t.kind, t.name) for t in DEFAULT_LADDER]


def tier_of(subdistrict_code: str, level: int) -> Tier:
    tiers = tiers_of(subdistrict_code)
    return next((t for t in tiers if t.level == level), tiers[0])


def first_tier(subdistrict_code: str, *, at_least: str | None = None) -> Tier:
    """Where a new dispute starts: the lowest tier, or the lowest of kind ``at_least`` (a red risk: the station)."""
    tiers = tiers_of(subdistrict_code)
    if at_least is not None:
        found = next((t for t in tiers if t.kind == at_least), None)
        if found is not None:
            return found
    return tiers[0]


def station_tier(subdistrict_code: str) -> Tier | None:
    return next((t for t in tiers_of(subdistrict_code) if t.kind == TierKind.STATION), None)


def handling_grid(node: Node) -> Node:
    """The grid a place lies in (the place itself above the grid level: a community, the subdistrict)."""
    if len(node.code) <= GRID_CODE_LENGTH:
        return node
    return Node.objects.get(code=node.code[:GRID_CODE_LENGTH])


def put_on_tier(dispute: Dispute, tier: Tier, *, body_id: int | None = None) -> None:
    """Set the dispute's tier and its handler there (in memory; the caller saves)."""
    dispute.tier = tier.level
    dispute.tier_kind = tier.kind
    station = station_tier(dispute.subdistrict_code)
    dispute.station_body_id = station.body_id if station is not None else None
    body_id = body_id if body_id is not None else tier.body_id
    if tier.kind == TierKind.ON_SITE:
        grid = handling_grid(dispute.node)
        dispute.handler_node, dispute.handler_code, dispute.handler_body_id = grid, grid.code, body_id
    elif tier.kind == TierKind.STATION:
        sub = Node.objects.get(code=dispute.subdistrict_code)
        dispute.handler_node, dispute.handler_code, dispute.handler_body_id = sub, sub.code, body_id
    else:
        dispute.handler_node, dispute.handler_code, dispute.handler_body_id = None, "", body_id
