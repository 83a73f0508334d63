from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Float, Int64
from gongzhi.territory import coords, selectors, services
from gongzhi.territory.models import Body, Node, PartyOrg
from gongzhi.territory.schemas import (
    BodyIn,
    BodyOut,
    BuildingPointsOut,
    CoBodyIn,
    ImportOut,
    LeadBodyIn,
    LocateOut,
    NodeDetailOut,
    NodeIn,
    NodeOut,
    NodePatch,
    PartyOrgOut,
    PointMatchOut,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import _User  # django-stubs: settings.AUTH_USER_MODEL

router = Router(tags=["territory"])


@router.get("/nodes", response=list[NodeOut], summary="Places in scope")
@paginate(PageNumberPagination)
def nodes(
    request: ApiRequest,
    kind: str | None = None,
    parent_id: Int64 | None = None,
    within_id: Int64 | None = None,
    q: str | None = None,
) -> QuerySet[Node]:
    return selectors.node_list(user=request.auth, kind=kind, parent_id=parent_id, within_id=within_id, q=q)


@router.get("/roots", response=list[NodeOut], summary="The topmost places the caller can see")
def roots(request: ApiRequest) -> list[Node]:
    return selectors.scope_roots(user=request.auth)


def _detail(user: "_User", node: Any) -> Any:
    """The node with its context attached, serialised by ``NodeDetailOut``."""
    node.ancestors = selectors.node_ancestors(node=node)
    node.co_bodies = selectors.co_bodies(node=node)
    node.counts = selectors.children_counts(user=user, node=node)
    return node


@router.get("/nodes/{node_id}", response=NodeDetailOut)
def node_detail(request: ApiRequest, node_id: Int64) -> Any:
    return _detail(request.auth, selectors.node_get(user=request.auth, node_id=node_id))


@router.post("/nodes", response={201: NodeOut}, summary="Add a place under a parent")
def node_create(request: ApiRequest, payload: NodeIn) -> Status[Node]:
    return Status(201, services.create_node(actor=request.auth, **payload.dict()))


@router.patch("/nodes/{node_id}", response=NodeOut)
def node_update(request: ApiRequest, node_id: Int64, payload: NodePatch) -> Any:
    return services.update_node(actor=request.auth, node_id=node_id, **payload.dict(exclude_unset=True))


@router.post("/nodes/{node_id}/lead-body", response=NodeDetailOut, summary="Hand a place to another lead body")
def node_lead_body(request: ApiRequest, node_id: Int64, payload: LeadBodyIn) -> Any:
    services.set_lead_body(actor=request.auth, node_id=node_id, body_id=payload.body_id, cascade=payload.cascade)
    return _detail(request.auth, selectors.node_get(user=request.auth, node_id=node_id))


@router.post("/nodes/{node_id}/co-bodies", response={201: NodeDetailOut}, summary="Add a co-body (overlap)")
def node_add_co_body(request: ApiRequest, node_id: Int64, payload: CoBodyIn) -> Status[Any]:
    services.add_co_body(actor=request.auth, node_id=node_id, body_id=payload.body_id, note=payload.note)
    return Status(201, _detail(request.auth, selectors.node_get(user=request.auth, node_id=node_id)))


@router.delete("/nodes/{node_id}/co-bodies/{body_id}", response={204: None})
def node_remove_co_body(request: ApiRequest, node_id: Int64, body_id: Int64) -> Status[None]:
    services.remove_co_body(actor=request.auth, node_id=node_id, body_id=body_id)
    return Status(204, None)


@router.get("/locate", response=LocateOut, summary="The grid (and community) a point lies in")
def locate(request: ApiRequest, lat: Float, lng: Float) -> Any:
    result = selectors.locate(user=request.auth, lat=lat, lng=lng)
    return {
        "lat": lat,
        "lng": lng,
        "grid": result.grid,
        "community": result.community,
        "fallback": result.fallback,
        "in_scope": result.in_scope,
        "message": str(result.message),
    }


@router.get(
    "/buildings/points",
    response=BuildingPointsOut,
    summary="Buildings in scope as map points (WGS-84), bounded",
    description="Under `within_id` (404 out of scope) and inside `bbox` (south,west,north,east), at most 5,000.",
)
def building_points(request: ApiRequest, within_id: Int64 | None = None, bbox: str = "") -> Any:
    items, truncated = selectors.building_points(user=request.auth, within_id=within_id, bbox=coords.parse_bbox(bbox))
    return {"items": items, "truncated": truncated}


@router.get(
    "/match",
    response=PointMatchOut,
    summary="Where a report at this point (or address) would be placed: building, grid, community",
    description="The placement intake applies (point → nearest building of its grid, else address, else the desk); "
    "places the caller does not cover are not named. `crs=gcj02` for a point from a GCJ-02 map or phone SDK.",
)
def match(request: ApiRequest, lat: Float | None = None, lng: Float | None = None, address: str = "",
          crs: str = "wgs84") -> Any:  # fmt: skip
    if (lat is None) != (lng is None):
        raise ValidationFailed(
            _("Give both latitude and longitude, or neither."), [ErrorDetail(field="lat", message=_("both or neither"))]
        )
    if lat is not None and lng is not None:
        lat, lng = coords.to_wgs84(lat, lng, coords.parse_crs(crs))
    found = selectors.match_point(user=request.auth, lat=lat, lng=lng, address=address)
    return {"lat": lat, "lng": lng, **vars(found), "message": str(match_message(found))}


def match_message(found: selectors.PointMatch) -> Any:
    if found.unplaced:
        return _("Not in any grid: the subdistrict desk will take the report and place it.")
    if not found.in_scope:
        return _("This point is outside the places you cover; the case goes to those responsible there.")
    names = [n.name for n in (found.community, found.grid, found.building) if n is not None]
    return " · ".join(names)


@router.get("/boundaries", summary="Boundaries as a GeoJSON FeatureCollection (grids by default)")
def boundaries_export(request: ApiRequest, kind: str = "grid", within_id: Int64 | None = None) -> dict[str, Any]:
    return selectors.boundaries_geojson(user=request.auth, kind=kind, within_id=within_id)


@router.post("/boundaries/import", response={200: ImportOut}, summary="Import grid boundaries (GeoJSON)")
def boundaries_import(request: ApiRequest, file: File[UploadedFile] | None = None) -> Status[ImportOut]:
    data = _read_geojson(request, file)
    result = services.import_grid_boundaries(actor=request.auth, data=data)
    return Status(200, ImportOut(created=result.created, updated=result.updated))


def _read_geojson(request: ApiRequest, file: UploadedFile | None) -> Any:
    import json

    upload = file or request.FILES.get("file")
    if upload is None and request.content_type == "multipart/form-data":  # a form without the file: no body left
        raise ValidationFailed(
            gettext("Send the GeoJSON as the form's file, or as the request body."),
            [ErrorDetail(field="file", message=gettext("a file is required"))],
        )
    raw = upload.read() if upload is not None else request.body
    try:
        return json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise ValidationFailed(
            _("The file is not valid JSON."), [ErrorDetail(field="file", row=line, message=str(exc))]
        ) from None


@router.get("/bodies", response=list[BodyOut], summary="Organisations in scope")
@paginate(PageNumberPagination)
def bodies(request: ApiRequest, kind: str | None = None, q: str | None = None) -> QuerySet[Body]:
    return selectors.body_list(user=request.auth, kind=kind, q=q)


@router.get("/bodies/{body_id}", response=BodyOut)
def body_detail(request: ApiRequest, body_id: Int64) -> Any:
    return selectors.body_get(user=request.auth, body_id=body_id)


@router.post("/bodies", response={201: BodyOut})
def body_create(request: ApiRequest, payload: BodyIn) -> Status[Body]:
    return Status(201, services.create_body(actor=request.auth, **payload.dict()))


@router.get("/party-orgs", response=list[PartyOrgOut], summary="The party tree in scope")
@paginate(PageNumberPagination)
def party_orgs(request: ApiRequest, kind: str | None = None, node_id: Int64 | None = None) -> QuerySet[PartyOrg]:
    return selectors.party_org_list(user=request.auth, kind=kind, node_id=node_id)
