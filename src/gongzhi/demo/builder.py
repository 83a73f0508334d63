"""Builds the demo subdistrict (道义街道, seed 001) into the database: territory, bodies, overlaps, party tree, staff.

The builder is a list of steps (:data:`STEPS`) over a :class:`BuildContext`. Each step reads what earlier steps
left in the context, writes its rows with ``bulk_create`` and returns how many it made. Later features (residents,
cases, registry data) add steps to the list and, for ``--reset``, deleters to :data:`RESET_STEPS`.

Everything is deterministic: one seeded :class:`random.Random` per subdistrict copy, consumed in a fixed order.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.models import AuditLog
from gongzhi.demo import cases, names, registry
from gongzhi.demo import disputes as demo_disputes
from gongzhi.demo import inspections as demo_inspections
from gongzhi.demo import meetings as demo_meetings
from gongzhi.demo import messages as demo_messages
from gongzhi.demo import notices as demo_notices
from gongzhi.demo import open311 as demo_open311
from gongzhi.demo import participation as demo_participation
from gongzhi.demo import preferences as demo_preferences
from gongzhi.demo import recognition as demo_recognition
from gongzhi.demo import service as demo_service
from gongzhi.demo import triage as demo_triage
from gongzhi.demo.context import BuildContext, BuildingInfo, CommunityInfo, GridInfo, Out
from gongzhi.demo.logins import DEMO_PASSWORD, DEMO_USERNAMES
from gongzhi.demo.tiling import points_inside, representative, tile_subdistrict, union
from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind
from gongzhi.territory.geo import to_geojson
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg

BATCH_SIZE = 2000
SEED = 1703  # the party members of 道义街道

# The shape of one copy (seed 001).
TOTAL_BUILDINGS = 2169
PARTY_GRID_BRANCHES = 58
PARTY_BUILDING_GROUPS = 87
PARTY_HOUSEHOLDS = 165
SECOND_FULL_TIME_GRIDS = 28  # 182 + 28 = 210 full-time grid workers
INSTRUCTORS_WITH_FOUR_GRIDS = 32  # 32 × 4 + 18 × 3 = 182 grids, 50 instructors
INSTRUCTORS_WITH_THREE_GRIDS = 18
COMMUNITY_STAFF = 5
OPERATORS = 6
TEAM_MEDIATORS = 4
HANDLERS_PER_DEPARTMENT = 2
RESIDENTS = 10
VOLUNTEER_SHARE = 0.6


def new_context(k: int, out: Out, password_hash: str) -> BuildContext:
    return BuildContext(
        k=k,
        out=out,
        password_hash=password_hash,
        now=timezone.now(),
        rng=random.Random(SEED * 1000 + k),
        tiling=tile_subdistrict(k),
        code=names.street_code(k),
        short=names.street_name(k),
    )


_ModelT = TypeVar("_ModelT", bound=Model)


def _bulk(model: type[_ModelT], objs: list[_ModelT]) -> list[_ModelT]:
    return model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)


def _split(total: int, n: int, rng: random.Random, spread: float) -> list[int]:
    """``n`` positive integers summing to ``total``, each within ``±spread`` of the mean (largest remainders)."""
    weights = [rng.uniform(1 - spread, 1 + spread) for _ in range(n)]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(n), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


# --- Steps: planning (no database) ------------------------------------------------------------------------------


def plan_territory(ctx: BuildContext) -> int:
    """Communities, grids and their compounds, and every building's place, name and size."""
    rng = ctx.rng
    all_names = [(n, False) for n in names.COMMUNITY_NAMES] + [(n, True) for n in names.VILLAGE_NAMES]
    for index, ((name, is_village), run) in enumerate(zip(all_names, ctx.tiling.runs, strict=True)):
        short = name.removesuffix("社区").removesuffix("村")
        community = CommunityInfo(index=index, name=name, short=short, is_village=is_village, tiles=run)
        ctx.communities.append(community)
        for number, tile in enumerate(run, start=1):
            grid_name = f"{name}第{number}网格"
            if name == names.OVERLAP_VILLAGE and number == 1:
                grid_name = names.OVERLAP_GRID_NAME  # the village grid next to 大干社区
            grid = GridInfo(
                index=tile, community=community, number=number, name=grid_name, polygon=ctx.tiling.polygons[tile]
            )
            community.grids.append(grid)
            ctx.grids.append(grid)

    _plan_compounds(ctx)

    village_grids = [g for g in ctx.grids if g.community.is_village]
    community_grids = [g for g in ctx.grids if not g.community.is_village]
    village_counts = [rng.randint(3, 7) for _ in village_grids]
    community_counts = _split(TOTAL_BUILDINGS - sum(village_counts), len(community_grids), rng, spread=0.4)
    counts = dict(zip(village_grids + community_grids, village_counts + community_counts, strict=True))

    # 西大商城: in copy 0 the first building of 道义社区's first grid is a market, not a block of flats.
    market_grid = ctx.community(names.XIDA_COMMUNITY).grids[0] if ctx.is_main else None
    next_number: Counter[str] = Counter()  # building numbers run on through a compound / a village
    for grid in ctx.grids:
        n = counts[grid]
        for number, (lng, lat) in enumerate(points_inside(grid.polygon, n, rng), start=1):
            is_market = grid is market_grid and number == 1
            if is_market:
                floors, units, doors, bname = 4, 1, 8, names.XIDA_MARKET
            elif grid.community.is_village:
                floors, units, doors = rng.choice((1, 2, 2, 3)), rng.randint(1, 2), rng.randint(2, 4)
                next_number[grid.community.name] += 1
                bname = f"{grid.community.name}{next_number[grid.community.name]}号"
            else:
                roll = rng.random()
                if roll < 0.83:  # walk-up
                    floors, units, doors = rng.randint(5, 7), rng.randint(1, 2), 2
                elif roll < 0.97:  # mid-rise
                    floors, units, doors = rng.randint(8, 11), rng.randint(1, 2), 2
                else:  # high-rise
                    floors, units, doors = rng.randint(12, 18), 1, rng.choice((2, 3))
                next_number[grid.compound] += 1
                bname = f"{grid.compound}{next_number[grid.compound]}号楼"
            building = BuildingInfo(
                grid=grid,
                number=number,
                name=bname,
                lng=lng,
                lat=lat,
                floors=floors,
                units=units,
                doors=doors,
                is_market=is_market,
            )
            grid.buildings.append(building)
            ctx.buildings.append(building)
    return len(ctx.buildings)


