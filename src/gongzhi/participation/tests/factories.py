"""Builders for participation tests: units, resources and needs on a test tree (``territory.tests.factories``)."""

from __future__ import annotations

import itertools
from typing import Any

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation import services
from gongzhi.participation.models import Need, NeedCategory, Resource
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body, Node

_seq = itertools.count(1)


def category(code: str) -> NeedCategory:
    services.ensure_categories()  # a transactional test before this one flushed the migration's rows
    return NeedCategory.objects.get(code=code)


def unit(node: Node, name: str | None = None, kind: str = BodyKind.CO_BUILDING_UNIT) -> Body:
    return Body.objects.create(
        name=name or f"共建单位{next(_seq)}", kind=kind, node=node, contact_name="王经理", contact_phone="13912345678"
    )


def unit_user(body: Body) -> Any:
    return user_with_role(Role.CO_BUILDING_UNIT, body=body)


def resource(body: Body, place: Node, title: str, cat: str | None, *, description: str = "", capacity: int = 10,
             left: int | None = None, slots: list[str] | None = None, **extra: Any) -> Resource:  # fmt: skip
    return Resource.objects.create(
        unit=body,
        title=title,
        description=description,
        kind=extra.pop("kind", "services"),
        category=category(cat) if cat else None,
        capacity=capacity,
        capacity_left=capacity if left is None else left,
        slots=slots or [],
        place=place,
        lat=extra.pop("lat", place.centroid_lat),
        lng=extra.pop("lng", place.centroid_lng),
        contact_phone=extra.pop("contact_phone", "13812345678"),
        **extra,
    )


def need(place: Node, title: str, cat: str, *, description: str = "", count: int = 5,
         slots: list[str] | None = None, **extra: Any) -> Need:  # fmt: skip
    return Need.objects.create(
        title=title,
        description=description,
        category=category(cat),
        place=place,
        place_code=place.code,
        lat=extra.pop("lat", place.centroid_lat),
        lng=extra.pop("lng", place.centroid_lng),
        beneficiary_count=count,
        slots=slots or [],
        source=extra.pop("source", "meeting"),
        **extra,
    )
