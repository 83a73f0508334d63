"""A notice from two overlapping bodies to the households, in a real browser.

Community staff send a notice to their community from the form → the village committee that co-covers the same
ground (村居融洽) sends the same notice and is told that every household already had it → a resident opens their
read link on a phone, without an account → the grid worker, on a 360 px phone, confirms another household in
person from the "not read yet" list (HTMX) → the staff see the read share rise.
"""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.notices.models import Notice, NoticeDelivery
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.choices import BodyKind, NodeKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree, child, co_cover

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "关于本周六停水的通知"
BODY = "因管网维修，本周六 8:00-18:00 停水，请提前储水。"


def test_notice_once_per_household_read_link_and_confirmation(live_server, make_page, login, results_dir):
    tree = build_tree()
    for g, building in enumerate(tree.buildings[:2]):
        make_person(tree.households[g], name=f"住户{g}甲", phone=f"1381234{g}001")
        second = child(building, NodeKind.HOUSEHOLD, 2, "1单元102")
        make_person(second, name=f"住户{g}乙", phone=f"1381234{g}002")
    village = Body.objects.create(name="渔业村村委会", kind=BodyKind.VILLAGE_COMMITTEE, node=tree.subdistrict)
    co_cover(tree.communities[0], village)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    village_staff = user_with_role(Role.COMMUNITY_STAFF, body=village)
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")

    # Community staff send to the whole community.
    page = make_page()
    login(page, staff)
    page.goto(f"{live_server.url}/notices/new/")
    page.fill("#id_title", TITLE)
    page.fill("#id_body", BODY)
    page.select_option("#id_area", str(tree.communities[0].pk))
    with page.expect_navigation():
        page.click("#send-notice")
    assert "已送达 4 户。" in page.inner_text(".messages")
    notice = Notice.objects.get()
    assert page.inner_text("#stat-delivered") == "4"
    page.screenshot(path=str(results_dir / "notices-1-sent.png"), full_page=True)

    # The village committee over the same ground sends the same notice: nobody gets it twice.
    village_page = make_page()
    login(village_page, village_staff)
    village_page.goto(f"{live_server.url}/notices/new/")
    village_page.fill("#id_title", TITLE)
    village_page.fill("#id_body", BODY)
    village_page.select_option("#id_area", str(tree.communities[0].pk))
    with village_page.expect_navigation():
        village_page.click("#send-notice")
    message = village_page.inner_text(".messages")
    assert f"已送达 0 户（另有 4 户已从{tree.committees[0].name}收到）。" in message
    assert village.name in village_page.inner_text("#notice-senders")
    assert Notice.objects.count() == 1 and NoticeDelivery.objects.count() == 4

    # A resident opens their link on a phone, no account.
    delivery = NoticeDelivery.objects.get(notice=notice, household=tree.households[0])
    resident = make_page(width=360, height=740)
    resident.goto(f"{live_server.url}/notices/r/{delivery.token}/")
    assert resident.inner_text("#notice-title") == TITLE
    assert "已记录您家已阅读此通知" in resident.inner_text("#read-recorded")
    assert resident.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    resident.screenshot(path=str(results_dir / "notices-2-resident.png"), full_page=True)
    delivery.refresh_from_db()
    assert delivery.read_via == "link"

    # The grid worker confirms the other household of their grid in person, on a phone.
    phone = make_page(width=360, height=740)
    login(phone, worker)
    phone.goto(f"{live_server.url}/notices/{notice.pk}/")
    assert phone.inner_text("#stat-delivered") == "2" and phone.inner_text("#stat-read") == "1"
    other = NoticeDelivery.objects.get(
        notice=notice, household__name="1单元102", household__code__startswith=tree.grids[0].code
    )
    row = phone.locator(f"#delivery-{other.pk}")
    assert "138****0002" in row.inner_text() and "13812340002" not in phone.content()
    row.locator('button[value="in_person"]').click()
    phone.wait_for_selector(f"#delivery-{other.pk}.is-read")
    assert "当面确认" in phone.inner_text(f"#delivery-{other.pk}")
    phone.screenshot(path=str(results_dir / "notices-3-worker.png"), full_page=True)
    other.refresh_from_db()
    assert other.read_via == "in_person" and other.confirmed_by == worker

    # The staff see half of their community's households have read.
    page.goto(f"{live_server.url}/notices/")
    assert page.get_attribute(f'[data-notice-id="{notice.pk}"] .nt-read', "data-percent") == "50.0"
    assert not page.gongzhi_errors and not phone.gongzhi_errors and not resident.gongzhi_errors