def _plan_compounds(ctx: BuildContext) -> None:
    """Group each community's grids into residential compounds (小区) of 1–3 consecutive grids."""
    rng = ctx.rng
    pool = list(names.COMPOUND_NAMES)
    rng.shuffle(pool)
    for community in ctx.communities:
        if community.is_village:
            continue
        labels = [f"{community.short}小区"]
        if ctx.is_main and community.name == names.JINHE_COMMUNITY:  # 府东小区 on grids 1–3, 金禾家苑 on 4–5
            sizes = [3, 2, *_compound_sizes(len(community.grids) - 5, rng)]
            labels.append(names.JINHE_COMPOUND)
        else:
            sizes = _compound_sizes(len(community.grids), rng)
        while len(labels) < len(sizes):
            labels.append(pool.pop() if pool else f"{community.short}新村{len(labels)}区")
        start = 0
        for label, size in zip(labels, sizes, strict=True):
            grids = community.grids[start : start + size]
            for grid in grids:
                grid.compound = label
            ctx.compounds[label] = grids
            start += size


def _compound_sizes(n: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(min(rng.choice((2, 2, 3)), n - sum(sizes)))
    return sizes


# --- Steps: territory -------------------------------------------------------------------------------------------


def create_subdistrict(ctx: BuildContext) -> int:
    """The subdistrict office, the subdistrict node (boundary = union of all grids) and the top-level bodies."""
    office = ctx.body(BodyKind.SUBDISTRICT_OFFICE, "{S}街道办事处", None, key="office")
    office.save()
    outline = union(ctx.tiling.polygons)
    lng, lat = representative(outline)
    ctx.subdistrict = Node.objects.create(
        code=ctx.code,
        name=ctx.name,
        kind=NodeKind.SUBDISTRICT,
        lead_body=office,
        boundary=to_geojson(outline),
        centroid_lat=lat,
        centroid_lng=lng,
        address=f"辽宁省{names.CITY}{ctx.name}",
    )
    office.node = ctx.subdistrict
    office.save(update_fields=["node"])

    sub = ctx.subdistrict
    bodies = [ctx.body(BodyKind.DEPARTMENT, template, sub, key=key) for key, template in names.DEPARTMENTS]
    bodies.append(ctx.body(BodyKind.COURT, names.COURT, None, key="court"))
    bodies += [ctx.body(kind, template, sub, key=key) for key, kind, template in names.CO_BUILDING_UNITS]
    bodies += [
        ctx.body(BodyKind.SOCIAL_ORGANISATION, template, sub, key=key) for key, template in names.SOCIAL_ORGANISATIONS
    ]
    _bulk(Body, bodies)
    ctx.counts["bodies"] += len(bodies) + 1
    return 1


def create_communities(ctx: BuildContext) -> int:
    """16 communities and 7 villages, each led by its residents' / village committee; a co-operative per village."""
    committees = []
    for community in ctx.communities:
        if community.is_village:
            community.committee = ctx.body(BodyKind.VILLAGE_COMMITTEE, f"{community.name}村委会", None)
        else:
            community.committee = ctx.body(BodyKind.RESIDENTS_COMMITTEE, f"{community.name}居委会", None)
        ctx.bodies[f"committee:{community.name}"] = community.committee
        committees.append(community.committee)
    _bulk(Body, committees)

    nodes = []
    for community in ctx.communities:
        outline = union([g.polygon for g in community.grids])
        lng, lat = representative(outline)
        community.node = Node(
            code=f"{ctx.code}{community.index + 1:03d}",
            name=community.name,
            kind=community.kind,
            parent=ctx.subdistrict,
            lead_body=community.committee,
            boundary=to_geojson(outline),
            centroid_lat=lat,
            centroid_lng=lng,
            address=f"{names.CITY}{ctx.name}{community.name}",
        )
        nodes.append(community.node)
    _bulk(Node, nodes)

    for community in ctx.communities:
        assert community.committee is not None
        community.committee.node = community.node
    Body.objects.bulk_update(committees, ["node"])

    cooperatives = []
    for community in ctx.communities:
        if community.is_village:
            template = (
                names.FISHERY_COOPERATIVE
                if community.name == names.OVERLAP_VILLAGE
                else f"{community.name}股份经济合作社"
            )
            cooperatives.append(
                ctx.body(BodyKind.ECONOMIC_COOPERATIVE, template, community.node, key=f"coop:{community.name}")
            )
    _bulk(Body, cooperatives)
    ctx.counts["bodies"] += len(committees) + len(cooperatives)
    return len(nodes)


def create_grids(ctx: BuildContext) -> int:
    nodes = []
    for grid in ctx.grids:
        community = grid.community
        assert community.node is not None and community.committee is not None
        lng, lat = representative(grid.polygon)
        grid.node = Node(
            code=f"{community.node.code}{grid.number:03d}",
            name=grid.name,
            kind=NodeKind.GRID,
            parent_id=community.node.pk,
            lead_body_id=community.committee.pk,
            boundary=to_geojson(grid.polygon),
            centroid_lat=lat,
            centroid_lng=lng,
            address=f"{ctx.name}{community.name}{grid.compound}",
        )
        nodes.append(grid.node)
    _bulk(Node, nodes)
    return len(nodes)


def create_buildings(ctx: BuildContext) -> int:
    nodes = []
    for building in ctx.buildings:
        grid = building.grid
        assert grid.node is not None
        building.node = Node(
            code=f"{grid.node.code}{building.number:04d}",
            name=building.name,
            kind=NodeKind.BUILDING,
            parent_id=grid.node.pk,
            lead_body_id=grid.node.lead_body_id,
            centroid_lat=building.lat,
            centroid_lng=building.lng,
            address=f"{ctx.name}{grid.community.name}{building.name}",
            floors=building.floors,
        )
        nodes.append(building.node)
    _bulk(Node, nodes)
    return len(nodes)


def _household_names(building: BuildingInfo) -> list[str]:
    if building.is_market:
        return [
            f"{floor}层{door:02d}号商铺"
            for floor in range(1, building.floors + 1)
            for door in range(1, building.doors + 1)
        ]
    return [
        f"{unit}单元{floor}{door:02d}"
        for unit in range(1, building.units + 1)
        for floor in range(1, building.floors + 1)
        for door in range(1, building.doors + 1)
    ]


def create_households(ctx: BuildContext) -> int:
    """Every flat of every building (a household node each, at its building's point); written in batches."""
    batch: list[Node] = []
    total = 0
    for building in ctx.buildings:
        bnode = building.node
        assert bnode is not None
        for seq, hname in enumerate(_household_names(building), start=1):
            node = Node(
                code=f"{bnode.code}{seq:04d}",
                name=hname,
                kind=NodeKind.HOUSEHOLD,
                parent_id=bnode.pk,
                lead_body_id=bnode.lead_body_id,
                centroid_lat=building.lat,
                centroid_lng=building.lng,
            )
            building.households.append(node)
            batch.append(node)
        if len(batch) >= BATCH_SIZE * 5:
            total += len(_bulk(Node, batch))
            batch = []
    total += len(_bulk(Node, batch))
    return total


def create_co_jurisdictions(ctx: BuildContext) -> int:
    """Property companies and owners' committees co-covering compounds; the 村居融洽 overlap on 大干."""
    bodies: list[Body] = []
    covers: list[tuple[str, Node, str]] = []  # (body key, node, note)
    for company, compound in names.PROPERTY_COMPANIES:
        grids = ctx.compounds.get(compound)
        if not grids:
            continue
        first = grids[0]
        assert first.community.node is not None and first.node is not None
        bodies.append(ctx.body(BodyKind.PROPERTY_COMPANY, company, first.community.node, key=f"property:{compound}"))
        bodies.append(
            ctx.body(BodyKind.OWNERS_COMMITTEE, f"{compound}业主委员会", first.node, key=f"owners:{compound}")
        )
        for grid in grids:
            assert grid.node is not None
            covers.append((f"property:{compound}", grid.node, f"{compound}物业服务"))
            covers.append((f"owners:{compound}", grid.node, f"{compound}业主自治"))
    company, community_name = names.COMMUNITY_WIDE_PROPERTY
    wide = ctx.community(community_name)
    assert wide.node is not None
    bodies.append(ctx.body(BodyKind.PROPERTY_COMPANY, company, wide.node, key="property:wide"))
    covers.append(("property:wide", wide.node, f"{community_name}老旧小区托管物业"))
    _bulk(Body, bodies)
    ctx.counts["bodies"] += len(bodies)

    overlap = ctx.community(names.OVERLAP_VILLAGE).grids[0]
    assert overlap.node is not None and overlap.name == names.OVERLAP_GRID_NAME
    note = "村居融洽：大干村、大干社区与渔业合作社同一片街巷，村委会牵头，社区与合作社共管"
    covers.append((f"committee:{names.OVERLAP_COMMUNITY}", overlap.node, note))
    covers.append((f"coop:{names.OVERLAP_VILLAGE}", overlap.node, note))

    rows = [CoJurisdiction(node=node, body=ctx.bodies[key], note=text) for key, node, text in covers]
    _bulk(CoJurisdiction, rows)
    return len(rows)


# --- Steps: the party tree --------------------------------------------------------------------------------------


def create_party_tree(ctx: BuildContext) -> int:
    """党工委 → 23 community orgs → 58 grid branches → 87 building groups → 165 party households."""
    rng = ctx.rng
    assert ctx.subdistrict is not None
    root = PartyOrg.objects.create(
        name=f"{ctx.name}党工委",
        kind=PartyOrgKind.WORKING_COMMITTEE,
        node=ctx.subdistrict,
        secretary_name=names.person_name(rng),
    )
    level1 = []
    for community in ctx.communities:
        if community.is_village:
            kind, suffix = PartyOrgKind.VILLAGE_BRANCH, "党支部"
        elif community.name in names.GENERAL_BRANCH_COMMUNITIES:
            kind, suffix = PartyOrgKind.GENERAL_BRANCH, "党总支"
        else:
            kind, suffix = PartyOrgKind.COMMUNITY_COMMITTEE, "党委"
        level1.append(
            PartyOrg(
                name=f"{community.name}{suffix}",
                kind=kind,
                parent=root,
                node=community.node,
                secretary_name=names.person_name(rng),
            )
        )
    _bulk(PartyOrg, level1)

    # Grid branches: two per community org (its first grid and one more), a third in twelve of them.
    extra = set(rng.sample(range(len(ctx.communities)), PARTY_GRID_BRANCHES - 2 * len(ctx.communities)))
    branch_grids: list[tuple[PartyOrg, GridInfo]] = []
    for i, (community, org) in enumerate(zip(ctx.communities, level1, strict=True)):
        picks = [community.grids[0], *rng.sample(community.grids[1:], 2 if i in extra else 1)]
        branch_grids += [(org, grid) for grid in sorted(picks, key=lambda g: g.number)]
    branches = [
        PartyOrg(
            name=f"{grid.name}党支部",
            kind=PartyOrgKind.GRID_BRANCH,
            parent=org,
            node=grid.node,
            secretary_name=names.person_name(rng),
        )
        for org, grid in branch_grids
    ]
    _bulk(PartyOrg, branches)

    # Building groups: one in each branch's grid, a second in 29 of them.
    extra = set(rng.sample(range(len(branches)), PARTY_BUILDING_GROUPS - len(branches)))
    group_buildings: list[tuple[PartyOrg, BuildingInfo]] = []
    for i, (branch, (_org, grid)) in enumerate(zip(branches, branch_grids, strict=True)):
        candidates = [b for b in grid.buildings if not b.is_market and len(b.households) >= 2]
        chosen = rng.sample(candidates, 2 if i in extra else 1)
        group_buildings += [(branch, b) for b in sorted(chosen, key=lambda b: b.number)]
    groups = [
        PartyOrg(
            name=f"{building.name}党小组",
            kind=PartyOrgKind.BUILDING_GROUP,
            parent=branch,
            node=building.node,
            secretary_name=names.person_name(rng),
        )
        for branch, building in group_buildings
    ]
    _bulk(PartyOrg, groups)

    # Party households (党员中心户): one in each group's building, a second in 78 of them.
    extra = set(rng.sample(range(len(groups)), PARTY_HOUSEHOLDS - len(groups)))
    households = []
    for i, (group, (_branch, building)) in enumerate(zip(groups, group_buildings, strict=True)):
        for household in rng.sample(building.households, 2 if i in extra else 1):
            head = names.person_name(rng)
            households.append(
                PartyOrg(
                    name=f"{building.name}{household.name}党员中心户",
                    kind=PartyOrgKind.PARTY_HOUSEHOLD,
                    parent=group,
                    node=household,
                    secretary_name=head,
                )
            )
    _bulk(PartyOrg, households)
    return 1 + len(level1) + len(branches) + len(groups) + len(households)


# --- Steps: people ----------------------------------------------------------------------------------------------


@dataclass
class _Staff:
    """Users and role assignments collected for one bulk write."""

    ctx: BuildContext
    users: list[User] = field(default_factory=list)
    roles: list[tuple[User, str, str, Node | None, Body | None]] = field(default_factory=list)

    def person(self, username: str, **extra: object) -> User:
        rng = self.ctx.rng
        user = User(
            username=username,
            password=self.ctx.password_hash,
            display_name=names.person_name(rng),
            phone=names.phone_number(rng),
            date_joined=self.ctx.now,
            **extra,
        )
        self.users.append(user)
        return user

    def assign(
        self, user: User, role: str, *, node: Node | None = None, body: Body | None = None, post: str = ""
    ) -> None:
        self.roles.append((user, role, post, node, body))


def create_people(ctx: BuildContext) -> int:
    """Grid staffing "1+3+N", community staff, operators, building heads, mediators, handlers, units, residents."""
    rng = ctx.rng
    staff = _Staff(ctx)
    main = ctx.is_main
    code = ctx.code
    sub = ctx.subdistrict
    fudong_grid = ctx.community(names.JINHE_COMMUNITY).grids[0]  # 府东社区第1网格: the demo grid

    # The "1" and the "3": grid leader, full-time (a second one on 28 grids), part-time.
    # The demo grid keeps a single full-time worker: gridworker.
    candidates = [g.index for g in ctx.grids if not (main and g is fudong_grid)]
    second = set(rng.sample(candidates, SECOND_FULL_TIME_GRIDS))
    for grid in ctx.grids:
        assert grid.node is not None
        gcode = grid.node.code
        demo = main and grid is fudong_grid
        leader = staff.person("gridleader" if demo else f"gl{gcode}")
        staff.assign(leader, Role.GRID_LEADER, node=grid.node, post=Post.GRID_LEADER)
        worker = staff.person("gridworker" if demo else f"gw{gcode}")
        staff.assign(worker, Role.GRID_WORKER, node=grid.node, post=Post.FULL_TIME)
        if grid.index in second:
            staff.assign(staff.person(f"gw{gcode}b"), Role.GRID_WORKER, node=grid.node, post=Post.FULL_TIME)
        staff.assign(staff.person(f"pt{gcode}"), Role.GRID_WORKER, node=grid.node, post=Post.PART_TIME)

    # Grid instructors (包联干部): 50 subdistrict cadres, each on 3–4 neighbouring grids.
    sizes = [4] * INSTRUCTORS_WITH_FOUR_GRIDS + [3] * INSTRUCTORS_WITH_THREE_GRIDS
    rng.shuffle(sizes)
    start = 0
    for i, size in enumerate(sizes, start=1):
        instructor = staff.person(f"gi{code}{i:02d}")
        for grid in ctx.grids[start : start + size]:
            staff.assign(instructor, Role.GRID_WORKER, node=grid.node, post=Post.INSTRUCTOR)
        start += size
    assert start == len(ctx.grids)

    # The "N": a community police officer per community on all its grids, property staff on compounds that have a
    # property company, volunteers on most grids.
    for community in ctx.communities:
        assert community.node is not None
        officer = staff.person(f"pol{community.node.code}")
        for grid in community.grids:
            staff.assign(officer, Role.GRID_WORKER, node=grid.node, post=Post.POLICE)
    # Property staff also act for their company (a department handler of the body): a case dispatched to a property
    # company is acknowledged by someone. So are the co-operatives' (the 渔业合作社 of the 村居融洽 overlap).
    for compound, grids in ctx.compounds.items():
        if f"property:{compound}" in ctx.bodies:
            assert grids[0].node is not None
            username = "property" if main and compound == names.DEMO_PROPERTY_COMPOUND else f"pm{grids[0].node.code}"
            manager = staff.person(username)
            for grid in grids:
                staff.assign(manager, Role.GRID_WORKER, node=grid.node, post=Post.PROPERTY)
            staff.assign(manager, Role.DEPARTMENT_HANDLER, body=ctx.bodies[f"property:{compound}"])
    wide = ctx.community(names.COMMUNITY_WIDE_PROPERTY[1])
    assert wide.node is not None
    staff.assign(staff.person(f"pw{wide.node.code}"), Role.DEPARTMENT_HANDLER, body=ctx.bodies["property:wide"])
    for community in ctx.communities:
        assert community.node is not None
        if f"coop:{community.name}" in ctx.bodies:
            fishery = main and community.name == names.OVERLAP_VILLAGE
            username = "fishery" if fishery else f"co{community.node.code}"
            staff.assign(staff.person(username), Role.DEPARTMENT_HANDLER, body=ctx.bodies[f"coop:{community.name}"])
    for grid in ctx.grids:
        assert grid.node is not None
        if rng.random() < VOLUNTEER_SHARE:
            staff.assign(staff.person(f"vol{grid.node.code}"), Role.GRID_WORKER, node=grid.node, post=Post.VOLUNTEER)

    # Community staff (两委/社工): five per community or village, the first one its secretary.
    for community in ctx.communities:
        assert community.node is not None
        for i in range(COMMUNITY_STAFF):
            username = f"cs{community.node.code}{i}"
            if main and i == 0 and community.name == names.JINHE_COMMUNITY:
                username = "fudong"
            elif main and i == 0 and community.name == names.OVERLAP_COMMUNITY:
                username = "dagan"
            post = Post.SECRETARY if i == 0 else (Post.SOCIAL_WORKER if i < 4 else Post.OTHER)
            staff.assign(
                staff.person(username),
                Role.COMMUNITY_STAFF,
                node=community.node,
                body=community.committee,
                post=post,
            )

    # The subdistrict's grid management centre.
    for i in range(OPERATORS):
        staff.assign(
            staff.person("operator" if main and i == 0 else f"op{code}{i}"), Role.SUBDISTRICT_OPERATOR, node=sub
        )

    # Building heads (楼长): one per building.
    demo_building = fudong_grid.buildings[0]
    for building in ctx.buildings:
        assert building.node is not None
        username = "buildinghead" if main and building is demo_building else f"bh{building.node.code}"
        staff.assign(staff.person(username), Role.BUILDING_HEAD, node=building.node)

    # Mediators: the 老娘舅调解队 on the whole subdistrict, and one in each of every other community.
    team = ctx.bodies["mediators"]
    for i in range(TEAM_MEDIATORS):
        username = "mediator" if main and i == 0 else f"med{code}{i}"
        staff.assign(staff.person(username), Role.MEDIATOR, node=sub, body=team)
    for community in ctx.communities[::2]:
        assert community.node is not None
        staff.assign(staff.person(f"med{community.node.code}"), Role.MEDIATOR, node=community.node)

    # Department and court handlers act for their body, not for a place.
    handled = [key for key, _ in names.DEPARTMENTS] + ["court"]
    for d, key in enumerate(handled, start=1):
        for i in range(HANDLERS_PER_DEPARTMENT):
            username = "police" if main and key == "police" and i == 0 else f"dh{code}{d:02d}{i}"
            staff.assign(staff.person(username), Role.DEPARTMENT_HANDLER, body=ctx.bodies[key])

    # One user for each co-building unit.
    for u, (key, _kind, _template) in enumerate(names.CO_BUILDING_UNITS, start=1):
        username = "cobuild" if main and key == "xida" else f"cb{code}{u:02d}"
        staff.assign(staff.person(username), Role.CO_BUILDING_UNIT, body=ctx.bodies[key])

    # A few residents with an account.
    for i in range(RESIDENTS):
        staff.assign(staff.person("resident" if main and i == 0 else f"res{code}{i:02d}"), Role.RESIDENT)

    if main:
        admin = staff.person("admin", is_superuser=True, is_staff=True)
        staff.assign(admin, Role.ADMIN)

    _bulk(User, staff.users)
    rows = [
        RoleAssignment(user=user, role=role, post=post, node=node, body=body)
        for user, role, post, node, body in staff.roles
    ]
    _bulk(RoleAssignment, rows)
    ctx.counts["role assignments"] += len(rows)
    return len(staff.users)


# --- Running it -------------------------------------------------------------------------------------------------

Step = Callable[[BuildContext], int]

STEPS: list[tuple[str, Step]] = [
    ("plan", plan_territory),  # no database: communities, grids, compounds, buildings
    ("subdistrict", create_subdistrict),
    ("communities and villages", create_communities),
    ("grids", create_grids),
    ("buildings", create_buildings),
    ("households", create_households),
    ("co-jurisdictions", create_co_jurisdictions),
    ("party organisations", create_party_tree),
    ("users", create_people),
    ("cases", cases.create_cases),  # a year of cases, month by month; the seed stories in copy 0
    # The registry (issue 4), with its own random stream: residents and residences, key service targets,
    # organisations with contacts and agreements, party members; last the visits, through the visits services.
    ("residents", registry.create_residents),
    ("key service targets", registry.create_service_targets),
    ("organisations", registry.create_organisations),
    ("party members", registry.create_party_members),
    ("visits", registry.create_visits),
    # Notices (issue 16), through the notices services: after the residents they are delivered to.
    ("notices", demo_notices.create_notices),
    # Hazard inspections (issue 19): checklists, plans, a year of rounds and their hazards (bulk), a few cases.
    ("inspections", demo_inspections.create_inspections),
    # The inbox (issue 17): who wants which channels (role defaults, a WeCom duty group, a few users' own), then the
    # recent cases' news replayed through cases.notify and the messaging services.
    ("notification settings", demo_preferences.create_preferences),
    ("messages", demo_messages.create_messages),
    # The three lists (issue 20): units' resources, communities' needs, projects in every state (bulk).
    ("three lists", demo_participation.create_participation),
    # Disputes and police notices (issue 18), through the disputes services and workflow; the 平安小苑 story.
    ("disputes", demo_disputes.create_disputes),
    # Service posts (issue 21): posts on every community's grids, reported-in party members' claims and service.
    ("service posts", demo_service.create_service),
    # Recognition (issue 21): 五星文明户 from nominations to published results, 四最 taking nominations (main copy).
    ("recognition", demo_recognition.create_recognition),
    # Volunteers (issue 21): a team per community, a year of activities, sign-ups, confirmed hours, people served.
    ("volunteers", demo_service.create_volunteers),
    # Meetings (issue 22): a year of tea-house talks, night talks, joint meetings and hearings with their decisions.
    ("meetings", demo_meetings.create_meetings),
    # Learned triage (issue 23): a model trained on the year of cases, auto-dispatch for the clearest categories.
    ("triage", demo_triage.create_triage),
]


def demo_password_hash() -> str:
    """One hash for every demo user (hashing 3,000 passwords one by one would take minutes)."""
    return make_password(DEMO_PASSWORD)


def build_copy(k: int, out: Out, password_hash: str) -> BuildContext:
    """Build subdistrict copy ``k`` in one transaction."""
    ctx = new_context(k, out, password_hash)
    out(f"Building {ctx.name} ({ctx.code}), copy {k + 1}")
    with transaction.atomic():
        for label, step in STEPS:
            started = time.perf_counter()
            made = step(ctx)
            ctx.counts[label] += made
            out(f"  {label:<26} {made:>7,}  {time.perf_counter() - started:6.2f}s")
    return ctx


def add_missing_notices(scale: int, out: Out) -> int:
    """A demo built before notices were seeded (issue 16) gets them when ``seed_demo`` finds it built: the copies
    with no notice on their ground get the demo's notices (the same step a new build runs). Returns notices sent."""
    from gongzhi.notices.models import Notice

    made = 0
    for k in sorted(existing_copies(scale)):
        code = names.street_code(k)
        if Notice.objects.filter(area__code__startswith=code).exists():
            continue
        ctx = new_context(k, out, "")
        plan_territory(ctx)  # no database: the communities' names
        ctx.subdistrict = Node.objects.filter(code=code).first()
        places = Node.objects.filter(code__startswith=code, kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE])
        by_name = {node.name: node for node in places}
        for community in ctx.communities:
            community.node = by_name.get(community.name)
        with transaction.atomic():
            sent = demo_notices.create_notices(ctx)
        out(f"Notices for {ctx.name} ({code}), built before notices were seeded: {sent}")
        made += sent
    return made


