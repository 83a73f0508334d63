"""A case from the street to the resident's rating, in a real browser.

A grid worker on a 360 px phone reports a problem with a photo and the position from the phone, with the phone
number of the resident who told them → community staff at the desk dispatch it to the property company → the
company's handler acknowledges, starts and disposes it → the grid worker verifies and closes it → the resident,
without an account, follows it with the case number and their phone and rates it.
"""

from __future__ import annotations

import base64

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13912345678"
# Inside the worker's grid, next to its building (see territory.tests.factories.build_tree).
GPS = {"latitude": 41.9041, "longitude": 123.4041}
DRAW_JPEG = """() => {
  const c = document.createElement("canvas"); c.width = 96; c.height = 72;
  const g = c.getContext("2d");
  g.fillStyle = "#6d8fb3"; g.fillRect(0, 0, 96, 72);
  g.fillStyle = "#2f4f6f"; g.fillRect(0, 48, 96, 24);
  g.fillStyle = "#f2b705"; g.beginPath(); g.arc(70, 20, 10, 0, 7); g.fill();
  return c.toDataURL("image/jpeg", 0.8).split(",")[1];
}"""


def status_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_attribute("#case", "data-status")


def take(page, action: str, note: str = "", reply: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Open an action's small form on the case page, fill the note (ticking 回复反映人 for a reply to the reporter;
    otherwise it stays internal), confirm, and wait for the page to come back."""
    page.click(f"#action-{action}")
    if note:
        page.fill(f"#id_{action}-note", note)
    if reply:
        page.check(f"#id_{action}-reply")
    with page.expect_navigation():
        page.click(f'#form-{action} button[data-submit="{action}"]')
    assert page.locator("#case").count() == 1


def test_case_journey_from_patrol_to_the_residents_rating(live_server, make_page, login, results_dir):
    tree = build_tree()
    water = category("0105")
    company = Body.objects.create(name="府东物业公司", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")
    staff = user_with_role(
        Role.COMMUNITY_STAFF,
        node=tree.communities[0],
        body=tree.committees[0],
        post=Post.SECRETARY,
        display_name="刘书记",
    )
    handler = user_with_role(Role.DEPARTMENT_HANDLER, body=company, display_name="赵物业")

    # --- 1. the grid worker reports on the phone ------------------------------------------------------------------
    phone = make_page(width=360, height=780)
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone.context.set_geolocation(GPS)
    login(phone, worker)
    phone.goto(f"{live_server.url}/cases/")
    assert "我的待办" in phone.inner_text("main")
    phone.click("#report-button")
    phone.wait_for_url(f"{live_server.url}/cases/new/")
    phone.wait_for_selector('#pick-map[data-loaded="true"]')
    assert phone.get_attribute("#pick-map", "data-grid-count") == "1"
    phone.fill("#id_title", "小区门口积水")
    phone.fill("#id_category_search", "积水")  # the category: a plain word, then a tap
    phone.locator(f'.cat-option[data-value="{water.pk}"]').tap()
    assert phone.input_value("#id_category") == str(water.pk)
    phone.fill("#id_description", "雨后积水约10厘米，老人出行不便。")
    phone.click("#locate-button")
    phone.wait_for_function("() => document.getElementById('id_lat').value !== ''")  # a function: a string would be eval'd, which the CSP refuses
    assert abs(float(phone.input_value("#id_lat")) - GPS["latitude"]) < 1e-5
    assert abs(float(phone.input_value("#id_lng")) - GPS["longitude"]) < 1e-5
    phone.wait_for_selector("#similar-none")  # the duplicate check ran: nothing like it nearby
    jpeg = base64.b64decode(phone.evaluate(DRAW_JPEG))
    assert jpeg[:3] == b"\xff\xd8\xff"
    phone.set_input_files("#id_photos", files=[{"name": "water.jpg", "mimeType": "image/jpeg", "buffer": jpeg}])
    phone.wait_for_selector(".photo-preview img")
    phone.fill("#id_reporter_name", "李阿姨")
    phone.fill("#id_reporter_phone", PHONE)
    phone.screenshot(path=str(results_dir / "case-1-report-phone.png"), full_page=True)
    with phone.expect_navigation():
        phone.click("#report-submit")
    case = Case.objects.get(title="小区门口积水")
    assert phone.url == f"{live_server.url}/cases/{case.pk}/"
    assert status_of(phone) == "reported"
    assert case.node == tree.buildings[0] and case.reporter_phone == PHONE and case.attachments.count() == 1
    assert "139****5678" in phone.inner_text("#case-reporter") and PHONE not in phone.content()
    photo = phone.locator("#case-photos img").first
    photo.wait_for()
    handle = photo.element_handle()
    phone.wait_for_function("img => img.complete", arg=handle, timeout=20_000)  # loaded, however slow the server
    assert phone.evaluate("img => img.naturalWidth", handle) == 96
    phone.screenshot(path=str(results_dir / "case-2-reported-phone.png"), full_page=True)

    # --- 2. community staff dispatch it to the property company at the desk ----------------------------------------
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/cases/desk/")
    row = desk.locator(f'#intake-list [data-case-id="{case.pk}"]')
    assert "小区门口积水" in row.inner_text()
    row.locator(".case-link").click()
    desk.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    desk.click("#action-dispatch")
    desk.select_option("#id_dispatch-handler", f"body:{company.pk}")
    desk.fill("#id_dispatch-note", "请物业当天处理")
    desk.screenshot(path=str(results_dir / "case-3-dispatch-desk.png"), full_page=True)
    with desk.expect_navigation():
        desk.click('#form-dispatch button[data-submit="dispatch"]')
    assert status_of(desk) == "dispatched"
    assert "府东物业公司" in desk.inner_text("#case-handler")

    # --- 3. the property company's handler acknowledges, starts and disposes it ------------------------------------
    company_page = make_page()
    login(company_page, handler)
    company_page.goto(f"{live_server.url}/cases/")
    company_page.click(f'#todo-list [data-case-id="{case.pk}"] .case-link')
    company_page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert "139****5678" in company_page.inner_text("#case-reporter")
    assert company_page.locator("#reveal-phone").count() == 0, "a property company may not unmask the phone"
    # The next step is the primary button (签收), 签收并开始处置 beside it: one tap for both.
    assert "button-primary" in (company_page.get_attribute("#action-acknowledge", "class") or "")
    take(company_page, "acknowledge_start", note="马上派人去看")
    assert status_of(company_page) == "in_progress"
    take(company_page, "dispose", note="已疏通下水口，积水已排除", reply=True)
    assert status_of(company_page) == "disposed"
    assert company_page.locator('[data-action="verify"]').count() == 0, "the handler does not verify their own work"

    # --- 4. the grid worker verifies and closes it ------------------------------------------------------------------
    phone.goto(f"{live_server.url}/cases/{case.pk}/")
    take(phone, "verify")
    assert status_of(phone) == "verifying"
    take(phone, "close", note="现场核查，已无积水")
    assert status_of(phone) == "closed"
    timeline = phone.inner_text("#timeline-list")
    for word in ("上报", "派遣", "已疏通下水口", "结案"):
        assert word in timeline
    phone.screenshot(path=str(results_dir / "case-4-closed-phone.png"), full_page=True)

    # --- 5. the resident follows the case and rates it, no account ---------------------------------------------------
    case.refresh_from_db()
    resident = make_page(width=360, height=780)
    resident.goto(f"{live_server.url}/cases/public/track/?number={case.number}")
    assert resident.input_value("#id_code") == case.number
    resident.fill("#id_phone", PHONE)
    with resident.expect_navigation():
        resident.click("#track-form button[type=submit]")
    assert resident.get_attribute("#track-result", "data-status") == "closed"
    progress = resident.inner_text("#track-timeline")
    assert "已疏通下水口" in progress and "王专职" not in progress and "赵物业" not in progress
    assert "请物业当天处理" not in progress and "马上派人去看" not in progress, "notes not marked a reply stay internal"
    resident.check("#id_rating_0")  # 满意
    resident.fill("#id_note", "处理得很快，谢谢")
    resident.screenshot(path=str(results_dir / "case-5-rate-resident.png"), full_page=True)
    with resident.expect_navigation():
        resident.click("#rate-form button[type=submit]")
    assert "感谢您的评价" in resident.inner_text("#rate-thanks")
    assert resident.get_attribute("#track-result", "data-status") == "followed_up"
    resident.screenshot(path=str(results_dir / "case-6-rated-resident.png"), full_page=True)
    case.refresh_from_db()
    assert (case.status, case.rating, case.resolved) == ("followed_up", "satisfied", True)

    for page in (phone, desk, company_page, resident):
        assert page.gongzhi_errors == []
