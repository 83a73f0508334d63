"""Overlapping jurisdictions (村居融洽): exactly one lead body per place, co-bodies see but never own."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import ValidationFailed
from gongzhi.territory import selectors, services
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body, Node
from gongzhi.territory.tests.factories import co_cover

pytestmark = pytest.mark.django_db


def test_a_place_cannot_be_stored_without_a_lead_body(tree):  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        Node.objects.create(code=f"{tree.grids[0].code}0099", name="无主楼", kind=NodeKind.BUILDING,
                            parent=tree.grids[0], lead_body_id=None)


def test_lead_body_cannot_be_deleted_from_under_its_places(tree):  # type: ignore[no-untyped-def]
    with pytest.raises(ProtectedError):
        tree.committees[0].delete()


def test_every_place_has_exactly_one_lead(tree):  # type: ignore[no-untyped-def]
    assert not Node.objects.filter(lead_body__isnull=True).exists()
    for node in Node.objects.all():
        assert isinstance(node.lead_body, Body)


def test_overlap_co_bodies_see_the_ground_but_lead_owns_it(tree):  # type: ignore[no-untyped-def]
    grid = tree.grids[2]  # in community 2, led by committee 2
    village = Body.objects.create(name="大干村村委会", kind=BodyKind.VILLAGE_COMMITTEE)
    coop = Body.objects.create(name="大干渔业经济合作社", kind=BodyKind.ECONOMIC_COOPERATIVE)
    services.set_lead_body(actor=user_with_role(Role.ADMIN), node_id=grid.pk, body_id=village.pk)
    co_cover(grid, tree.committees[0])
    co_cover(grid, coop)
    grid.refresh_from_db()
    assert grid.lead_body == village
    assert Node.objects.get(pk=tree.buildings[2].pk).lead_body == village, "lead passes down the subtree"
    assert {b.name for b in selectors.co_bodies(node=tree.households[2])} == {tree.committees[0].name, coop.name}
    # Staff of community 1's committee see the co-covered grid (and its buildings) though it is not theirs.
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    visible = set(Node.objects.restrict(staff, "view").values_list("pk", flat=True))
    assert {grid.pk, tree.buildings[2].pk, tree.households[2].pk} <= visible
    assert tree.grids[3].pk not in visible
    # A co-body user (the co-op) sees that grid only.
    coop_user = user_with_role(Role.DEPARTMENT_HANDLER, body=coop)
    assert set(Node.objects.restrict(coop_user, "view").values_list("code", flat=True)) == {
        grid.code, tree.buildings[2].code, tree.households[2].code}
    # The village committee leads it, so its staff see it through the lead relation.
    village_user = user_with_role(Role.COMMUNITY_STAFF, body=village)
    assert Node.objects.restrict(village_user, "view").filter(pk=grid.pk).exists()


def test_a_body_cannot_co_cover_what_it_leads(tree):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    with pytest.raises(ValidationFailed, match="cannot co-cover"):
        services.add_co_body(actor=admin, node_id=tree.grids[0].pk, body_id=tree.committees[0].pk)


def test_handing_over_the_lead_removes_the_new_leads_co_role(tree):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    services.add_co_body(actor=admin, node_id=tree.grids[0].pk, body_id=tree.committees[1].pk)
    changed = services.set_lead_body(actor=admin, node_id=tree.grids[0].pk, body_id=tree.committees[1].pk)
    assert changed == 3  # grid, building, household
    assert selectors.co_bodies(node=tree.grids[0]) == []


def test_only_accountable_bodies_can_lead(tree):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    with pytest.raises(ValidationFailed, match="cannot lead"):
        services.set_lead_body(actor=admin, node_id=tree.grids[0].pk, body_id=tree.department.pk)