def add_missing_participation(scale: int, out: Out) -> int:
    """A demo built before the three lists were seeded (issue 20) gets them when ``seed_demo`` finds it built: the
    copies with no need on their ground get the demo's units' resources, needs and projects. Returns needs listed."""
    from gongzhi.participation.models import Need

    made = 0
    for k in sorted(existing_copies(scale)):
        code = names.street_code(k)
        if Need.objects.filter(place_code__startswith=code).exists():
            from gongzhi.participation.models import Wish

            if not Wish.objects.filter(place_code__startswith=code).exists():  # built before the wish walls
                with transaction.atomic():
                    made += demo_participation.create_wishes(code, k, timezone.now())
            continue
        ctx = new_context(k, out, "")
        plan_territory(ctx)  # no database: the communities' and grids' names
        kinds = [NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID]
        places = {n.name: n for n in Node.objects.filter(code__startswith=code, kind__in=kinds)}
        for community in ctx.communities:
            community.node = places.get(community.name)
            for grid in community.grids:
                grid.node = places.get(grid.name)
        templates = [(key, t) for key, _kind, t in names.CO_BUILDING_UNITS + names.REGISTRY_ORGANISATIONS]
        by_name = {b.name: b for b in Body.objects.filter(name__in=[names.body_name(t, k) for _, t in templates])}
        for key, template in templates:
            body = by_name.get(names.body_name(template, k))
            if body is not None:
                ctx.bodies[key] = body
        with transaction.atomic():
            listed = demo_participation.create_participation(ctx)
        out(f"Three lists for {ctx.name} ({code}), built before they were seeded: {listed} needs")
        made += listed
    return made


