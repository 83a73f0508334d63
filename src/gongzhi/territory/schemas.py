from __future__ import annotations

from typing import Annotated, Any

from django.utils.translation import gettext
from ninja import Field, Schema
from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from gongzhi.core.privacy import mask_phone
from gongzhi.core.schemas import InputSchema, Int64

# A building's floor count (the column is a positive small integer): a negative or absurd count is a 400.
Floors = Annotated[int, Field(ge=0, le=300, description="Floors above ground, 0–300.")]  # = services.MAX_FLOORS


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


class NodeIn(InputSchema):
    parent_id: Int64
    kind: str
    name: str
    code: str | None = None
    lead_body_id: Int64 | None = None
    boundary: dict[str, Any] | None = None
    address: str = ""
    floors: Floors | None = None


class NodePatch(InputSchema):
    """What a PATCH may change. The lead body is not here: a place always has exactly one, handed over with
    ``POST /nodes/{id}/lead-body`` (and audited there); sending ``lead_body_id`` is a 400 that says so."""

    name: str | None = None
    address: str | None = None
    floors: Floors | None = None
    boundary: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _lead_body_is_not_patched(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("lead_body_id", "lead_body"):
                if key in data:
                    raise PydanticCustomError("lead_body", str(_lead_body_message(data[key])), {"field": key})
        return data


def _lead_body_message(value: Any) -> str:
    if value is None:
        return gettext(
            "A place always has exactly one responsible body: its lead body cannot be removed. Hand the place to "
            "another body with POST /api/v1/territory/nodes/{id}/lead-body."
        )
    return gettext("The lead body is changed with POST /api/v1/territory/nodes/{id}/lead-body, not by PATCH.")


class LeadBodyIn(InputSchema):
    body_id: Int64 = Field(..., description="The body that answers for the place from now on (never null).")
    cascade: bool = True

    @field_validator("body_id", mode="before")
    @classmethod
    def _body_required(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("lead_body", str(_lead_body_message(None)))
        return value


class CoBodyIn(InputSchema):
    body_id: Int64
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


class BodyIn(InputSchema):
    name: str
    kind: str
    node_id: Int64 | None = None
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


class MapPlaceRef(Schema):
    id: int
    code: str
    name: str


class BuildingPointOut(Schema):
    id: int
    code: str
    name: str
    grid_id: int | None
    lat: float = Field(description="WGS-84")
    lng: float = Field(description="WGS-84")


class BuildingPointsOut(Schema):
    items: list[BuildingPointOut]
    truncated: bool = Field(description="More buildings than the limit: narrow the box (bbox) or the place.")


class NearbyBuildingOut(Schema):
    id: int
    code: str
    name: str
    metres: int
    grid: str
    community: str


class PointMatchOut(Schema):
    lat: float | None = Field(description="WGS-84 (converted when the point was given in GCJ-02)")
    lng: float | None
    how: str = Field(description="gps, address or desk: what placed it (as intake will)")
    unplaced: bool
    in_scope: bool = Field(description="Whether the caller covers the place; if not, no place is named.")
    building: MapPlaceRef | None
    grid: MapPlaceRef | None
    community: MapPlaceRef | None
    nearby: list[NearbyBuildingOut] = Field(description="The caller's buildings near the point, nearest first.")
    message: str
