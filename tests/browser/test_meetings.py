"""A meeting's journey in a real browser (issue 22).

A resident proposes a topic on a 360 px phone → the community plans the grid's night talk and takes the topic onto
its agenda → the resident signs in with the meeting's QR code link on the phone → the secretary records the
decision and makes it a case dispatched to the community's desk → the case closes through the case workflow → the
resident is told (their inbox, their topics) → the community's public page shows the decision done, with no names.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.tests.factories import category
from gongzhi.meetings.models import Decision, Meeting, Topic
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPIC = "3号楼门前雨后积水"
RESOLUTION = "请社区联系市政疏通3号楼门前雨水井"


def test_topic_to_decision_to_case_to_public_record(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    resident = user_with_role(Role.RESIDENT, node=tree.grids[0])
    cat = category()

    # The resident proposes a topic on the phone.
    phone = make_page(width=360, height=740)
    login(phone, resident)
    phone.goto(f"{live_server.url}/meetings/topics/")
    phone.fill("#f-title", TOPIC)
    phone.fill("#f-description", "一下雨就积水，老人出行不便")
    with phone.expect_navigation():
        phone.click("#topic-submit")
    assert TOPIC in phone.inner_text("#my-topics")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    topic = Topic.objects.get(title=TOPIC)
    assert topic.proposed_by == resident and topic.place == tree.grids[0]

    # The community plans the night talk and takes the topic.
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/meetings/new/")
    desk.select_option("#f-kind", label="网格夜谈会")
    desk.fill("#f-title", "社区1第1网格夜谈会")
    desk.select_option("#f-place", str(tree.grids[0].pk))
    desk.fill("#f-starts", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    with desk.expect_navigation():
        desk.click("#meeting-save")
    meeting = Meeting.objects.get()
    assert desk.url.endswith(f"/meetings/{meeting.pk}/")
    desk.click("#add-item summary")
    with desk.expect_navigation():
        desk.click("#add-topic button")
    assert TOPIC in desk.inner_text("#agenda-items")
    assert desk.locator(".mt-qr svg").count() == 1  # the QR code is drawn
    sign_in_url = desk.get_attribute("#sign-in-link", "href")
    desk.screenshot(path=str(results_dir / "meetings-1-desk.png"), full_page=True)

    # The resident signs in with the QR code's link.
    phone.goto(sign_in_url)
    with phone.expect_navigation():
        phone.click("#sign-in")
    assert phone.locator("#signed-in").count() == 1
    assert meeting.attendance.filter(user=resident, present=True, how="qr").exists()

    # The decision, made a case dispatched to the community's desk.
    desk.reload()
    assert resident.username in desk.inner_text("#attendance-list") or str(resident) in desk.inner_text(
        "#attendance-list"
    )
    with desk.expect_navigation():
        desk.click("#hold")
    meeting.refresh_from_db()
    assert meeting.status == "held"
    desk.select_option("#decide select[name=item]", index=1)
    desk.fill("#decide textarea[name=text]", RESOLUTION)
    desk.fill("#decide input[name=votes_for]", "12")
    with desk.expect_navigation():
        desk.click("#decide button")
    decision = Decision.objects.get()
    form = desk.locator(f"[data-decision-id='{decision.pk}'] .track-form")
    form.locator("select[name=track]").select_option("case")
    form.locator("select[name=category]").select_option(str(cat.pk))
    form.locator("select[name=handler_body]").select_option(str(tree.committees[0].pk))
    with desk.expect_navigation():
        form.locator("button").click()
    decision.refresh_from_db()
    case = decision.case
    assert case is not None and case.channel == "meeting" and case.handler_body == tree.committees[0]
    assert case.status == "dispatched" and decision.status == "in_progress"
    assert case.number in desk.inner_text(f"[data-decision-id='{decision.pk}']")

    # The case is worked and closed through the workflow.
    for action in ("acknowledge", "start", "dispose", "verify", "close"):
        workflow.perform(actor=staff, case_id=case.pk, action=action, note="已疏通雨水井")
    decision.refresh_from_db()
    assert decision.status == "done" and decision.progress == 100

    # The resident is told, and sees it on their topics.
    phone.goto(f"{live_server.url}/messages/")
    assert "社区1第1网格夜谈会" in phone.inner_text("main")
    phone.goto(f"{live_server.url}/meetings/topics/")
    assert phone.get_attribute("#my-topics .topic-decision", "data-status") == "done"
    phone.screenshot(path=str(results_dir / "meetings-2-phone.png"), full_page=True)

    # The public page (no account) shows it done, with nobody's name.
    public = make_page()
    public.goto(f"{live_server.url}/meetings/public/{tree.communities[0].code}/")
    decision_row = public.locator(".public-decision").first
    assert decision_row.get_attribute("data-status") == "done"
    assert RESOLUTION in decision_row.inner_text()
    body = public.inner_text("main")
    assert str(resident) not in body and resident.username not in body and str(staff) not in body
    public.screenshot(path=str(results_dir / "meetings-3-public.png"), full_page=True)
    assert not desk.gongzhi_errors and not phone.gongzhi_errors and not public.gongzhi_errors