def existing_copies(scale: int) -> set[int]:
    codes = {names.street_code(k): k for k in range(scale)}
    found = Node.objects.filter(kind=NodeKind.SUBDISTRICT, code__in=codes).values_list("code", flat=True)
    return {codes[c] for c in found}


def conflicting_usernames() -> list[str]:
    """Demo log-in names already taken by someone (only a problem when copy 0 is to be built)."""
    return sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))


# --- Reset ------------------------------------------------------------------------------------------------------

ResetStep = Callable[[str, list[int], Out], int]


def _demo_bodies(code: str) -> list[int]:
    k = int(code[len(names.DISTRICT_CODE) :]) - names.FIRST_STREET
    placed = Q(node__code__startswith=code)
    unplaced = Q(node__isnull=True, kind=BodyKind.COURT, name=names.body_name(names.COURT, k))
    committees = Q(node__isnull=True, led_nodes__code__startswith=code)  # a half-built copy's committees
    return list(Body.objects.filter(placed | unplaced | committees).values_list("pk", flat=True).distinct())


def reset_people(code: str, bodies: list[int], out: Out) -> int:
    roles = RoleAssignment.objects.filter(Q(node__code__startswith=code) | Q(body_id__in=bodies))
    user_ids = set(roles.values_list("user_id", flat=True))
    roles.delete()
    users = User.objects.filter(pk__in=user_ids).filter(Q(username__contains=code) | Q(username__in=DEMO_USERNAMES))
    deleted, _ = users.delete()
    residents, _ = User.objects.filter(username__startswith=f"res{code}").delete()
    return deleted + residents


