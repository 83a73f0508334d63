"""Issue 16, a workbench for every role, in a real browser: each of the ten roles logs in and lands on its
workbench, on a desktop and on a 360 px phone, with nothing scrolling sideways; the signed-in resident reports a
problem from the phone and finds it under 我的反映."""

from __future__ import annotations

import pytest
from tests.test_workbench import EXPECTED_BLOCKS, build_world

from gongzhi.accounts.choices import Role
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


def test_each_role_lands_on_its_workbench_on_desktop_and_phone(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    world = build_world(build_tree())
    for role in Role.values:
        for width, height in ((1366, 860), (360, 780)):
            page = make_page(width=width, height=height)
            login(page, world.users[role])
            blocks = page.eval_on_selector_all(".wb-block", "els => els.map(e => e.dataset.block)")
            assert blocks == EXPECTED_BLOCKS[role], (role, width)
            assert page.evaluate(NO_SIDEWAYS), f"{role} at {width} px scrolls sideways"
            if width == 360 and role in (Role.GRID_WORKER, Role.RESIDENT):
                button = page.locator("#wb-report" if role == Role.GRID_WORKER else "#wb-my-report")
                box = button.bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] >= 44, "a big 上报 button"
                page.screenshot(path=str(results_dir / f"workbench-{role}-phone.png"), full_page=True)
            assert not page.gongzhi_errors, page.gongzhi_errors
            page.context.close()


def test_the_resident_reports_on_the_phone_and_sees_it_in_my_reports(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    world = build_world(tree)
    resident = world.users[Role.RESIDENT]
    water = category("0105")
    phone = make_page(width=360, height=780)
    login(phone, resident)
    phone.click("#wb-my-report")
    phone.wait_for_url(f"{live_server.url}/cases/mine/new/")
    assert (
        phone.input_value("#id_reporter_name") == "王阿姨" and phone.input_value("#id_reporter_phone") == "13900001111"
    )
    phone.fill("#id_title", "楼道灯坏了")
    phone.fill("#id_category_search", water.name)  # the category: its words, then a tap
    phone.locator(f'.cat-option[data-value="{water.pk}"]').click()
    assert phone.input_value("#id_category") == str(water.pk)
    phone.fill("#id_address", tree.buildings[0].name)
    assert phone.evaluate(NO_SIDEWAYS)
    with phone.expect_navigation():
        phone.click("#public-submit")
    case = Case.objects.get(title="楼道灯坏了")
    assert case.reporter_user_id == resident.pk
    assert phone.url == f"{live_server.url}/cases/mine/{case.pk}/"
    assert phone.inner_text("#track-number") == case.number
    phone.click("#nav-mine")
    phone.wait_for_url(f"{live_server.url}/cases/mine/")
    assert "楼道灯坏了" in phone.inner_text("#mine-list")
    assert "共反映 1 件" in phone.inner_text("#mine-summary")
    phone.goto(f"{live_server.url}/")
    assert phone.get_attribute("#wb-mine", "data-total") == "1"
    assert "受理台" not in phone.inner_text("body") and "我的绩效" not in phone.inner_text("body")
    assert phone.evaluate(NO_SIDEWAYS)
    phone.screenshot(path=str(results_dir / "workbench-resident-mine-phone.png"), full_page=True)
    assert not phone.gongzhi_errors, phone.gongzhi_errors
