"""A building head's inspection round on a 360 px phone, in a real browser.

The community plans monthly rounds of its residential buildings, assigned to the building heads. The building head
opens "安全巡查", sees the round of their building, answers every item (fire lane blocked: failed, with a photo),
records the round: the page shows the record and the hazard found, which is in the building's hazard register and
on the territory map's hazard layer for the community. The page fits the phone (no sideways scrolling).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.inspections import services
from gongzhi.inspections.choices import AssignTo
from gongzhi.inspections.models import ChecklistItem, Hazard, Round
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 400


def test_building_head_records_a_round_on_a_phone(live_server, make_page, login, results_dir, tmp_path: Path):  # type: ignore[no-untyped-def]
    tree = build_tree()
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0], display_name="张楼长")
    services.ensure_checklists(actor=operator, subdistrict_id=tree.subdistrict.pk)
    services.create_plan(
        actor=staff, area_id=tree.communities[0].pk, kind="residential", every_months=1, assign_to=AssignTo.BUILDING_HEAD
    )
    round_ = Round.objects.get(building=tree.buildings[0])
    photo = tmp_path / "lane.jpg"
    photo.write_bytes(JPEG)

    page = make_page(width=360, height=740)
    login(page, head)
    page.goto(f"{live_server.url}/inspections/")
    page.click(f'[data-round-id="{round_.pk}"] a')
    page.wait_for_selector("#round-form")
    for item in ChecklistItem.objects.filter(checklist=round_.checklist, is_active=True).order_by("position"):
        row = page.locator(f'.insp-item[data-item-id="{item.pk}"]')
        row.locator(f'input[value="{"fail" if item.position == 1 else "pass"}"]').check()
        if item.position == 1:
            assert row.locator("select").is_visible()  # the severity shows for a failure only
            row.locator('input[type="file"]').set_input_files(str(photo))
            row.locator('input[type="text"]').fill("楼道堆放纸箱")
        else:
            assert not row.locator("select").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    page.click("#round-submit")
    page.wait_for_selector("#round-record")
    page.screenshot(path=str(results_dir / "inspections-round-phone.png"), full_page=True)
    hazard = Hazard.objects.get(round=round_)
    assert page.locator(f'[data-hazard-id="{hazard.pk}"]').count() == 1
    assert not page.gongzhi_errors, page.gongzhi_errors

    page.goto(f"{live_server.url}/inspections/buildings/{tree.buildings[0].pk}/")
    assert page.locator(f'#open-hazards [data-hazard-id="{hazard.pk}"]').count() == 1

    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/territory/")
    desk.wait_for_selector("#map[data-hazard-count]", state="attached")
    assert desk.evaluate("document.getElementById('map').dataset.hazardCount") == "1"
    assert not desk.gongzhi_errors, desk.gongzhi_errors
