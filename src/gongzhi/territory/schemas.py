from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from gongzhi.core.privacy import mask_phone


class BodyRef(Schema):
    id: int
    name: str
    kind: str


class NodeOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    lead_body: BodyRef
    centroid_lat: float | None
    centroid_lng: float | None
    address: str
    floors: int | None
    has_boundary: bool

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())


class NodeDetailOut(NodeOut):
    ancestors: list[NodeOut]
    co_bodies: list[BodyRef]
    counts: dict[str, int]
    boundary: dict[str, Any] | None


class NodeIn(Schema):
    parent_id: int
    kind: str
    name: str
    code: str | None = None
    lead_body_id: int | None = None
    boundary: dict[str, Any] | None = None
    address: str = ""
    floors: int | None = None


class NodePatch(Schema):
    name: str | None = None
    address: str | None = None
    floors: int | None = None
    boundary: dict[str, Any] | None = None


class LeadBodyIn(Schema):
    body_id: int
    cascade: bool = True


class CoBodyIn(Schema):
    body_id: int
    note: str = ""


class BodyOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    node_id: int | None
    node_name: str | None
    contact_name: str
    contact_phone_masked: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_node_name(obj: Any) -> str | None:
        return obj.node.name if obj.node_id else None

    @staticmethod
    def resolve_contact_phone_masked(obj: Any) -> str:
        return mask_phone(obj.contact_phone)


class BodyIn(Schema):
    name: str
    kind: str
    node_id: int | None = None
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""


class PartyOrgOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    node_id: int
    node_name: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_node_name(obj: Any) -> str:
        return str(obj.node.name)


class LocateOut(Schema):
    lat: float
    lng: float
    grid: NodeOut | None
    community: NodeOut | None
    fallback: NodeOut | None = Field(None, description="The desk that takes a point outside every grid.")
    in_scope: bool
    message: str


class ImportOut(Schema):
    created: list[str]
    updated: list[str]
