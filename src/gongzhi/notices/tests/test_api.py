"""The notices API: send, list, detail with statistics, who has not read (phones masked), confirm, scope, errors."""

from __future__ import annotations

import pytest

from gongzhi.core.privacy import mask_phone
from gongzhi.notices import services
from gongzhi.notices.models import Notice, NoticeDelivery
from gongzhi.registry.models import Person

pytestmark = pytest.mark.django_db

URL = "/api/v1/notices"
PAYLOAD = {"title": "垃圾分类宣传", "body": "本周起厨余垃圾定时定点投放。"}


def raw_phones() -> list[str]:
    return list(Person.objects.exclude(phone="").values_list("phone", flat=True))


def test_send_list_detail_and_join(api, ground, staff, village_staff):  # type: ignore[no-untyped-def]
    tree = ground.tree
    response = api.as_user(staff).post(URL, {**PAYLOAD, "area_id": tree.communities[0].pk})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["joined"], data["households"], data["new_households"], data["already_delivered"]) == (False, 6, 6, 0)
    notice = data["notice"]
    assert notice["title"] == PAYLOAD["title"] and notice["area"]["id"] == tree.communities[0].pk
    assert notice["stats"]["delivered"] == 6 and notice["stats"]["percent_read"] == 0.0
    assert [g["code"] for g in notice["stats"]["by_grid"]] == [tree.grids[0].code, tree.grids[1].code]
    assert notice["senders"][0]["body"]["name"] == tree.committees[0].name
    assert "token" not in response.content.decode(), "the resident's key never leaves through the API"

    response = api.as_user(village_staff).post(URL, {**PAYLOAD, "area_id": tree.communities[0].pk})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["joined"] is True and data["notice"]["id"] == notice["id"]
    assert (data["new_households"], data["already_delivered"]) == (0, 6)
    assert data["already_from"] == [tree.committees[0].name]
    assert [s["body"]["name"] for s in data["notice"]["senders"]] == [tree.committees[0].name, ground.village.name]
    assert NoticeDelivery.objects.count() == 6

    listed = api.as_user(staff).get(URL).json()
    assert listed["count"] == 1
    row = listed["items"][0]
    assert (row["id"], row["delivered"], row["read"], row["unread"], row["percent_read"]) == (
        notice["id"],
        6,
        0,
        6,
        0.0,
    )
    detail = api.get(f"{URL}/{notice['id']}").json()
    assert detail["body"] == PAYLOAD["body"] and len(detail["senders"]) == 2


def test_unread_list_masks_phones_and_confirm(api, ground, staff, worker):  # type: ignore[no-untyped-def]
    notice = services.send_notice(
        actor=staff, title=PAYLOAD["title"], body=PAYLOAD["body"], area_id=ground.tree.communities[0].pk
    )
    response = api.as_user(staff).get(f"{URL}/{notice.pk}/unread")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 6
    first = data["items"][0]
    household = ground.inhabited[0][0]
    phone = Person.objects.get(household=household).phone
    assert first["household"]["id"] == household.pk and first["grid_name"] == ground.tree.grids[0].name
    assert first["contact_name"] == "居民00" and first["contact_phone_masked"] == mask_phone(phone)
    body = response.content.decode()
    assert not any(p in body for p in raw_phones()), "no raw phone in the unread list"
    assert "token" not in body
    within = api.get(f"{URL}/{notice.pk}/unread?within={ground.tree.grids[1].code}").json()
    assert within["count"] == 3

    # The grid worker sees their grid's deliveries and confirms one.
    mine = api.as_user(worker).get(f"{URL}/deliveries").json()
    assert {d["household"]["id"] for d in mine["items"]} == {h.pk for h in ground.inhabited[0]}
    assert not any(p in str(mine) for p in raw_phones())
    delivery_id = mine["items"][0]["id"]
    response = api.post(f"{URL}/deliveries/{delivery_id}/confirm", {"via": "in_person"})
    assert response.status_code == 200, response.content
    assert response.json()["read_via"] == "in_person" and response.json()["read_at"]
    assert api.get(f"{URL}/{notice.pk}").json()["stats"]["read"] == 1
    other = NoticeDelivery.objects.get(household=ground.inhabited[1][0])
    response = api.post(f"{URL}/deliveries/{other.pk}/confirm", {"via": "in_person"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = api.post(f"{URL}/deliveries/{delivery_id}/confirm", {"via": "pigeon"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "via"


def test_scope_other_community_cannot_see_or_send(api, ground, staff, staff_b, worker):  # type: ignore[no-untyped-def]
    notice = services.send_notice(
        actor=staff, title=PAYLOAD["title"], body=PAYLOAD["body"], area_id=ground.tree.communities[0].pk
    )
    api.as_user(staff_b)
    assert api.get(URL).json()["count"] == 0
    response = api.get(f"{URL}/{notice.pk}")
    assert response.status_code == 404
    assert PAYLOAD["title"] not in response.content.decode()
    assert api.get(f"{URL}/{notice.pk}/unread").status_code == 404
    delivery = NoticeDelivery.objects.filter(notice=notice).first()
    assert api.post(f"{URL}/deliveries/{delivery.pk}/confirm", {"via": "phone"}).status_code == 404
    response = api.post(URL, {**PAYLOAD, "area_id": ground.tree.communities[0].pk})
    assert response.status_code == 404
    # A grid worker sees the notice (it was sent to their community) but may not send one.
    api.as_user(worker)
    assert api.get(f"{URL}/{notice.pk}").json()["stats"]["delivered"] == 3
    response = api.post(URL, {**PAYLOAD, "area_id": ground.tree.grids[0].pk})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert Notice.objects.count() == 1


def test_error_shape_on_bad_input(api, ground, staff):  # type: ignore[no-untyped-def]
    api.as_user(staff)
    response = api.post(URL, {"title": "", "body": "x", "area_id": ground.tree.communities[0].pk, "tags": ["x"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert {d["field"] for d in error["details"]} == {"title", "tags[0]"}
    response = api.post(URL, {"title": "t", "body": "b", "area_id": "community"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and error["details"][0]["field"] == "area_id"
    response = api.post(URL, {"body": "b"})
    assert response.status_code == 400
    assert {d["field"] for d in response.json()["error"]["details"]} >= {"title", "area_id"}
    assert api.get(f"{URL}/999999").status_code == 404
    assert not Notice.objects.exists()


def test_anonymous_gets_401(api, ground):  # type: ignore[no-untyped-def]
    response = api.get(URL)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