def reset_co_jurisdictions(code: str, bodies: list[int], out: Out) -> int:
    deleted, _ = CoJurisdiction.objects.filter(Q(node__code__startswith=code) | Q(body_id__in=bodies)).delete()
    return deleted


def reset_party(code: str, bodies: list[int], out: Out) -> int:
    total = 0
    for kinds in (
        [PartyOrgKind.PARTY_HOUSEHOLD],
        [PartyOrgKind.BUILDING_GROUP],
        [PartyOrgKind.GRID_BRANCH],
        [PartyOrgKind.COMMUNITY_COMMITTEE, PartyOrgKind.GENERAL_BRANCH, PartyOrgKind.VILLAGE_BRANCH],
        [PartyOrgKind.WORKING_COMMITTEE],
    ):
        deleted, _ = PartyOrg.objects.filter(node__code__startswith=code, kind__in=kinds).delete()
        total += deleted
    return total


def reset_territory(code: str, bodies: list[int], out: Out) -> int:
    Body.objects.filter(pk__in=bodies).update(node=None)  # bodies point at nodes and nodes at bodies
    total = 0
    for kinds in (
        [NodeKind.HOUSEHOLD],
        [NodeKind.BUILDING],
        [NodeKind.GRID],
        [NodeKind.COMMUNITY, NodeKind.VILLAGE],
        [NodeKind.SUBDISTRICT],
    ):
        deleted, _ = Node.objects.filter(code__startswith=code, kind__in=kinds).delete()
        total += deleted
    deleted, _ = Body.objects.filter(pk__in=bodies).delete()
    return total + deleted


