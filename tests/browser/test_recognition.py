"""A 五星文明户 campaign from nomination to the household's page, in a real browser (issue 21, recognition).

Community staff nominate a household on the nominate form and accept it as a candidate, then open public voting → a
resident votes on a 360 px phone (once: the button gives way to "voted") → the staff open the panel review → a panel
member approves and awards the household with its citation → the staff publish → the public results show the
citation, and the registry's household page shows the recognition (the fragment loaded by HTMX).
"""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.recognition import services
from gongzhi.recognition.models import Nomination, Vote
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITATION = "邻里守望，家风清正，堪为表率。"


def test_nominate_vote_review_publish_household_page(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    judge = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], display_name="评审甲")
    resident = user_with_role(Role.RESIDENT, node=tree.grids[1])
    campaign = services.create_campaign(
        actor=staff, title="2026年度五星文明户", subject="household", area_id=tree.communities[0].pk,
        criteria=[{"name": "邻里和睦星", "max_score": 20}, {"name": "环境整洁星", "max_score": 20}],
        quota=3, public_voting=True, panel_ids=[judge.pk],
    )  # fmt: skip
    household = tree.households[0]

    # Staff nominate the household and accept it into the candidate list, then open the vote.
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/recognition/{campaign.pk}/")
    with desk.expect_navigation():
        desk.click("#nominate-link")
    desk.select_option("#nominee-household", str(household.pk))
    desk.fill("#reason-0", "多年照顾独居老人，调解邻里矛盾")
    with desk.expect_navigation():
        desk.click("#nominate-submit")
    assert "提名已提交" in desk.inner_text(".messages")
    nomination = Nomination.objects.get()
    with desk.expect_navigation():
        desk.click(f"[data-nomination-id='{nomination.pk}'] .accept")
    with desk.expect_navigation():
        desk.click("#open-voting")
    assert "投票已开始" in desk.inner_text(".messages")

    # A resident votes on the phone, once.
    phone = make_page(width=360, height=740)
    login(phone, resident)
    phone.goto(f"{live_server.url}/recognition/public/{campaign.pk}/")
    card = f"[data-candidate-id='{nomination.pk}']"
    with phone.expect_navigation():
        phone.click(f"{card} .vote-button")
    assert "您的投票已计入" in phone.inner_text(".messages")
    assert phone.is_visible(f"{card} .voted") and not phone.is_visible(f"{card} .vote-button")
    assert "1 票" in phone.inner_text(f"{card} .vote-count")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(results_dir / "recognition-1-phone-vote.png"), full_page=True)
    assert Vote.objects.filter(nomination=nomination).count() == 1

    # The panel review opens; the panel member approves and awards it with the citation.
    desk.goto(f"{live_server.url}/recognition/{campaign.pk}/")
    with desk.expect_navigation():
        desk.click("#open-review")
    panel = make_page()
    login(panel, judge)
    panel.goto(f"{live_server.url}/recognition/{campaign.pk}/")
    row = f"[data-nomination-id='{nomination.pk}']"
    panel.check(f"{row} .review-form input[value=yes]")
    panel.fill(f"{row} .review-score", "36")
    with panel.expect_navigation():
        panel.click(f"{row} .review-save")
    assert "1 人中 1 人同意" in panel.inner_text(row)
    panel.fill(f"{row} .citation-input", CITATION)
    with panel.expect_navigation():
        panel.click(f"{row} .award")
    assert "当选" in panel.inner_text(f"{row} .nomination-status")

    # Staff publish; the results and the household's page show it.
    desk.goto(f"{live_server.url}/recognition/{campaign.pk}/")
    with desk.expect_navigation():
        desk.click("#publish")
    assert "结果已公示" in desk.inner_text(".messages")
    phone.goto(f"{live_server.url}/recognition/public/{campaign.pk}/results/")
    assert CITATION in phone.inner_text("#winners")
    desk.goto(f"{live_server.url}/registry/households/{household.pk}/")
    desk.wait_for_selector("#household-recognition")
    text = desk.inner_text("#household-recognition")
    assert "2026年度五星文明户" in text and CITATION in text
    desk.screenshot(path=str(results_dir / "recognition-2-household.png"), full_page=True)
    for page in (desk, phone, panel):
        assert not page.gongzhi_errors, page.gongzhi_errors
