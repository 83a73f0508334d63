"""Writes to the territory and its organisations: typed, keyword-only, one transaction, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import shapely
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from shapely.geometry import shape

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope, reaches
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, Text, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import code_prefix_q
from gongzhi.territory import geo
from gongzhi.territory.choices import CHILD_KINDS, CODE_LENGTH, LEADING_BODY_KINDS, BodyKind, NodeKind
from gongzhi.territory.models import Body, CoJurisdiction, Node

if TYPE_CHECKING:
    from django.contrib.auth.models import _User  # django-stubs: settings.AUTH_USER_MODEL

NODE_AUDIT_FIELDS = ["code", "name", "kind", "parent", "lead_body", "address", "floors", "centroid_lat", "centroid_lng"]


# A building's floor count: the column holds 0–32767; a count outside this is a mistake, refused by name.
MAX_FLOORS = 300


def _floors_error(floors: int | None) -> ErrorDetail | None:
    if floors is None or 0 <= floors <= MAX_FLOORS:
        return None
    return ErrorDetail(field="floors", message=fmt(gettext_lazy("a floor count from 0 to %(max)d"), max=MAX_FLOORS))


def _require(actor: _User, action: str, node: Node, message: Text) -> None:
    if not Node.objects.restrict(actor, action).filter(pk=node.pk).exists():
        raise Forbidden(message)


def _boundaries_changed(node_ids: list[int]) -> None:
    """Make sure every web worker's grid index sees a boundary edit (``geo.grid_index``).

    The index's freshness key is the number of grids with a boundary and their latest ``updated_at``. A save stamps
    ``updated_at`` before its transaction commits, so an edit committing after another one stamped later would hide
    behind that later stamp. After commit the changed places are stamped again, later than anything a worker can
    have seen, so each worker rebuilds its index on its next lookup."""
    ids = list(node_ids)
    if ids:
        transaction.on_commit(lambda: Node.objects.filter(pk__in=ids).update(updated_at=timezone.now()))


def next_child_code(parent: Node, kind: str) -> str:
    length = CODE_LENGTH[NodeKind(kind)]
    width = length - len(parent.code)
    latest = Node.objects.filter(code_prefix_q("code", parent.code), parent=parent).aggregate(m=Max("code"))["m"]
    seq = int(latest[len(parent.code) :]) + 1 if latest else 1
    if seq >= 10**width:
        raise Conflict(
            fmt(
                gettext_lazy("%(parent)s has no free child code left (%(width)s digits)."),
                parent=parent.name,
                width=width,
            )
        )
    return f"{parent.code}{seq:0{width}d}"


def _centroid(boundary: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if not boundary:
        return None, None
    geom, _ = geo.parse_geometry(boundary, "boundary")
    if geom is None:
        return None, None
    point = geom.representative_point() if not geom.centroid.within(geom) else geom.centroid
    return point.y, point.x


@transaction.atomic
def create_node(
    *,
    actor: _User,
    parent_id: int,
    kind: str,
    name: str,
    code: str | None = None,
    lead_body_id: int | None = None,
    boundary: dict[str, Any] | None = None,
    address: str = "",
    floors: int | None = None,
) -> Node:
    parent = get_in_scope(Node, actor, parent_id)
    _require(actor, "add", parent, gettext_lazy("You may not add places here."))
    details: list[ErrorDetail] = []
    if kind not in CHILD_KINDS[NodeKind(parent.kind)]:
        allowed = ", ".join(CHILD_KINDS[NodeKind(parent.kind)]) or "nothing"
        details.append(
            ErrorDetail(
                field="kind",
                message=fmt(
                    gettext_lazy("a %(kind)s can hold %(allowed)s, not %(kind2)s"),
                    kind=parent.kind,
                    allowed=allowed,
                    kind2=repr(kind),
                ),
            )
        )
    if not name.strip():
        details.append(ErrorDetail(field="name", message=gettext_lazy("a name is required")))
    if code is not None and kind in NodeKind.values:
        expected = CODE_LENGTH[NodeKind(kind)]
        if not re.fullmatch(r"[0-9]+", code) or len(code) != expected or not code.startswith(parent.code):
            details.append(
                ErrorDetail(
                    field="code",
                    message=fmt(
                        gettext_lazy("a %(kind)s code has %(expected)s digits and starts with %(parent_code)s"),
                        kind=kind,
                        expected=expected,
                        parent_code=parent.code,
                    ),
                )
            )
        elif Node.objects.filter(code=code).exists():
            details.append(ErrorDetail(field="code", message=fmt(gettext_lazy("code %(code)s is taken"), code=code)))
    if boundary is not None:
        _, errs = geo.parse_geometry(boundary, "boundary")
        details.extend(errs)
    floors_error = _floors_error(floors)
    if floors_error is not None:
        details.append(floors_error)
    if details:
        raise ValidationFailed(gettext_lazy("The place cannot be created."), details)
    lead = parent.lead_body
    if lead_body_id is not None:  # a body the actor sees (else 404, as everywhere), and one that can lead a place
        lead = get_in_scope(Body, actor, lead_body_id)
        if lead.kind not in LEADING_BODY_KINDS:
            raise ValidationFailed(
                gettext_lazy("The place cannot be created."),
                [
                    ErrorDetail(
                        field="lead_body_id",
                        message=fmt(gettext_lazy("a %(kind)s cannot be a lead body"), kind=lead.get_kind_display()),
                    )
                ],
            )
    lat, lng = _centroid(boundary)
    node = Node.objects.create(
        code=code or next_child_code(parent, kind),
        name=name.strip(),
        kind=kind,
        parent=parent,
        lead_body=lead,
        boundary=boundary,
        centroid_lat=lat,
        centroid_lng=lng,
        address=address,
        floors=floors,
    )
    if boundary is not None:
        _boundaries_changed([node.pk])
    audit.record(
        actor=actor,
        action="territory.node_created",
        obj=node,
        node_code=node.code,
        after=audit.snapshot(node, NODE_AUDIT_FIELDS),
    )
    return node


@transaction.atomic
def update_node(
    *,
    actor: _User,
    node_id: int,
    name: str | None = None,
    address: str | None = None,
    floors: int | None = None,
    boundary: dict[str, Any] | None = None,
) -> Node:
    node = get_in_scope(Node, actor, node_id, "change", queryset=Node.objects.select_for_update())
    before = audit.snapshot(node, NODE_AUDIT_FIELDS)
    if name is not None:
        if not name.strip():
            raise ValidationFailed(
                gettext_lazy("The place cannot be renamed."),
                [ErrorDetail(field="name", message=gettext_lazy("a name is required"))],
            )
        node.name = name.strip()
    if address is not None:
        node.address = address
    if floors is not None:
        floors_error = _floors_error(floors)
        if floors_error is not None:
            raise ValidationFailed(gettext("The place cannot be changed."), [floors_error])
        node.floors = floors
    if boundary is not None:
        _, errs = geo.parse_geometry(boundary, "boundary")
        if errs:
            raise ValidationFailed(gettext_lazy("The boundary is not valid."), errs)
        node.boundary = boundary
        node.centroid_lat, node.centroid_lng = _centroid(boundary)
        _boundaries_changed([node.pk])
    node.save()
    audit.record(
        actor=actor,
        action="territory.node_updated",
        obj=node,
        node_code=node.code,
        before=before,
        after=audit.snapshot(node, NODE_AUDIT_FIELDS),
    )
    return node


@transaction.atomic
def set_lead_body(*, actor: _User, node_id: int, body_id: int, cascade: bool = True) -> int:
    """Hand a place (and, with ``cascade``, every place under it that the old lead body led) to another body.

    Returns how many places changed hands. The old lead is never left without a successor: the foreign key
    is NOT NULL, so "nobody in charge" cannot be written.
    """
    node = get_in_scope(Node, actor, node_id, "change")
    body = get_in_scope(Body, actor, body_id)
    if body.kind not in LEADING_BODY_KINDS:
        raise ValidationFailed(
            gettext_lazy("This body cannot lead a place."),
            [
                ErrorDetail(
                    field="body_id",
                    message=fmt(
                        gettext_lazy("a %(kind)s cannot be a lead body"),
                        kind=body.get_kind_display(),
                    ),
                )
            ],
        )
    old = node.lead_body
    if old.pk == body.pk:
        return 0
    places = Node.objects.filter(pk=node.pk)
    if cascade:
        places = Node.objects.filter(code_prefix_q("code", node.code), lead_body=old)
    changed = places.update(lead_body=body)
    # A body cannot be both lead and co-body of the same place.
    CoJurisdiction.objects.filter(code_prefix_q("node__code", node.code), body=body).delete()
    audit.record(
        actor=actor,
        action="territory.lead_body_changed",
        obj=node,
        node_code=node.code,
        before={"lead_body": old.pk, "lead_body_name": old.name},
        after={"lead_body": body.pk, "lead_body_name": body.name, "places": changed},
    )
    return changed


@transaction.atomic
def add_co_body(*, actor: _User, node_id: int, body_id: int, note: str = "") -> CoJurisdiction:
    node = get_in_scope(Node, actor, node_id)
    if not reaches(actor, "territory.cojurisdiction", "add", node):
        raise Forbidden(gettext_lazy("You may not add co-bodies here."))
    body = get_in_scope(Body, actor, body_id)
    if node.lead_body_id == body.pk:
        raise ValidationFailed(
            gettext_lazy("A body cannot co-cover the place it leads."),
            [
                ErrorDetail(
                    field="body_id",
                    message=fmt(gettext_lazy("%(body)s already leads %(node)s"), body=body.name, node=node.name),
                )
            ],
        )
    if CoJurisdiction.objects.filter(node=node, body=body).exists():
        raise Conflict(fmt(gettext_lazy("%(body)s already co-covers %(node)s."), body=body.name, node=node.name))
    row = CoJurisdiction.objects.create(node=node, body=body, note=note)
    audit.record(
        actor=actor,
        action="territory.co_body_added",
        obj=row,
        node_code=node.code,
        after={"node": node.pk, "body": body.pk, "note": note},
    )
    return row


@transaction.atomic
def remove_co_body(*, actor: _User, node_id: int, body_id: int) -> None:
    node = get_in_scope(Node, actor, node_id)
    if not reaches(actor, "territory.cojurisdiction", "delete", node):
        raise Forbidden(gettext_lazy("You may not remove co-bodies here."))
    row = CoJurisdiction.objects.filter(node=node, body_id=body_id).first()
    if row is None:
        raise ValidationFailed(
            gettext_lazy("Not a co-body of this place."),
            [ErrorDetail(field="body_id", message=gettext_lazy("not a co-body"))],
        )
    audit.record(
        actor=actor,
        action="territory.co_body_removed",
        obj=row,
        node_code=node.code,
        before={"node": node.pk, "body": body_id},
    )
    row.delete()


@transaction.atomic
def create_body(
    *,
    actor: _User,
    name: str,
    kind: str,
    node_id: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    description: str = "",
) -> Body:
    details: list[ErrorDetail] = []
    if kind not in BodyKind.values:
        details.append(
            ErrorDetail(field="kind", message=fmt(gettext_lazy("%(kind)s is not a kind of body"), kind=repr(kind)))
        )
    if not name.strip():
        details.append(ErrorDetail(field="name", message=gettext_lazy("a name is required")))
    elif Body.objects.filter(kind=kind, name=name.strip()).exists():
        details.append(
            ErrorDetail(
                field="name",
                message=fmt(gettext_lazy("a %(kind)s named %(name)s exists"), kind=kind, name=repr(name.strip())),
            )
        )
    if details:
        raise ValidationFailed(gettext_lazy("The body cannot be created."), details)
    node = get_in_scope(Node, actor, node_id) if node_id is not None else None
    scope = actor.scope_for("territory.body", "add")
    allowed = scope.everything or (node is not None and scope.covers(node.code))
    if not allowed:
        raise Forbidden(gettext_lazy("You may not add bodies here."))
    body = Body.objects.create(
        name=name.strip(),
        kind=kind,
        node=node,
        contact_name=contact_name,
        contact_phone=contact_phone,
        description=description,
    )
    audit.record(
        actor=actor,
        action="territory.body_created",
        obj=body,
        node_code=node.code if node else "",
        after=audit.snapshot(body),
    )
    return body


# --- GeoJSON import of grid boundaries ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


@dataclass
class _Feature:
    row: int
    code: str
    name: str
    parent: Node | None
    geom: Any
    geometry: dict[str, Any]


def import_grid_boundaries(*, actor: _User, data: Any) -> ImportResult:
    """Create or update grids from a GeoJSON FeatureCollection, all or nothing.

    Each feature needs ``properties.code`` (the 15-digit grid code; its first 12 digits name the community or
    village) and ``properties.name``, and a Polygon or MultiPolygon geometry. Refused, naming the feature, when:
    the file is not a FeatureCollection, a geometry is malformed or self-intersecting, codes repeat, the
    community is unknown, or two grids (in the file, or one in the file and one already stored) overlap.
    Feature numbers (``row``) count from 1.
    """
    details: list[ErrorDetail] = []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationFailed(
            gettext_lazy("The file is not a GeoJSON FeatureCollection."),
            [ErrorDetail(field="type", message=gettext_lazy('expected "FeatureCollection"'))],
        )
    raw = data.get("features")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(
            gettext_lazy("The FeatureCollection has no features."),
            [ErrorDetail(field="features", message=gettext_lazy("expected a non-empty list"))],
        )
    grid_len = CODE_LENGTH[NodeKind.GRID]
    parents = {n.code: n for n in Node.objects.filter(kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE])}
    features: list[_Feature] = []
    seen: dict[str, int] = {}
    for i, feat in enumerate(raw):
        row, where = i + 1, f"features[{i}]"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            details.append(ErrorDetail(field=where, row=row, message=gettext_lazy("not a GeoJSON Feature")))
            continue
        props = feat.get("properties") or {}
        code = str(props.get("code", "")).strip()
        name = str(props.get("name", "")).strip()
        label = f"{where} ({code or 'no code'})"
        if not re.fullmatch(rf"[0-9]{{{grid_len}}}", code):
            details.append(
                ErrorDetail(
                    field=f"{where}.properties.code",
                    row=row,
                    message=fmt(
                        gettext_lazy("%(label)s: a grid code has %(grid_len)s digits"), label=label, grid_len=grid_len
                    ),
                )
            )
            continue
        if code in seen:
            details.append(
                ErrorDetail(
                    field=f"{where}.properties.code",
                    row=row,
                    message=fmt(gettext_lazy("%(label)s: code repeats feature %(seen)s"), label=label, seen=seen[code]),
                )
            )
            continue
        seen[code] = row
        if not name:
            details.append(
                ErrorDetail(
                    field=f"{where}.properties.name",
                    row=row,
                    message=fmt(gettext_lazy("%(label)s: a name is required"), label=label),
                )
            )
        parent = parents.get(code[: CODE_LENGTH[NodeKind.COMMUNITY]])
        if parent is None:
            details.append(
                ErrorDetail(
                    field=f"{where}.properties.code",
                    row=row,
                    message=fmt(
                        gettext_lazy("%(label)s: no community or village has code %(code)s"),
                        label=label,
                        code=code[:12],
                    ),
                )
            )
        geom, errs = geo.parse_geometry(feat.get("geometry"), f"{where}.geometry", row)
        for err in errs:
            err.message = fmt(gettext_lazy("%(label)s: %(message)s"), label=label, message=err.message)
        details.extend(errs)
        if geom is not None:
            features.append(_Feature(row, code, name, parent, geom, feat["geometry"]))
    # Overlaps inside the file.
    for i, j in geo.find_overlaps([f.geom for f in features]):
        a, b = features[i], features[j]
        details.append(
            ErrorDetail(
                field=f"features[{b.row - 1}].geometry",
                row=b.row,
                message=fmt(
                    gettext_lazy("grid %(b_code)s overlaps grid %(a_code)s (feature %(row)s)"),
                    b_code=b.code,
                    a_code=a.code,
                    row=a.row,
                ),
            )
        )
    # Overlaps with stored grids that the file does not replace.
    stored = [
        (code, boundary)
        for code, boundary in Node.objects.filter(kind=NodeKind.GRID, boundary__isnull=False)
        .exclude(code__in=[f.code for f in features])
        .values_list("code", "boundary")
    ]
    if stored and features:
        stored_geoms = [shape(b) for _, b in stored]
        tree = shapely.STRtree(stored_geoms)
        for f in features:
            for k in tree.query(f.geom, predicate="intersects").tolist():
                other = stored_geoms[k]
                if f.geom.intersection(other).area > geo.overlap_tolerance(f.geom, other):
                    details.append(
                        ErrorDetail(
                            field=f"features[{f.row - 1}].geometry",
                            row=f.row,
                            message=fmt(
                                gettext_lazy("grid %(f_code)s overlaps stored grid %(stored)s"),
                                f_code=f.code,
                                stored=stored[k][0],
                            ),
                        )
                    )
    if details:
        raise ValidationFailed(
            fmt(gettext_lazy("Nothing was imported: %(n)s problem(s) in the file."), n=len(details)), details
        )

    result = ImportResult()
    changed: list[int] = []
    with transaction.atomic():
        existing = {n.code: n for n in Node.objects.select_for_update().filter(code__in=[f.code for f in features])}
        for f in features:
            assert f.parent is not None
            lat, lng = f.geom.representative_point().y, f.geom.representative_point().x
            node = existing.get(f.code)
            if node is not None:
                if node.kind != NodeKind.GRID:
                    raise ValidationFailed(
                        gettext_lazy("Nothing was imported."),
                        [
                            ErrorDetail(
                                field=f"features[{f.row - 1}].properties.code",
                                row=f.row,
                                message=fmt(
                                    gettext_lazy("code %(f_code)s belongs to a %(kind)s, not a grid"),
                                    f_code=f.code,
                                    kind=node.kind,
                                ),
                            )
                        ],
                    )
                _require(actor, "change", node, fmt(gettext_lazy("You may not change grid %(code)s."), code=f.code))
                before = audit.snapshot(node, [*NODE_AUDIT_FIELDS, "boundary"])
                node.name, node.boundary, node.centroid_lat, node.centroid_lng = f.name, f.geometry, lat, lng
                node.save()
                audit.record(
                    actor=actor,
                    action="territory.boundary_imported",
                    obj=node,
                    node_code=node.code,
                    before=before,
                    after=audit.snapshot(node, [*NODE_AUDIT_FIELDS, "boundary"]),
                )
                result.updated.append(f.code)
                changed.append(node.pk)
            else:
                _require(
                    actor,
                    "add",
                    f.parent,
                    fmt(gettext_lazy("You may not add grids to %(place)s."), place=f.parent.name),
                )
                node = Node.objects.create(
                    code=f.code,
                    name=f.name,
                    kind=NodeKind.GRID,
                    parent=f.parent,
                    lead_body=f.parent.lead_body,
                    boundary=f.geometry,
                    centroid_lat=lat,
                    centroid_lng=lng,
                )
                audit.record(
                    actor=actor,
                    action="territory.boundary_imported",
                    obj=node,
                    node_code=node.code,
                    after=audit.snapshot(node, [*NODE_AUDIT_FIELDS, "boundary"]),
                )
                result.created.append(f.code)
                changed.append(node.pk)
        _boundaries_changed(changed)
    return result