# Later features put their deleters first (what refers to people and places goes before them).
def reset_notices(code: str, bodies: list[int], out: Out) -> int:
    """Notices sent on the copy's ground (their deliveries point at its households)."""
    from gongzhi.notices.models import Notice, NoticeDelivery, NoticeSender

    total = NoticeDelivery.objects.filter(household__code__startswith=code).delete()[0]
    total += NoticeSender.objects.filter(area__code__startswith=code).delete()[0]
    total += Notice.objects.filter(area__code__startswith=code).delete()[0]
    return int(total)


def reset_audit(code: str, bodies: list[int], out: Out) -> int:
    """The demo's own audit trail on the copy's ground (the seed's service calls write thousands of records)."""
    return int(AuditLog.objects.filter(node_code__startswith=code).delete()[0])


RESET_STEPS: list[tuple[str, ResetStep]] = [
    ("meetings", demo_meetings.reset_meetings),  # before the cases, needs, places and bodies they point at
    ("inspections", demo_inspections.reset_inspections),  # rounds and hazards hold places, plans and checklists
    ("three lists", demo_participation.reset_participation),  # before the cases, agreements, places and units
    ("disputes", demo_disputes.reset_disputes),  # before the people, places and bodies they point at
    ("recognition", demo_recognition.reset_recognition),  # nominations hold people and households
    ("service posts", demo_service.reset_service),  # before the registry's people and the places
    ("notices", reset_notices),
    ("open311 keys", demo_open311.reset_open311),  # they hold the subdistrict
    ("visits", registry.reset_visits),  # before the cases they raised, the people and the demo users
    ("triage", demo_triage.reset_triage),  # suggestions and feedback on the cases, the switch on the subdistrict
    ("cases", cases.reset_cases),
    ("registry", registry.reset_registry),  # before the places, bodies and party organisations it points at
    ("people", reset_people),
    ("co-jurisdictions", reset_co_jurisdictions),
    ("party organisations", reset_party),
    ("places and bodies", reset_territory),
    ("audit trail", reset_audit),
]


def delete_demo(out: Out) -> int:
    """Delete every demo subdistrict copy (whatever scale built it) and the demo log-ins. Returns rows deleted."""
    total = 0
    codes = sorted(
        Node.objects.filter(kind=NodeKind.SUBDISTRICT, code__in=names.all_street_codes()).values_list("code", flat=True)
    )
    for code in codes:
        started = time.perf_counter()
        with transaction.atomic():
            bodies = _demo_bodies(code)
            made = sum(step(code, bodies, out) for _label, step in RESET_STEPS)
        out(f"Deleted {code}: {made:,} rows  {time.perf_counter() - started:6.2f}s")
        total += made
    leftover, _ = User.objects.filter(username__in=DEMO_USERNAMES).delete()
    return total + leftover
