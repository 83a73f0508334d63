"""The notice pages: list, send form, notice page with who has not read, a grid worker's confirmation, and the
resident's read link (no account)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gongzhi.core.privacy import mask_phone
from gongzhi.notices import services
from gongzhi.notices.models import Notice, NoticeDelivery
from gongzhi.registry.models import Person

pytestmark = pytest.mark.django_db

TITLE = "关于开展消防安全检查的通知"
BODY = "本周三起逐户检查电动车充电情况。"


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def send(actor, area, **kwargs):  # type: ignore[no-untyped-def]
    return services.deliver_notice(actor=actor, title=TITLE, body=BODY, area_id=area.pk, **kwargs)


def test_send_form_in_chinese_and_the_dedup_message(client, ground, staff, village_staff):  # type: ignore[no-untyped-def]
    tree = ground.tree
    client.force_login(staff)
    page = html(client.get(reverse("notices-new")))
    assert 'lang="zh-hans"' in page and "发通知" in page and "发送范围" in page and "正文" in page
    assert f'value="{tree.communities[0].pk}"' in page and f'value="{tree.grids[1].pk}"' in page
    assert f'value="{tree.communities[1].pk}"' not in page, "only places in the sender's scope"
    assert 'name="tags"' in page and 'value="elderly"' in page

    response = client.post(reverse("notices-new"), {"title": TITLE, "body": BODY, "area": tree.communities[0].pk})
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notices-detail", args=[notice.pk])
    page = html(client.get(response["Location"]))
    assert "已送达 6 户。" in page

    client.force_login(village_staff)
    response = client.post(
        reverse("notices-new"), {"title": TITLE, "body": BODY, "area": tree.communities[0].pk}, follow=True
    )
    page = html(response)
    assert f"已送达 0 户（另有 6 户已从{tree.committees[0].name}收到）。" in page
    assert "联合发送" in page and ground.village.name in page
    assert Notice.objects.count() == 1 and NoticeDelivery.objects.count() == 6


def test_send_form_errors_and_scope(client, ground, staff, staff_b, worker):  # type: ignore[no-untyped-def]
    tree = ground.tree
    client.force_login(staff)
    response = client.post(
        reverse("notices-new"), {"title": TITLE, "body": BODY, "area": tree.grids[0].pk, "tags": ["disabled"]}
    )
    assert response.status_code == 400
    page = html(response)
    assert "没有符合条件的住户" in page and 'data-field="tags"' in page
    response = client.post(reverse("notices-new"), {"title": "", "body": BODY, "area": tree.communities[1].pk})
    assert response.status_code == 400
    assert 'data-field="area"' in html(response) and 'data-field="title"' in html(response)
    assert not Notice.objects.exists()

    client.force_login(worker)
    assert client.get(reverse("notices-new")).status_code == 403
    list_page = html(client.get(reverse("notices-list")))
    assert 'id="new-notice"' not in list_page

    notice = send(staff, tree.communities[0]).notice
    client.force_login(staff_b)
    assert client.get(reverse("notices-detail", args=[notice.pk])).status_code == 404
    assert TITLE not in html(client.get(reverse("notices-list")))


def test_list_and_detail_show_read_share_and_masked_unread(client, ground, operator, staff):  # type: ignore[no-untyped-def]
    notice = send(operator, ground.tree.subdistrict).notice
    for household in ground.inhabited[0][:2]:
        services.mark_read(token=notice.deliveries.get(household=household).token)
    client.force_login(staff)
    page = html(client.get(reverse("notices-list")))
    assert "通知" in page and TITLE in page and f'data-notice-id="{notice.pk}"' in page
    assert 'data-percent="33.3"' in page and "6 户中 2 户已读" in page

    page = html(client.get(reverse("notices-detail", args=[notice.pk])))
    assert BODY in page and "您辖区内的阅读情况" in page
    assert 'id="stat-delivered">6<' in page and 'id="stat-read">2<' in page and 'id="stat-percent">33.3%<' in page
    assert 'id="stats-community"' not in page, "one community: no community breakdown"
    assert f'data-code="{ground.tree.grids[0].code}"' in page and f'data-code="{ground.tree.grids[2].code}"' not in page
    assert 'id="unread-count">(4)<' in page
    phones = list(Person.objects.exclude(phone="").values_list("phone", flat=True))
    assert not any(p in page for p in phones), "no raw phone on the page"
    unread_phone = Person.objects.get(household=ground.inhabited[1][0]).phone
    assert mask_phone(unread_phone) in page
    assert "当面确认已读" in page, "community staff may confirm too"

    client.force_login(operator)
    page = html(client.get(reverse("notices-detail", args=[notice.pk])))
    assert 'id="stats-community"' in page and 'id="stat-delivered">12<' in page
    page = html(
        client.get(
            reverse("notices-detail", args=[notice.pk]),
            {"within": ground.tree.grids[3].code, "part": "unread"},
            headers={"HX-Request": "true"},
        )
    )
    assert page.startswith('<section class="card" id="unread"') and 'id="unread-count">(3)<' in page


def test_grid_worker_confirms_reading_in_person(client, ground, staff, worker, worker_b):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0]).notice
    delivery = notice.deliveries.get(household=ground.inhabited[0][0])
    client.force_login(worker)
    page = html(client.get(reverse("notices-detail", args=[notice.pk])))
    assert 'id="unread-count">(3)<' in page and f'id="delivery-{delivery.pk}"' in page
    response = client.post(
        reverse("notices-confirm", args=[delivery.pk]), {"via": "in_person"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    row = html(response)
    assert row.startswith(f'<tr id="delivery-{delivery.pk}"') and "当面确认" in row
    delivery.refresh_from_db()
    assert delivery.read_via == "in_person" and delivery.confirmed_by == worker

    # Not their grid: 404, and nothing changes.
    other = notice.deliveries.get(household=ground.inhabited[0][1])
    client.force_login(worker_b)
    assert client.post(reverse("notices-confirm", args=[other.pk]), {"via": "phone"}).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    client.force_login(worker)
    response = client.post(reverse("notices-confirm", args=[other.pk]), {"via": "phone"})
    assert response.status_code == 302 and response["Location"] == reverse("notices-detail", args=[notice.pk])
    assert client.post(reverse("notices-confirm", args=[other.pk]), {"via": "magic"}).status_code == 400


def test_resident_read_link_without_account(client, ground, staff):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0]).notice
    delivery = notice.deliveries.first()
    response = client.get(reverse("notices-read", args=[delivery.token]))
    assert response.status_code == 200
    page = html(response)
    assert TITLE in page and BODY in page and "已记录您家已阅读此通知" in page
    assert ground.tree.committees[0].name in page
    assert response["Referrer-Policy"] == "no-referrer"
    delivery.refresh_from_db()
    first = delivery.read_at
    assert first is not None and delivery.read_via == "link"
    assert client.get(reverse("notices-read", args=[delivery.token])).status_code == 200
    delivery.refresh_from_db()
    assert delivery.read_at == first, "the first read time is kept"
    assert client.get(reverse("notices-read", args=["not-a-token"])).status_code == 404
    assert NoticeDelivery.objects.filter(read_at__isnull=False).count() == 1


def test_staff_pages_need_login(client, ground):  # type: ignore[no-untyped-def]
    for url in (reverse("notices-list"), reverse("notices-new"), reverse("notices-detail", args=[1])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
