"""Posts and claims: capacity (the last place goes to one of two; the other a 409 in the one error shape), give up,
record and confirm service, who may claim, and who sees which claims."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import selectors, services
from gongzhi.service.models import Claim, PersonAccount

pytestmark = pytest.mark.django_db


def test_last_place_goes_to_one_and_the_other_gets_a_409(api, post, members):  # type: ignore[no-untyped-def]
    first, second = members.users
    ok = api.as_user(first).post(f"/api/v1/service/posts/{post.pk}/claim", {})
    assert ok.status_code == 201, ok.content
    late = api.as_user(second).post(f"/api/v1/service/posts/{post.pk}/claim", {})
    assert late.status_code == 409
    body = late.json()
    assert body["error"]["code"] == "conflict" and "名额已全部被认领" in body["error"]["message"]
    assert set(body["error"]) == {"code", "message", "details"}
    assert Claim.objects.filter(post=post, status="active").count() == 1


def test_give_up_frees_the_place(post, members):  # type: ignore[no-untyped-def]
    first, second = members.users
    claim = services.claim_post(actor=first, post_id=post.pk)
    with pytest.raises(Conflict):
        services.claim_post(actor=second, post_id=post.pk)
    services.give_up(actor=first, claim_id=claim.pk)
    assert services.claim_post(actor=second, post_id=post.pk).person == members.members[1].person


def test_party_post_refuses_a_resident_who_is_not_reported_in(tree, post):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.RESIDENT, node=tree.communities[0])
    PersonAccount.objects.create(user=user, person=make_person(tree.households[0], name="普通居民"))
    with pytest.raises(Forbidden):
        services.claim_post(actor=user, post_id=post.pk)


def test_owner_confirms_service_not_the_claimant(post, members, staff):  # type: ignore[no-untyped-def]
    member = members.users[0]
    claim = services.claim_post(actor=member, post_id=post.pk)
    service = services.record_service(
        actor=member, claim_id=claim.pk, served_on=datetime.date.today(), hours=Decimal("2"), note="清理楼道"
    )
    with pytest.raises(Forbidden):
        services.confirm_service(actor=member, service_id=service.pk)
    done = services.confirm_service(actor=staff, service_id=service.pk)
    assert done.confirmed_by == staff and done.confirmed_at is not None
    with pytest.raises(Conflict):
        services.confirm_service(actor=staff, service_id=service.pk)
    # The member was told.
    from gongzhi.messaging.models import Message

    assert Message.objects.filter(user=member, kind=services.CONFIRMED_KIND).count() == 1


def test_a_member_sees_only_their_own_claims(post, members, staff):  # type: ignore[no-untyped-def]
    first, second = members.users
    post.capacity = 2
    post.save()
    services.claim_post(actor=first, post_id=post.pk)
    services.claim_post(actor=second, post_id=post.pk)
    assert [c.user for c in selectors.post_claims(user=first, post=post)] == [first]
    assert selectors.post_claims(user=staff, post=post).count() == 2


def test_monthly_report_shows_the_service(post, members, staff):  # type: ignore[no-untyped-def]
    member = members.users[0]
    claim = services.claim_post(actor=member, post_id=post.pk)
    today = datetime.date.today()
    service = services.record_service(actor=member, claim_id=claim.pk, served_on=today, hours=Decimal("1.5"))
    services.confirm_service(actor=staff, service_id=service.pk)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=post.area.parent.parent)
    rows = selectors.monthly_report(user=operator, month=today.strftime("%Y-%m"), branch_id=members.branch.pk)
    mine = next(r for r in rows if r.member == members.members[0])
    assert (mine.times, mine.hours, mine.confirmed_hours, mine.posts) == (1, Decimal("1.5"), Decimal("1.5"), post.title)
    other = next(r for r in rows if r.member == members.members[1])
    assert other.times == 0


def test_monthly_report_as_xlsx(client, post, members, staff):  # type: ignore[no-untyped-def]
    import io

    from openpyxl import load_workbook

    member = members.users[0]
    claim = services.claim_post(actor=member, post_id=post.pk)
    today = datetime.date.today()
    services.record_service(actor=member, claim_id=claim.pk, served_on=today, hours=Decimal("2"))
    client.force_login(staff)
    response = client.get(f"/posts/report/?month={today:%Y-%m}&format=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "姓名" and len(rows) == 3
    served = next(r for r in rows if r[1] == "王在职")
    assert (served[3], served[4], served[5], served[6]) == (post.title, 1, 2.0, 0.0)
    # The page itself, and the member's own page on the phone.
    assert "王在职" in client.get(f"/posts/report/?month={today:%Y-%m}").content.decode()
    client.force_login(member)
    assert post.title in client.get("/posts/mine/").content.decode()
