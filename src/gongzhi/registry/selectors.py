"""Reads of the registry. Every function that serves a user starts from ``restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import NotFound
from gongzhi.registry.models import Person, PersonTag, Residence
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node


def person_list(
    *,
    user: Any,
    q: str | None = None,
    household_id: int | None = None,
    within_id: int | None = None,
    population_type: str | None = None,
    tag: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Person]:
    qs = (
        Person.objects.restrict(user, "view")
        .select_related("household")
        .prefetch_related(Prefetch("tags", queryset=PersonTag.objects.order_by("tag", "-since")))
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if within_id is not None:
        root = get_in_scope(Node, user, within_id)
        qs = qs.filter(household__code__startswith=root.code)
    if population_type:
        qs = qs.filter(population_type=population_type)
    if tag:
        qs = qs.filter(tags__tag=tag, tags__until__isnull=True).distinct()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(room__icontains=q))
    return qs.order_by("name", "id")


def person_get(*, user: Any, person_id: int, action: str = "view") -> Person:
    queryset = Person.objects.select_related(
        "household", "party_membership", "party_membership__branch", "party_membership__work_unit"
    ).prefetch_related(
        Prefetch("tags", queryset=PersonTag.objects.order_by("tag", "-since")),
        Prefetch("residences", queryset=Residence.objects.select_related("household").order_by("-moved_in", "-id")),
    )
    return get_in_scope(Person, user, person_id, action, queryset=queryset)


def household_get(*, user: Any, household_id: int) -> Node:
    node = get_in_scope(Node, user, household_id)
    if node.kind != NodeKind.HOUSEHOLD:
        raise NotFound(f"No household with id {household_id}.")
    return node


def household_members(*, user: Any, household_id: int) -> QuerySet[Person]:
    """The people living in a household now (those the user may see)."""
    household = household_get(user=user, household_id=household_id)
    return person_list(user=user, household_id=household.pk)
