"""The three lists' pages as their users open them: staff list a need and confirm a suggestion; a unit claims,
reports progress and exports its year; the community confirms completion. Chinese throughout."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation.models import Need, Project
from gongzhi.participation.tests import factories as f

pytestmark = pytest.mark.django_db


def test_pages_from_need_to_closed(client, tree):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    school = f.unit(tree.communities[0], "北街第一小学", kind="school")
    unit_user = f.unit_user(school)
    res = f.resource(
        school, tree.grids[1], "四点半课堂作业辅导", "children", slots=["weekdays"], contact_phone="13911112222"
    )

    client.force_login(staff)
    page = client.get(reverse("participation-need-new"))
    assert page.status_code == 200 and "登记需求" in page.content.decode()
    posted = client.post(
        reverse("participation-need-new"),
        {"title": "双职工家庭孩子放学后无人看管", "category": f.category("children").pk, "place": tree.grids[0].pk,
         "beneficiary_count": 12, "urgency": "high", "slots": ["weekdays"], "source": "meeting"},
    )  # fmt: skip
    assert posted.status_code == 302, posted.content.decode()[:2000]
    need = Need.objects.get()
    body = client.get(reverse("participation-need-suggestions", args=[need.pk])).content.decode()
    assert "四点半课堂作业辅导" in body and "同类别 儿童课后" in body and "工作日可用" in body
    listing = client.get(reverse("participation-needs") + f"?place={tree.communities[0].pk}").content.decode()
    assert ("双职工家庭孩子放学后无人看管" in listing and "共 1 条" in listing) or 'data-total="1"' in listing
    res_page = client.get(reverse("participation-resource", args=[res.pk])).content.decode()
    assert "13911112222" not in res_page and "139****2222" in res_page

    client.force_login(unit_user)
    assert client.get(reverse("participation-need", args=[need.pk])).status_code == 200
    to_take_on = client.get(reverse("participation-mine")).content.decode().split('id="to-take-on"')[1]
    assert "双职工家庭孩子放学后无人看管" in to_take_on.split("</section>")[0] and "同类别 儿童课后" in to_take_on
    claimed = client.post(reverse("participation-need-claim", args=[need.pk]), {"resource_id": res.pk})
    project = Project.objects.get()
    assert claimed.status_code == 302 and claimed["Location"] == reverse("participation-project", args=[project.pk])
    done = client.post(
        reverse("participation-project-progress", args=[project.pk]),
        {"progress": 100, "note": "完成", "hours": "12", "funds": "500", "people_served": 12, "milestones_done": []},
    )
    assert done.status_code == 302
    mine = client.get(reverse("participation-mine")).content.decode()
    assert "北街第一小学" in mine and "双职工家庭孩子放学后无人看管" in mine
    xlsx = client.get(reverse("participation-unit-export", args=[school.pk]))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.worksheets[0]["B3"].value == 1 and book.worksheets[1]["A2"].value == project.title

    client.force_login(staff)
    accepted = client.post(reverse("participation-project-accept", args=[project.pk]), {"surveyed": 10, "satisfied": 9})
    assert accepted.status_code == 302
    assert Need.objects.get().status == "closed"
    shown = client.get(reverse("participation-project", args=[project.pk])).content.decode()
    assert "已确认完成" in shown and "90.0%" in shown


def test_a_second_claim_on_the_page_says_who_has_it(client, tree):  # type: ignore[no-untyped-def]
    a = f.unit(tree.communities[0], "甲单位")
    b = f.unit(tree.communities[0], "乙单位")
    need = f.need(tree.grids[0], "楼道清理", "environment")
    client.force_login(f.unit_user(a))
    client.post(reverse("participation-need-claim", args=[need.pk]))
    client.force_login(f.unit_user(b))
    response = client.post(reverse("participation-need-claim", args=[need.pk]), follow=True)
    assert "已由 甲单位 认领" in response.content.decode()
