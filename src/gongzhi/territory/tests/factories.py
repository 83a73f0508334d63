"""Factories for places and bodies. ``build_tree`` makes a small, complete territory for tests."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg


class BodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Body

    name = factory.Sequence(lambda n: f"居委会{n}")
    kind = BodyKind.RESIDENTS_COMMITTEE
    contact_phone = "13812345678"


def square(lng: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON polygon: the square with south-west corner (lng, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    code = factory.Sequence(lambda n: f"210113{n:03d}")
    name = factory.Sequence(lambda n: f"地点{n}")
    kind = NodeKind.SUBDISTRICT
    lead_body = factory.SubFactory(BodyFactory, kind=BodyKind.SUBDISTRICT_OFFICE)


def child(parent: Node, kind: str, seq: int, name: str, **extra) -> Node:  # type: ignore[no-untyped-def]
    width = {NodeKind.COMMUNITY: 3, NodeKind.VILLAGE: 3, NodeKind.GRID: 3, NodeKind.BUILDING: 4, NodeKind.HOUSEHOLD: 4}[
        NodeKind(kind)
    ]
    extra.setdefault("lead_body", parent.lead_body)
    return Node.objects.create(code=f"{parent.code}{seq:0{width}d}", name=name, kind=kind, parent=parent, **extra)


@dataclass
class Tree:
    """Two communities, two grids each (squares side by side), one building and household per grid."""

    office: Body
    subdistrict: Node
    committees: list[Body]
    communities: list[Node]
    grids: list[Node]
    buildings: list[Node]
    households: list[Node]
    department: Body
    party_root: PartyOrg


def build_tree(code: str = "210113001", origin: tuple[float, float] = (123.40, 41.90)) -> Tree:
    office = Body.objects.create(name=f"街道办事处{code}", kind=BodyKind.SUBDISTRICT_OFFICE)
    sub = Node.objects.create(
        code=code,
        name="道义街道",
        kind=NodeKind.SUBDISTRICT,
        lead_body=office,
        boundary=square(origin[0], origin[1], 0.04),
        centroid_lat=origin[1] + 0.02,
        centroid_lng=origin[0] + 0.02,
    )
    committees, communities, grids, buildings, households = [], [], [], [], []
    party_root = PartyOrg.objects.create(name="道义街道党工委", kind=PartyOrgKind.WORKING_COMMITTEE, node=sub)
    for c in range(2):
        rc = Body.objects.create(name=f"社区{code}-{c + 1}居委会", kind=BodyKind.RESIDENTS_COMMITTEE)
        community = child(sub, NodeKind.COMMUNITY, c + 1, f"社区{c + 1}", lead_body=rc)
        rc.node = community
        rc.save()
        committees.append(rc)
        communities.append(community)
        cparty = PartyOrg.objects.create(
            name=f"社区{c + 1}党委", kind=PartyOrgKind.COMMUNITY_COMMITTEE, parent=party_root, node=community
        )
        for g in range(2):
            lng = origin[0] + 0.01 * (2 * c + g)
            lat = origin[1]
            grid = child(
                community,
                NodeKind.GRID,
                g + 1,
                f"社区{c + 1}第{g + 1}网格",
                boundary=square(lng, lat),
                centroid_lat=lat + 0.005,
                centroid_lng=lng + 0.005,
            )
            grids.append(grid)
            PartyOrg.objects.create(name=f"{grid.name}党支部", kind=PartyOrgKind.GRID_BRANCH, parent=cparty, node=grid)
            building = child(
                grid,
                NodeKind.BUILDING,
                1,
                f"{grid.name}1号楼",
                centroid_lat=lat + 0.004,
                centroid_lng=lng + 0.004,
                floors=6,
            )
            buildings.append(building)
            households.append(child(building, NodeKind.HOUSEHOLD, 1, "1单元101"))
    department = Body.objects.create(name=f"派出所{code}", kind=BodyKind.DEPARTMENT, node=sub)
    return Tree(office, sub, committees, communities, grids, buildings, households, department, party_root)


def co_cover(node: Node, body: Body) -> CoJurisdiction:
    return CoJurisdiction.objects.create(node=node, body=body)
