"""A volunteer activity from publication to the yearly total, in a real browser (issue 21).

Community staff publish an activity from the form → a registered volunteer signs up on a 360 px phone → the
organiser shows the check-in QR code (drawn by the bundled qrcode-generator) and the volunteer opens its link:
checked in, then out → the organiser corrects the hours and confirms them → the volunteer's yearly total shows the
hours, and the KPI dashboard's volunteer figure moves from 0 to 1.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import services
from gongzhi.service.models import PersonAccount, SignUp
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "敬老义务理发"


def _active(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_attribute("#card-volunteers", "data-active")


def test_publish_sign_up_check_in_confirm_and_the_total_moves(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    person = make_person(tree.households[0], name="张志愿")
    member = user_with_role(Role.RESIDENT, node=tree.communities[0])
    PersonAccount.objects.create(user=member, person=person)
    team = services.create_team(actor=staff, name="社区1志愿服务队", area_id=tree.communities[0].pk)
    services.register_volunteer(actor=staff, person_id=person.pk, team_id=team.pk, skills="理发")

    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/kpis/?place={tree.communities[0].pk}")
    assert _active(desk) == "0"

    # The community publishes an activity starting in half an hour.
    start = timezone.localtime() + datetime.timedelta(minutes=30)
    desk.goto(f"{live_server.url}/posts/activities/new/")
    desk.fill("#activity-title", TITLE)
    desk.select_option("#activity-team", str(team.pk))
    desk.select_option("#activity-area", str(tree.communities[0].pk))
    desk.fill("#activity-venue", "社区党群服务中心")
    desk.fill("#activity-starts", start.strftime("%Y-%m-%dT%H:%M"))
    desk.fill("#activity-ends", (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    desk.fill("#activity-capacity", "5")
    with desk.expect_navigation():
        desk.click("#activity-publish")
    assert "活动已发布" in desk.inner_text(".messages")
    activity_url = desk.url

    # The volunteer signs up on the phone.
    phone = make_page(width=360, height=740)
    login(phone, member)
    phone.goto(f"{live_server.url}/posts/activities/")
    with phone.expect_navigation():
        phone.click(f"text={TITLE}")
    with phone.expect_navigation():
        phone.click("#sign-up")
    assert "报名成功" in phone.inner_text(".messages")
    assert "已报名 1 / 5 个名额" in phone.inner_text("#activity-places")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # The organiser shows the QR code; the volunteer opens its link and checks in, then out.
    desk.goto(activity_url)
    with desk.expect_navigation():
        desk.click("#show-qr")
    desk.wait_for_selector("#check-qr svg")
    check_url = desk.get_attribute("#check-link", "href")
    assert check_url and re.search(r"/posts/activities/\d+/check/[\w-]+/$", check_url)
    desk.screenshot(path=str(results_dir / "volunteers-1-qr.png"))
    phone.goto(check_url)
    with phone.expect_navigation():
        phone.click("#check-button")
    assert "签到成功" in phone.inner_text(".messages")
    with phone.expect_navigation():
        phone.click("#check-button")
    assert "签退成功" in phone.inner_text(".messages")
    phone.screenshot(path=str(results_dir / "volunteers-2-phone-check.png"), full_page=True)

    # The organiser corrects the hours and confirms them.
    signup = SignUp.objects.get()
    assert signup.checked_in_at and signup.checked_out_at and signup.check_method == "qr"
    desk.goto(activity_url)
    row = f"#attendees tr[data-signup-id='{signup.pk}']"
    desk.fill(f"{row} input[name=hours]", "2.5")
    with desk.expect_navigation():
        desk.click(f"{row} .save-hours")
    assert "时长已保存" in desk.inner_text(".messages")
    with desk.expect_navigation():
        desk.click(f"{row} .confirm-hours")
    assert "时长已确认" in desk.inner_text(".messages")
    desk.screenshot(path=str(results_dir / "volunteers-3-organiser.png"), full_page=True)
    signup.refresh_from_db()
    assert signup.confirmed_by == staff and str(signup.hours) == "2.5"

    # The volunteer's yearly total and the dashboard figure moved.
    phone.goto(f"{live_server.url}/posts/volunteers/mine/")
    year = timezone.localtime(signup.activity.starts_at).year
    assert phone.inner_text(f"#volunteer-years tr[data-year='{year}'] .year-hours").strip() == "2.5"
    phone.screenshot(path=str(results_dir / "volunteers-4-phone-total.png"), full_page=True)
    desk.goto(f"{live_server.url}/kpis/?place={tree.communities[0].pk}")
    assert _active(desk) == "1"
    desk.goto(f"{live_server.url}/posts/volunteers/figures/?place={tree.communities[0].code}")
    assert desk.get_attribute("#fig-active", "data-value") == "1"
    desk.screenshot(path=str(results_dir / "volunteers-5-figures.png"), full_page=True)
    assert not phone.gongzhi_errors and not desk.gongzhi_errors
