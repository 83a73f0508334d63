"""A household visit that becomes a case, in a real browser.

Community staff have a winter visit campaign running over their community. A grid worker on a 360 px phone opens
"my households", finds the door by a resident's name, opens the household (masked ID and phone), records that they
met the old lady living there, writes the need they found, ticks "raise a case", picks the category and saves: the
household page says which case was raised and links to it, and the case page opens. The staff member's coverage
panel shows the door as reached.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.choices import Channel
from gongzhi.cases.tests.factories import category
from gongzhi.registry.models import PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.tests.factories import build_tree
from gongzhi.visits import services
from gongzhi.visits.models import CampaignTarget, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13912345678"
# Inside the worker's grid, next to its building (see territory.tests.factories.build_tree).
GPS = {"latitude": 41.9041, "longitude": 123.4041}
NEED = "楼道积水，老人夜里出门容易滑倒"


def test_grid_worker_records_a_visit_that_creates_a_case(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    water = category("0105")
    household = tree.households[0]
    elder = make_person(household, name="孙奶奶", phone=PHONE, birth_date=datetime.date(1941, 3, 2))
    PersonTag.objects.create(person=elder, tag="elderly_alone", since=datetime.date(2020, 1, 1))
    make_person(tree.households[1], name="李师傅")  # grid 2: the other door of the campaign
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")
    staff = user_with_role(
        Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0], display_name="刘书记"
    )
    today = timezone.localdate()
    campaign = services.create_campaign(
        actor=staff,
        name="冬季大走访",
        area_id=tree.communities[0].pk,
        starts=today - datetime.timedelta(days=1),
        ends=today + datetime.timedelta(days=20),
    )

    # --- the staff member watches coverage at the desk ---------------------------------------------------------------
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/visits/campaigns/{campaign.pk}/")
    assert desk.inner_text("#coverage-percent") == "0.0%"
    assert desk.get_attribute("#coverage", "hx-trigger") == "every 20s"

    # --- 1. the grid worker finds the door on the phone ---------------------------------------------------------------
    phone = make_page(width=360, height=780)
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone.context.set_geolocation(GPS)
    login(phone, worker)
    phone.goto(f"{live_server.url}/visits/")
    assert "我的住户" in phone.inner_text("main")
    assert phone.get_attribute(f"#chip-campaign-{campaign.pk}", "data-count") == "1"
    card = phone.locator(f'#household-list [data-household-id="{household.pk}"]')
    assert "待走访" in card.inner_text()
    phone.fill("#visits-q", "孙奶")  # HTMX search as one types; the address bar follows
    phone.wait_for_url(re.compile(r"[?&]q="))
    card.wait_for()
    assert phone.locator("#household-list .household-card").count() == 1
    phone.screenshot(path=str(results_dir / "visit-1-households-phone.png"), full_page=True)
    card.locator(".household-link").click()
    phone.wait_for_url(f"{live_server.url}/visits/households/{household.pk}/")

    # --- 2. the household: residents masked, the campaign's door still to visit --------------------------------------
    residents = phone.inner_text("#residents")
    assert "孙奶奶" in residents and "139****5678" in residents
    assert PHONE not in phone.content() and str(elder.id_number) not in phone.content()
    assert "冬季大走访" in phone.inner_text("#household-todo")
    # The browser may give the position: it is taken without a question.
    phone.wait_for_function("() => document.getElementById('id_lat').value !== ''")  # a function: a string would be eval'd, which the CSP refuses

    # --- 3. record the visit: met, the need found, raise a case --------------------------------------------------------
    phone.check('input[name="outcome"][value="met"]')
    phone.select_option("#id_person", str(elder.pk))
    phone.fill("#id_needs", NEED)
    assert phone.locator("#id_category_search").is_hidden(), "the case fields appear only when asked for"
    phone.check("#id_raise_case")
    phone.locator("#id_category_search").wait_for(state="visible")
    phone.fill("#id_category_search", "积水")  # the category: a plain word, then a tap
    phone.locator(f'.cat-option[data-value="{water.pk}"]').tap()
    assert phone.input_value("#id_category") == str(water.pk)
    phone.screenshot(path=str(results_dir / "visit-2-record-phone.png"), full_page=True)
    with phone.expect_navigation():
        phone.click("#visit-submit")

    # --- 4. saved: the case number, linked ------------------------------------------------------------------------------
    assert phone.url == f"{live_server.url}/visits/households/{household.pk}/"
    visit = Visit.objects.select_related("case").get(household=household)
    case = visit.case
    assert case is not None and case.channel == Channel.VISIT and case.category_id == water.pk
    assert (visit.outcome, visit.person_id, visit.visitor_id) == ("met", elder.pk, worker.pk)
    assert visit.lat is not None and abs(visit.lat - GPS["latitude"]) < 1e-5
    assert CampaignTarget.objects.get(campaign=campaign, household=household).covered_at is not None
    link = phone.locator("#raised-case")
    assert link.inner_text() == case.number
    history = phone.locator(f'#visit-history [data-visit-id="{visit.pk}"]')
    assert case.number in history.inner_text() and NEED in history.inner_text()
    assert phone.locator("#household-todo .badge-done").count() == 1, "the campaign's door is reached"
    phone.screenshot(path=str(results_dir / "visit-3-saved-phone.png"), full_page=True)
    link.click()
    phone.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert phone.inner_text("#case-number") == case.number
    assert phone.get_attribute("#case", "data-status") == "reported"
    assert "入户走访" in phone.inner_text("#case-head")
    phone.goto(f"{live_server.url}/visits/")
    assert phone.get_attribute(f"#chip-campaign-{campaign.pk}", "data-count") == "0"

    # --- 5. the desk's coverage panel, refreshed the way its 20-second poll does it ------------------------------------
    desk.evaluate(
        "url => htmx.ajax('GET', url, {target: '#coverage', swap: 'outerHTML'})",
        f"{live_server.url}/visits/campaigns/{campaign.pk}/coverage/",
    )
    desk.wait_for_function("() => document.getElementById('coverage-percent').textContent === '50.0%'")
    row = desk.locator(f'#coverage-grid tr[data-code="{tree.grids[0].code}"]')
    assert row.get_attribute("data-covered") == "1" and row.get_attribute("data-remaining") == "0"
    desk.screenshot(path=str(results_dir / "visit-4-coverage-desk.png"), full_page=True)

    assert phone.gongzhi_errors == [] and desk.gongzhi_errors == []
