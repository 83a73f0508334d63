"""A co-building unit (共建单位) reaches no place of the territory directly, yet offers posts, teams and activities on
the community side of its co-building agreements in force: the forms list those places, what it offers there is its
own (owner body), and a place outside them, or under an agreement that has ended, is refused with the field named."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import ValidationFailed
from gongzhi.registry.models import CoBuildingAgreement
from gongzhi.service import selectors, services
from gongzhi.service.models import PostKind
from gongzhi.territory.models import Body

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


@pytest.fixture
def unit(tree):  # type: ignore[no-untyped-def]
    """A company with an agreement in force with community 0, and one with community 1 that ended yesterday."""
    body = Body.objects.create(name="沈阳西大商业管理有限公司", kind="co_building_unit")
    today = timezone.localdate()
    CoBuildingAgreement.objects.create(
        unit=body, partner=tree.communities[0], title="党建共建协议", signed_on=today - datetime.timedelta(days=40),
        starts=today - datetime.timedelta(days=30),
    )  # fmt: skip
    CoBuildingAgreement.objects.create(
        unit=body, partner=tree.communities[1], title="旧协议", signed_on=today - datetime.timedelta(days=800),
        starts=today - datetime.timedelta(days=790), ends=today - datetime.timedelta(days=1),
    )  # fmt: skip
    return body, user_with_role(Role.CO_BUILDING_UNIT, body=body)


def test_the_forms_offer_the_places_of_agreements_in_force(tree, unit):  # type: ignore[no-untyped-def]
    _body, user = unit
    places = selectors.offer_places(user=user, label="service.post", kinds=("community", "grid"))
    codes = {place.code for place in places}
    assert tree.communities[0].code in codes
    assert all(code.startswith(tree.communities[0].code) for code in codes)  # nothing of community 1 (ended)
    assert {g.code for g in tree.grids if g.code.startswith(tree.communities[0].code)} <= codes
    # A community's staff keep their own ground, and no unit's ground is added to it.
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])
    staff_codes = {p.code for p in selectors.offer_places(user=staff, label="service.post", kinds=("community",))}
    assert staff_codes == {tree.communities[1].code}


def test_a_unit_publishes_a_post_team_and_activity_of_its_own(tree, unit):  # type: ignore[no-untyped-def]
    body, user = unit
    grid = next(g for g in tree.grids if g.code.startswith(tree.communities[0].code))
    post = services.publish_post(
        actor=user, kind_id=PostKind.objects.get(name="楼道长").pk, title="商场志愿岗", area_id=grid.pk,
        schedule="每周六", capacity=2,
    )  # fmt: skip
    assert post.owner_body == body and post.area == grid
    assert selectors.post_get(user=user, post_id=post.pk) == post  # and it reads it back
    team = services.create_team(actor=user, name="西大志愿服务队", area_id=tree.communities[0].pk)
    assert team.owner_body == body
    start = timezone.now() + 48 * H
    activity = services.create_activity(
        actor=user, title="消防宣传", area_id=tree.communities[0].pk, venue="商场广场", starts_at=start,
        ends_at=start + 2 * H, capacity=20, team_id=team.pk,
    )  # fmt: skip
    assert activity.owner_body == body
    assert selectors.activity_get(user=user, activity_id=activity.pk) == activity


def test_a_place_outside_its_agreements_is_refused_by_name(tree, unit):  # type: ignore[no-untyped-def]
    _body, user = unit
    with pytest.raises(ValidationFailed) as refused:
        services.create_team(actor=user, name="越界的队", area_id=tree.communities[1].pk)
    assert refused.value.details[0].field == "area_id"
    with pytest.raises(ValidationFailed) as refused:
        services.publish_post(
            actor=user, kind_id=PostKind.objects.get(name="楼道长").pk, title="越界", schedule="每周",
            area_id=tree.communities[1].pk, capacity=1,
        )  # fmt: skip
    assert refused.value.details[0].field == "area_id"


def test_the_unit_sees_its_places_on_the_new_post_page(client, tree, unit):  # type: ignore[no-untyped-def]
    _body, user = unit
    client.force_login(user)
    page = client.get("/posts/new/")
    assert page.status_code == 200
    assert f'value="{tree.communities[0].pk}"' in page.content.decode()
    assert f'value="{tree.communities[1].pk}"' not in page.content.decode()
