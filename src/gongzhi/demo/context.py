"""The demo builder's context: what one subdistrict copy's steps share (plans of communities, grids and buildings,
the rows written so far, the copy's random stream and counts). Apart from builder.py so that the steps in
cases.py and registry.py read it without importing the builder that imports them."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shapely.geometry import Polygon

from gongzhi.demo import names
from gongzhi.demo.tiling import Tiling
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, Node

Out = Callable[[str], None]


# --- Context -----------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class CommunityInfo:
    index: int  # 0-based; the code is index + 1
    name: str  # 府东社区 / 大干村
    short: str  # 府东 / 大干
    is_village: bool
    tiles: range  # polygon indices in the tiling
    node: Node | None = None
    committee: Body | None = None
    grids: list[GridInfo] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return NodeKind.VILLAGE if self.is_village else NodeKind.COMMUNITY


@dataclass(eq=False)
class GridInfo:
    index: int  # in the tiling (= code order over the whole copy)
    community: CommunityInfo
    number: int  # 1-based within its community
    name: str
    polygon: Polygon
    compound: str = ""  # the residential compound (小区) the grid belongs to; villages: ""
    node: Node | None = None
    buildings: list[BuildingInfo] = field(default_factory=list)


@dataclass(eq=False)
class BuildingInfo:
    grid: GridInfo
    number: int  # 1-based within the grid (code suffix)
    name: str
    lng: float
    lat: float
    floors: int
    units: int
    doors: int  # households per floor per unit
    is_market: bool = False
    node: Node | None = None
    households: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class BuildContext:
    k: int
    out: Out
    password_hash: str
    now: datetime
    rng: random.Random
    tiling: Tiling
    code: str
    short: str  # 道义
    communities: list[CommunityInfo] = field(default_factory=list)
    grids: list[GridInfo] = field(default_factory=list)
    buildings: list[BuildingInfo] = field(default_factory=list)
    compounds: dict[str, list[GridInfo]] = field(default_factory=dict)
    bodies: dict[str, Body] = field(default_factory=dict)
    subdistrict: Node | None = None
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return f"{self.short}街道"

    @property
    def is_main(self) -> bool:
        """Copy 0 (道义街道) carries the demo log-ins and the story places."""
        return self.k == 0

    def community(self, name: str) -> CommunityInfo:
        return next(c for c in self.communities if c.name == name)

    def body(self, kind: str, template: str, node: Node | None, key: str | None = None, **extra: object) -> Body:
        obj = Body(
            name=names.body_name(template, self.k),
            kind=kind,
            node=node,
            contact_name=names.person_name(self.rng),
            contact_phone=names.phone_number(self.rng),
            **extra,
        )
        if key:
            self.bodies[key] = obj
        return obj
