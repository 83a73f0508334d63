"""A service post from publication to the monthly report, in a real browser (issue 21).

Community staff publish a post from the form → an on-duty party member reported in to the community (双报到) finds it
on a 360 px phone, claims it and records an evening's service → the staff confirm the service on the post's page →
the claim rate moves from 0 to 100 % → the member's monthly report to their home party organisation shows it.
"""

from __future__ import annotations

import datetime

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PartyMember
from gongzhi.registry.tests.factories import make_person
from gongzhi.service.models import Claim, PersonAccount, Service
from gongzhi.territory.models import Body, PartyOrg
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "社区1第1网格垃圾分类督导岗"


def test_publish_claim_serve_confirm_rate_and_report(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    branch = PartyOrg.objects.create(
        name="市税务局机关党支部", kind="general_branch", parent=tree.party_root, node=tree.subdistrict
    )
    person = make_person(tree.households[0], name="王在职")
    PartyMember.objects.create(
        person=person, member_type="on_duty", branch=branch, reported_in=True, reported_in_on=datetime.date(2026, 3, 1),
        work_unit=Body.objects.create(name="市税务局", kind="enterprise"),
    )  # fmt: skip
    member = user_with_role(Role.RESIDENT, node=tree.communities[0])
    PersonAccount.objects.create(user=member, person=person)

    # The community publishes a post.
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/posts/rate/")
    assert desk.inner_text("#rate-total").startswith("0.0")
    desk.goto(f"{live_server.url}/posts/new/")
    desk.select_option("#post-kind", label="垃圾分类督导")
    desk.fill("#post-title", TITLE)
    desk.select_option("#post-area", str(tree.grids[0].pk))
    desk.fill("#post-schedule", "每周三晚 18:30–20:00")
    desk.fill("#post-capacity", "3")
    with desk.expect_navigation():
        desk.click("#post-publish")
    assert "岗位已发布" in desk.inner_text(".messages")

    # The member claims it on the phone and records their service.
    phone = make_page(width=360, height=740)
    login(phone, member)
    phone.goto(f"{live_server.url}/posts/")
    with phone.expect_navigation():
        phone.click(f"text={TITLE}")
    with phone.expect_navigation():
        phone.click("#claim")
    assert "认领成功" in phone.inner_text(".messages")
    assert "已认领 1 / 3 个名额" in phone.inner_text("#post-places")
    phone.fill("#my-claim input[name=hours]", "1.5")
    phone.fill("#my-claim input[name=note]", "督导垃圾分类投放")
    with phone.expect_navigation():
        phone.click("#my-claim button:has-text('记录我的服务')")
    assert "待设岗方确认" in phone.inner_text(".messages")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(results_dir / "service-1-phone.png"), full_page=True)

    # The owner confirms the service on the post's page.
    service = Service.objects.get()
    desk.goto(f"{live_server.url}/posts/{service.claim.post_id}/")
    with desk.expect_navigation():
        desk.click(f"[data-service-id='{service.pk}'] .confirm-service")
    assert "服务已确认" in desk.inner_text(".messages")
    service.refresh_from_db()
    assert service.confirmed_by == staff

    # The claim rate moved, and the number opens the member.
    desk.goto(f"{live_server.url}/posts/rate/?by=branch")
    assert desk.inner_text("#rate-total").startswith("100.0")
    with desk.expect_navigation():
        desk.click(f"#rate-table tr[data-key='{branch.pk}'] td:nth-child(3) a")
    assert "王在职" in desk.inner_text("#rate-members")

    # The monthly report to the home party organisation shows the service.
    month = datetime.date.today().strftime("%Y-%m")
    desk.goto(f"{live_server.url}/posts/report/?month={month}&branch={branch.pk}")
    row = desk.inner_text(f"#report-table tr[data-member='{person.party_membership.pk}']")
    assert TITLE in row and "1.5" in row
    desk.screenshot(path=str(results_dir / "service-2-report.png"), full_page=True)
    assert Claim.objects.filter(status="active").count() == 1
    assert not phone.gongzhi_errors and not desk.gongzhi_errors
