"""The police loop and the mediation ladder, in a real browser (issue 18).

The police station files a notice (警情通报) → the grid worker, on a 360 px phone, signs for it, visits and answers
"became a dispute" → adds the parties and mediates on site, without agreement → escalates to the station with a
reason → the station's mediator holds two sessions (face to face, then separately with a private note) → records
the agreement, the parties sign, and the printable 人民调解协议书 shows the terms → the police station sees the
feedback of its notice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.disputes.choices import TierKind
from gongzhi.disputes.models import Agreement, Dispute, LadderTier, PoliceNotice
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "两户因楼上漏水争吵报警"
TERM = "被申请人于七日内修复卫生间防水并赔偿申请人维修费人民币叁仟元"


def test_notice_visit_onsite_station_sessions_agreement_feedback(live_server, make_page, login, results_dir):
    tree = build_tree()
    team = Body.objects.create(name="老娘舅调解队", kind=BodyKind.SOCIAL_ORGANISATION, node=tree.subdistrict)
    LadderTier.objects.create(subdistrict=tree.subdistrict, level=1, kind=TierKind.ON_SITE, name="联勤处置分队现场调处")
    LadderTier.objects.create(
        subdistrict=tree.subdistrict, level=2, kind=TierKind.STATION, name="综合治理站专职调解", body=team
    )
    LadderTier.objects.create(subdistrict=tree.subdistrict, level=3, kind=TierKind.REFERRAL, name="诉调对接")
    police = user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department, display_name="派出所民警")
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王网格")
    mediator = user_with_role(Role.MEDIATOR, node=tree.subdistrict, body=team, display_name="马调解")
    url = live_server.url

    # 1. The police station files the notice for the grid.
    station = make_page()
    login(station, police)
    station.goto(f"{url}/disputes/notices/new/")
    station.fill("#id_title", TITLE)
    station.select_option("#id_place", str(tree.grids[0].pk))
    station.fill("#id_people", "张大爷（楼下）、李某（楼上）")
    station.fill("#id_ask", "请网格员入户走访，了解情况并组织调解")
    with station.expect_navigation():
        station.click("#notice-submit")
    notice = PoliceNotice.objects.get(title=TITLE)
    assert notice.status == "sent" and "已下发" in station.inner_text(".notice-detail")

    # 2. The grid worker, on a phone: the notice waits on the workbench; sign for it, visit, answer "a dispute".
    phone = make_page(width=360, height=780)
    login(phone, worker)
    assert TITLE in phone.inner_text("#wb-notices-to-visit")
    phone.click(f"#wb-notices-to-visit [data-notice-id='{notice.pk}'] a")
    with phone.expect_navigation():
        phone.click("#notice-receive")
    assert "已签收" in phone.inner_text(".notice-detail .case-top")
    phone.check("input[name=result][value=dispute]")
    phone.fill("#id_feedback", "已入户走访，双方同意调解，由网格现场调处")
    phone.select_option("#id_kind", label="邻里纠纷")
    phone.fill("#id_summary", "楼上漏水致楼下受损")
    with phone.expect_navigation():
        phone.click("#answer-submit")
    dispute = Dispute.objects.get(source_notice=notice)
    assert phone.url.endswith(f"/disputes/{dispute.pk}/") and dispute.tier == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 361, "no sideways scrolling on a phone"

    # The parties, then a face-to-face session on site that ends without agreement, then up to the station.
    for role, name, tel in (("applicant", "张大爷", "13812345678"), ("respondent", "李某", "13987654321")):
        phone.click("#parties summary")
        phone.select_option("#id_party-role", role)
        phone.fill("#id_party-name", name)
        phone.fill("#id_party-phone", tel)
        with phone.expect_navigation():
            phone.click("#party-form button[type=submit]")
    assert "138****5678" in phone.inner_text("#parties") and "13812345678" not in phone.inner_text("#parties")
    phone.click("#session-open")
    phone.check("#id_s-mode_0")
    phone.check("#id_s-attendees_0")
    phone.check("#id_s-attendees_1")
    phone.fill("#id_s-summary", "网格员会同联勤处置分队现场调处，楼上不认可漏水责任")
    phone.select_option("#id_s-result", "no_agreement")
    with phone.expect_navigation():
        phone.click("#session-submit")
    phone.click("#action-escalate")
    phone.fill("#id_e-reason", "现场调处不成，引导至综合治理站")
    with phone.expect_navigation():
        phone.click("#escalate-submit")
    dispute.refresh_from_db()
    assert dispute.tier == 2 and dispute.tier_kind == "station"
    assert "现场调处不成，引导至综合治理站" in phone.inner_text("#escalations")
    phone.screenshot(path=str(results_dir / "dispute-1-onsite-phone.png"), full_page=True)

    # 3. The station's mediator: two sessions, face to face and separately (with a private note).
    desk = make_page()
    login(desk, mediator)
    desk.goto(f"{url}/disputes/{dispute.pk}/")
    for mode, summary, result in (
        ("0", "首轮面对面调解，释法明理", "progress"),
        ("1", "背对背分别做工作", "agreement"),
    ):
        desk.click("#session-open")
        desk.fill("#id_s-held_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        desk.check(f"#id_s-mode_{mode}")
        desk.check("#id_s-attendees_0")
        desk.fill("#id_s-summary", summary)
        desk.select_option("#id_s-result", result)
        if mode == "1":
            desk.fill("#id_s-private_notes", "楼下底线三千元")
        with desk.expect_navigation():
            desk.click("#session-submit")
    sessions = desk.locator("#sessions .session")
    assert sessions.count() == 3
    assert "背对背" in desk.inner_text("#sessions") and "楼下底线三千元" in desk.inner_text("#sessions")

    # The agreement: drafted, signed by both, printed.
    desk.click("#agreement-open")
    desk.fill("#id_a-term_1", TERM)
    desk.fill("#id_a-how_1", "银行转账")
    desk.fill("#id_a-by_1", (timezone.localdate() + timedelta(days=7)).isoformat())
    with desk.expect_navigation():
        desk.click("#agreement-submit")
    desk.click("#sign-open")
    with desk.expect_navigation():
        desk.click("#sign-submit")
    dispute.refresh_from_db()
    assert dispute.status == "agreed" and dispute.resolved_tier == 2
    agreement = Agreement.objects.get(dispute=dispute)
    assert agreement.signed_by.count() == 2
    desk.screenshot(path=str(results_dir / "dispute-2-station.png"), full_page=True)
    with desk.expect_navigation():
        desk.click(f"#agreement-print-{agreement.pk}")
    sheet = desk.inner_text("#agreement-sheet")
    assert "人民调解协议书" in sheet and TERM in sheet and "张大爷" in sheet and "13812345678" not in sheet
    desk.screenshot(path=str(results_dir / "dispute-3-agreement.png"), full_page=True)

    # 4. The police station sees the feedback of its notice.
    station.goto(f"{url}/disputes/notices/")
    card = station.inner_text(f"[data-notice-id='{notice.pk}']")
    assert "已反馈" in card and "转为矛盾纠纷" in card and "已入户走访，双方同意调解" in card
    station.goto(f"{url}/")
    assert TITLE in station.inner_text("#wb-notices-answered")
    for page in (station, phone, desk):
        assert page.gongzhi_errors == []
