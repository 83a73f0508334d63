"""The claim rate (认领率) as seed 004 reports it: 2,638 of 3,641 reported-in party members claim a post = 72.5 %; by
community, home party organisation and unit, each number equal to the length of the list behind it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PartyMember, Person
from gongzhi.service import selectors
from gongzhi.service.models import Claim, Post, PostKind
from gongzhi.territory.models import Body, PartyOrg

pytestmark = pytest.mark.django_db

REPORTED, CLAIMING = 3641, 2638


def _seed(tree, staff):  # type: ignore[no-untyped-def]
    """3,641 reported-in members over two communities, two branches and two units, 2,638 of them with an active
    claim (and 50 more members not reported in, some of them claiming: they count nowhere)."""
    branches = [
        PartyOrg.objects.create(
            name=f"单位党支部{i}", kind="general_branch", parent=tree.party_root, node=tree.subdistrict
        )
        for i in (1, 2)
    ]
    units = [Body.objects.create(name=f"单位{i}", kind="enterprise") for i in (1, 2)]
    people = Person.objects.bulk_create(
        Person(name=f"党员{i:04d}", household=tree.households[0 if i % 2 else 2]) for i in range(REPORTED + 50)
    )
    PartyMember.objects.bulk_create(
        PartyMember(
            person=p,
            member_type="on_duty",
            branch=branches[i % 2 if i % 3 else 1],
            work_unit=units[i % 5 == 0],
            reported_in=i < REPORTED,
            reported_in_on=datetime.date(2026, 1, 1) if i < REPORTED else None,
        )
        for i, p in enumerate(people)
    )
    kind = PostKind.objects.get(name="助老")
    posts = Post.objects.bulk_create(
        Post(kind=kind, title=f"岗位{i}", area=tree.grids[i], schedule="每周", capacity=2000, created_by=staff)
        for i in range(2)
    )
    now = timezone.now()
    claimants = people[:CLAIMING] + people[REPORTED : REPORTED + 20]
    claims = [Claim(post=posts[i % 2], person=p, claimed_at=now) for i, p in enumerate(claimants)]
    # Some claimants hold two posts (counted once) and some reported-in members only gave a post up (not counted).
    claims += [Claim(post=posts[1 - i % 2], person=p, claimed_at=now) for i, p in enumerate(people[:300])]
    claims += [
        Claim(post=posts[0], person=p, claimed_at=now, status="given_up") for p in people[CLAIMING : CLAIMING + 200]
    ]
    Claim.objects.bulk_create(claims)
    return branches, units


def test_seed_004_claim_rate_reads_72_5(tree, staff):  # type: ignore[no-untyped-def]
    _seed(tree, staff)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    total = selectors.claim_rate(user=operator)
    assert (total.claiming, total.reported_in) == (CLAIMING, REPORTED)
    assert total.rate == Decimal("72.5")
    for dimension in selectors.DIMENSIONS:
        rows = selectors.claim_rate_by(user=operator, dimension=dimension)
        assert sum(r.reported_in for r in rows) == REPORTED
        assert sum(r.claiming for r in rows) == CLAIMING
        for r in rows:  # every figure is the length of the list behind it
            assert selectors.rate_members(user=operator, dimension=dimension, key=r.key).count() == r.reported_in
            assert (
                selectors.rate_members(user=operator, dimension=dimension, key=r.key, claiming=True).count()
                == r.claiming
            )


def test_rate_page_and_api_show_the_figure(client, api, tree, staff):  # type: ignore[no-untyped-def]
    _seed(tree, staff)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(operator)
    page = client.get("/posts/rate/?by=branch")
    assert page.status_code == 200 and "72.5" in page.content.decode()
    rows = api.as_user(operator).get("/api/v1/service/claim-rate?by=community").json()
    assert sum(r["claiming"] for r in rows) == CLAIMING


def test_community_staff_see_only_their_community(tree, staff):  # type: ignore[no-untyped-def]
    _seed(tree, staff)
    total = selectors.claim_rate(user=staff)  # community 0: the odd-numbered people
    expected_reported = len([i for i in range(REPORTED) if i % 2])
    assert total.reported_in == expected_reported
    assert total.claiming == len([i for i in range(CLAIMING) if i % 2])


def test_percent_rounds_half_up() -> None:
    assert selectors.percent(2638, 3641) == Decimal("72.5")
    assert selectors.percent(1, 8) == Decimal("12.5")
    assert selectors.percent(0, 0) is None
