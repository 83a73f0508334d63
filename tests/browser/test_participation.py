"""The 北街 story in a real browser (issue 20): a unit publishes a resource, the community lists a need, the system
suggests the resource and says why, the unit claims the need on a 360 px phone, it becomes a project with progress,
the unit reports it done, the community confirms completion and the need closes."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation import services
from gongzhi.participation.models import Need, Project, Resource
from gongzhi.registry.models import CoBuildingAgreement
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_beijie_three_lists_journey(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    services.ensure_categories()  # an earlier transactional test flushed the migration's rows
    tree = build_tree()
    school = Body.objects.create(
        name="北街第一小学",
        kind=BodyKind.SCHOOL,
        node=tree.communities[0],
        contact_name="李老师",
        contact_phone="13911112222",
    )
    CoBuildingAgreement.objects.create(
        unit=school, partner=tree.communities[0], title="校社共建协议", signed_on="2026-01-01", starts="2026-01-01"
    )
    unit_user = user_with_role(Role.CO_BUILDING_UNIT, body=school, display_name="李老师")
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])

    # The unit publishes a resource (phone).
    phone = make_page(width=360, height=780)
    login(phone, unit_user)
    phone.goto(f"{live_server.url}/participation/resources/new/")
    phone.fill("#id_title", "四点半课堂作业辅导")
    phone.select_option("#id_kind", "skills")
    phone.select_option("#id_category", label="儿童课后")
    phone.select_option("#id_place", str(tree.grids[1].pk))
    phone.fill("#id_description", "教师志愿者为双职工家庭的孩子课后辅导作业")
    phone.fill("#id_capacity", "30")
    phone.check("input[name=slots][value=weekdays]")
    with phone.expect_navigation():
        phone.click("#save-resource")
    res = Resource.objects.get()
    assert res.unit == school and res.agreement is not None
    phone.screenshot(path=str(results_dir / "lists-1-resource.png"), full_page=True)

    # The community lists a need (desktop) and sees the suggestion with its reasons (HTMX).
    desk = make_page()
    login(desk, staff)
    desk.goto(f"{live_server.url}/participation/needs/new/")
    desk.fill("#id_title", "双职工家庭孩子放学后无人看管")
    desk.select_option("#id_category", label="儿童课后")
    desk.select_option("#id_place", str(tree.grids[0].pk))
    desk.fill("#id_beneficiary_count", "12")
    desk.check("input[name=slots][value=weekdays]")
    desk.select_option("#id_source", "meeting")
    with desk.expect_navigation():
        desk.click("#save-need")
    need = Need.objects.get()
    desk.wait_for_selector("#suggestion-list")
    why = desk.inner_text(".pt-why")
    assert "同类别 儿童课后" in why and "工作日可用" in why
    assert "四点半课堂作业辅导" in desk.inner_text("#suggestion-list")
    desk.screenshot(path=str(results_dir / "lists-2-need-suggestions.png"), full_page=True)

    # The unit finds it on its needs list and claims it with its resource (phone).
    phone.goto(f"{live_server.url}/participation/?status=open")
    phone.click(f"[data-need-id='{need.pk}'] a")
    phone.wait_for_selector("#claim-need")
    phone.select_option("select[name=resource_id]", str(res.pk))
    with phone.expect_navigation():
        phone.click("#claim-need")
    project = Project.objects.get()
    assert phone.inner_text("#project-state") == "筹备中"
    # progress, then done
    phone.fill("#id_progress", "50")
    phone.fill("#id_hours", "8")
    phone.fill("#id_people_served", "6")
    with phone.expect_navigation():
        phone.click("#save-progress")
    assert phone.inner_text("#project-progress") == "50%"
    assert phone.inner_text("#project-state") == "实施中"
    phone.fill("#id_progress", "100")
    phone.fill("#id_people_served", "6")
    with phone.expect_navigation():
        phone.click("#save-progress")
    assert phone.inner_text("#project-state") == "已完成待确认"
    phone.screenshot(path=str(results_dir / "lists-3-project-phone.png"), full_page=True)

    # The community confirms completion with the residents' satisfaction: the need closes.
    desk.goto(f"{live_server.url}/participation/projects/{project.pk}/")
    desk.fill("#id_surveyed", "12")
    desk.fill("#id_satisfied", "11")
    with desk.expect_navigation():
        desk.click("#confirm-completion")
    assert desk.inner_text("#project-state") == "已确认完成"
    assert desk.inner_text("#project-need-status") == "已关闭"
    assert Need.objects.get().status == "closed"
    desk.screenshot(path=str(results_dir / "lists-4-accepted.png"), full_page=True)

    # The unit's year.
    phone.goto(f"{live_server.url}/participation/units/mine/")
    assert phone.inner_text("#c-projects") == "1" and phone.inner_text("#c-people") == "12"
