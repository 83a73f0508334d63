"""The visit pages: my households, a household with the visit form, campaigns with live coverage, care visits."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.registry.models import PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.visits import services
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit
from gongzhi.visits.tests.factories import populate, resident_of, staff

pytestmark = pytest.mark.django_db


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@pytest.fixture
def people(tree):  # type: ignore[no-untyped-def]
    """Community 1: grid 1 has 1 + 3 households with residents, grid 2 has 1 + 1; community 2 has 1 + 2 per grid."""
    for household in tree.households:
        resident_of(household)
    populate(tree.buildings[0], 3)
    populate(tree.buildings[1], 1)
    populate(tree.buildings[2], 2)
    return staff(tree)


def start_campaign(tree, actor, **kw):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    args = {
        "name": "冬季大走访",
        "area_id": tree.communities[0].pk,
        "starts": today - datetime.timedelta(days=3),
        "ends": today + datetime.timedelta(days=20),
    }
    args.update(kw)
    return services.create_campaign(actor=actor, **args)


def row_numbers(page: str, code: str) -> tuple[int, int, int]:
    match = re.search(rf'data-code="{code}" data-targets="(\d+)" data-covered="(\d+)" data-remaining="(\d+)"', page)
    assert match, f"no coverage row for {code}"
    return int(match[1]), int(match[2]), int(match[3])


# --- who sees which page --------------------------------------------------------------------------------------------


def test_pages_render_in_chinese_for_the_right_roles(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    client.force_login(people["worker1"])
    page = html_of(client.get(reverse("visits-home")))
    assert 'lang="zh-hans"' in page and "我的住户" in page
    assert f'data-household-id="{tree.households[0].pk}"' in page
    assert f'data-household-id="{tree.households[1].pk}"' not in page, "another grid's door is not on my list"
    page = html_of(client.get(reverse("visits-household", args=[tree.households[0].pk])))
    assert "登记走访" in page and "见到住户" in page and "无人在家" in page and "拒绝走访" in page
    assert 'id="visit-form"' in page and 'id="locate-button"' in page
    assert "冬季大走访" in page, "the open campaign target is shown"
    page = html_of(client.get(reverse("visits-campaigns")))
    assert "走访活动" in page and "冬季大走访" in page
    assert 'id="campaign-new-button"' not in page, "a grid worker does not start campaigns"
    page = html_of(client.get(reverse("visits-campaign", args=[campaign.pk])))
    assert f'data-code="{tree.grids[0].code}"' in page
    assert f'data-code="{tree.grids[1].code}"' not in page, "a grid worker sees only their grid"
    assert 'id="campaign-close"' not in page
    assert client.get(reverse("visits-care")).status_code == 200
    assert client.get(reverse("visits-campaign-new")).status_code == 403

    client.force_login(people["staff"])
    for name in ("visits-home", "visits-campaigns", "visits-campaign-new", "visits-care"):
        assert client.get(reverse(name)).status_code == 200, name
    page = html_of(client.get(reverse("visits-campaign", args=[campaign.pk])))
    assert f'data-code="{tree.grids[0].code}"' in page and f'data-code="{tree.grids[1].code}"' in page
    assert 'id="campaign-close"' in page and 'hx-trigger="every 20s"' in page
    page = html_of(client.get(reverse("visits-campaigns")))
    assert 'id="campaign-new-button"' in page

    # A building head sees the household and its visits but records nothing.
    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0])
    client.force_login(head)
    response = client.get(reverse("visits-household", args=[tree.households[0].pk]))
    assert response.status_code == 200 and 'id="visit-form"' not in html_of(response)
    response = client.post(reverse("visits-record", args=[tree.households[0].pk]), {"outcome": "met"})
    assert response.status_code == 403 and not Visit.objects.exists()

    # A mediator does not visit households.
    client.force_login(user_with_role(Role.MEDIATOR, node=tree.communities[0]))
    assert client.get(reverse("visits-home")).status_code == 403


def test_out_of_scope_is_not_found(client, tree, other_tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    elsewhere = user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0], body=other_tree.committees[0])
    plan = services.create_care_plan(actor=people["staff"], person_id=resident_of(tree.households[0]).pk)
    client.force_login(people["worker1"])
    for url in (
        reverse("visits-household", args=[tree.households[1].pk]),  # the neighbouring grid
        reverse("visits-household", args=[other_tree.households[0].pk]),
        reverse("visits-household", args=[tree.buildings[0].pk]),  # not a household
        reverse("visits-household", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("visits-record", args=[tree.households[1].pk]), {"outcome": "met"})
    assert response.status_code == 404
    client.force_login(elsewhere)
    assert client.get(reverse("visits-campaign", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("visits-campaign-coverage", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("visits-campaign-uncovered", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("visits-campaign-close", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("visits-care-end", args=[plan.pk])).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).closed_at is None
    assert CarePlan.objects.get(pk=plan.pk).is_active


def test_anonymous_is_sent_to_log_in(client, tree):  # type: ignore[no-untyped-def]
    for url in (reverse("visits-home"), reverse("visits-campaigns"), reverse("visits-care")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- my households --------------------------------------------------------------------------------------------------


def test_my_households_search_chips_and_badges(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    grid1 = list(CampaignTarget.objects.filter(campaign=campaign, household__code__startswith=tree.grids[0].code))
    assert len(grid1) == 4
    services.record_visit(actor=people["worker1"], household_id=grid1[0].household_id, outcome="met")
    elder = make_person(grid1[1].household, name="孙奶奶", birth_date=datetime.date(1940, 5, 1))
    services.create_care_plan(
        actor=people["staff"], person_id=elder.pk, starts=timezone.localdate() - datetime.timedelta(days=3)
    )
    client.force_login(people["worker1"])
    page = html_of(client.get(reverse("visits-home")))
    chip = re.search(rf'id="chip-campaign-{campaign.pk}" data-count="(\d+)"', page)
    assert chip and chip[1] == "3", "three doors of my grid still to visit"
    assert re.search(r'id="chip-care" data-count="1"', page)
    card = page.split(f'data-household-id="{grid1[1].household_id}"', 1)[1].split("</li>", 1)[0]
    assert 'data-badge="campaign"' in card and 'data-badge="care-overdue"' in card
    assert "2 位住户" in card
    visited = page.split(f'data-household-id="{grid1[0].household_id}"', 1)[1].split("</li>", 1)[0]
    assert 'data-badge="campaign"' not in visited and timezone.localdate().isoformat() in visited

    page = html_of(client.get(reverse("visits-home"), {"todo": campaign.pk}))
    ids = set(re.findall(r'class="household-card[^"]*" data-household-id="(\d+)"', page))
    assert ids == {str(t.household_id) for t in grid1[1:]}
    page = html_of(client.get(reverse("visits-home"), {"care": "1"}))
    ids = set(re.findall(r'class="household-card[^"]*" data-household-id="(\d+)"', page))
    assert ids == {str(grid1[1].household_id)}
    # Search by a resident's name; HTMX gets only the list.
    response = client.get(
        reverse("visits-home"), {"q": "孙奶"}, headers={"HX-Request": "true", "HX-Target": "household-list"}
    )
    page = html_of(response)
    assert "<html" not in page and 'id="household-list"' in page
    ids = set(re.findall(r'data-household-id="(\d+)"', page))
    assert ids == {str(grid1[1].household_id)}


# --- recording a visit ------------------------------------------------------------------------------------------------


def test_recording_a_visit_covers_the_target_and_raises_a_linked_case(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    household = tree.households[0]
    person = resident_of(household)
    water = category("0105")
    client.force_login(people["worker1"])
    response = client.post(
        reverse("visits-record", args=[household.pk]),
        {
            "outcome": "met",
            "person": str(person.pk),
            "notes": "老人身体尚好",
            "needs": "楼道积水，老人出入不便",
            "raise_case": "on",
            "major": str(water.parent_id),
            "category": str(water.pk),
            "lat": "41.9041",
            "lng": "123.4041",
        },
        follow=True,
    )
    assert response.status_code == 200
    visit = Visit.objects.get(household=household)
    case = Case.objects.get(pk=visit.case_id)
    assert (visit.outcome, visit.person, visit.visitor, visit.lat) == ("met", person, people["worker1"], 41.9041)
    assert case.channel == Channel.VISIT and case.title == "楼道积水，老人出入不便" and case.category == water
    assert CampaignTarget.objects.get(campaign=campaign, household=household).covered_at is not None
    page = html_of(response)
    assert response.redirect_chain[-1][0] == reverse("visits-household", args=[household.pk])
    link = f'<a href="{reverse("cases-detail", args=[case.pk])}" id="raised-case" data-case-number="{case.number}">'
    assert link in page, "the message links to the case raised"
    assert "已登记走访" in page
    history = page.split('id="visit-history"', 1)[1]
    assert case.number in history and f'href="{reverse("cases-detail", args=[case.pk])}"' in history
    assert "楼道积水，老人出入不便" in history
    # The case page is the grid worker's to open.
    assert client.get(reverse("cases-detail", args=[case.pk])).status_code == 200


def test_a_visit_without_a_case_and_nobody_home(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    household = tree.households[0]
    client.force_login(people["worker1"])
    response = client.post(reverse("visits-record", args=[household.pk]), {"outcome": "not_home"}, follow=True)
    assert response.status_code == 200 and "无人在家" in html_of(response)
    assert 'id="raised-case"' not in html_of(response)
    assert Visit.objects.get(household=household).case_id is None
    assert CampaignTarget.objects.get(campaign=campaign, household=household).covered_at is None, (
        "an empty door is not covered"
    )


def test_form_errors_are_shown_next_to_their_fields(client, tree, people):  # type: ignore[no-untyped-def]
    household = tree.households[0]
    url = reverse("visits-record", args=[household.pk])
    client.force_login(people["worker1"])
    # Raise a case without a category: the form says so at the category.
    response = client.post(url, {"outcome": "met", "needs": "路灯坏了", "raise_case": "on"})
    page = html_of(response)
    assert response.status_code == 400
    assert '<p class="field-error" data-field="category">' in page
    assert 'id="visit-form"' in page and "路灯坏了" in page, "what was typed is kept"
    # Raise a case without saying the need: said next to the needs, in Chinese.
    water = category("0105")
    response = client.post(url, {"outcome": "met", "raise_case": "on", "category": str(water.pk)})
    page = html_of(response)
    assert response.status_code == 400
    assert re.search(r'<p class="field-error" data-field="needs">[^<]*[\u4e00-\u9fff]', page), "in Chinese"
    assert 'data-field="category"' not in page
    # Neither: both at once.
    page = html_of(client.post(url, {"outcome": "met", "raise_case": "on"}))
    assert 'data-field="needs"' in page and 'data-field="category"' in page
    # No outcome.
    response = client.post(url, {"notes": "x"})
    assert response.status_code == 400 and 'data-field="outcome"' in html_of(response)
    assert not Visit.objects.exists() and not Case.objects.exists()


# --- personal data stays masked -----------------------------------------------------------------------------------------


def test_id_numbers_and_phones_are_masked_on_every_page(client, tree, people):  # type: ignore[no-untyped-def]
    household = tree.households[0]
    person = make_person(household, name="周大爷", phone="13987654321", birth_date=datetime.date(1942, 3, 9))
    PersonTag.objects.create(person=person, tag="elderly_alone", since=datetime.date(2020, 1, 1))
    raw_id = person.id_number
    campaign = start_campaign(tree, people["staff"])
    services.create_care_plan(actor=people["staff"], person_id=person.pk, reason="独居老人")
    services.record_visit(actor=people["worker1"], household_id=household.pk, person_id=person.pk, outcome="met")
    pages = []
    for user in (people["worker1"], people["staff"]):
        client.force_login(user)
        pages += [
            html_of(client.get(reverse("visits-home"), {"q": "周大爷"})),
            html_of(client.get(reverse("visits-household", args=[household.pk]))),
            html_of(client.get(reverse("visits-campaign", args=[campaign.pk]))),
            html_of(client.get(reverse("visits-campaign-uncovered", args=[campaign.pk]))),
            html_of(client.get(reverse("visits-care"))),
            html_of(client.get(reverse("visits-care"), {"q": "周"})),
            html_of(client.get(reverse("visits-care-people"), {"q": "周大"})),
        ]
    household_page = pages[1]
    assert "周大爷" in household_page and "独居老人" in household_page and "岁" in household_page
    assert mask_id_number(raw_id) in household_page and mask_phone("13987654321") in household_page
    assert mask_phone("13987654321") in pages[-1] and mask_id_number(raw_id) in pages[-1]
    for page in pages:
        assert raw_id not in page
        assert "13987654321" not in page
        for other in tree.households[0].residents.all():
            assert other.id_number not in page and (not other.phone or other.phone not in page)


# --- campaigns ----------------------------------------------------------------------------------------------------------


def test_staff_start_a_campaign_from_the_form(client, tree, other_tree, people):  # type: ignore[no-untyped-def]
    client.force_login(people["staff"])
    page = html_of(client.get(reverse("visits-campaign-new")))
    assert f'value="{tree.communities[0].pk}"' in page and f'value="{tree.grids[1].pk}"' in page
    assert f'value="{tree.communities[1].pk}"' not in page, "only places the user may run a campaign over"
    assert f'value="{other_tree.communities[0].pk}"' not in page
    assert 'name="tags" value="elderly_alone"' in page, "key-service tags are offered"
    today = timezone.localdate()
    data = {
        "name": "安全大走访",
        "area": str(tree.grids[0].pk),
        "starts": today.isoformat(),
        "ends": (today - datetime.timedelta(days=1)).isoformat(),
    }
    response = client.post(reverse("visits-campaign-new"), data)
    assert response.status_code == 400 and 'data-field="ends"' in html_of(response)
    response = client.post(reverse("visits-campaign-new"), {**data, "area": str(other_tree.grids[0].pk)})
    assert response.status_code == 400 and 'data-field="area"' in html_of(response)
    data["ends"] = (today + datetime.timedelta(days=10)).isoformat()
    response = client.post(reverse("visits-campaign-new"), {**data, "tags": ["disabled"]})
    assert response.status_code == 400, "nobody carries that tag"
    assert 'data-field="tags"' in html_of(response)
    response = client.post(reverse("visits-campaign-new"), data, follow=True)
    campaign = Campaign.objects.get(name="安全大走访")
    assert response.redirect_chain[-1][0] == reverse("visits-campaign", args=[campaign.pk])
    assert campaign.targets.count() == 4 and "4" in html_of(response)
    page = html_of(client.get(reverse("visits-campaigns")))
    assert f'data-campaign-id="{campaign.pk}" data-percent="0.0"' in page

    client.force_login(people["worker1"])
    assert client.post(reverse("visits-campaign-new"), data).status_code == 403


def test_coverage_fragment_shows_the_numbers_and_polls(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    grid1 = list(CampaignTarget.objects.filter(campaign=campaign, household__code__startswith=tree.grids[0].code))
    services.record_visit(actor=people["worker1"], household_id=grid1[0].household_id, outcome="met")
    services.record_visit(actor=people["worker1"], household_id=grid1[1].household_id, outcome="not_home")
    services.record_visit(actor=people["worker1"], household_id=grid1[2].household_id, outcome="moved_away")
    url = reverse("visits-campaign-coverage", args=[campaign.pk])
    client.force_login(people["staff"])
    response = client.get(url, headers={"HX-Request": "true"})
    page = html_of(response)
    assert response.status_code == 200 and "<html" not in page
    assert 'hx-trigger="every 20s"' in page and f'hx-get="{url}"' in page
    assert 'data-targets="6" data-covered="2"' in page
    assert re.search(r'id="coverage-percent">33\.3%<', page)
    assert row_numbers(page, tree.communities[0].code) == (6, 2, 4)
    assert row_numbers(page, tree.grids[0].code) == (4, 2, 2)
    assert row_numbers(page, tree.grids[1].code) == (2, 0, 2)
    assert 'style="width: 50.0%"' in page

    # Another visit: the next poll shows it.
    services.record_visit(actor=people["worker2"], household_id=tree.households[1].pk, outcome="met")
    page = html_of(client.get(url))
    assert row_numbers(page, tree.grids[1].code) == (2, 1, 1)
    assert row_numbers(page, tree.communities[0].code) == (6, 3, 3)

    # The grid worker's fragment counts their grid only.
    client.force_login(people["worker1"])
    page = html_of(client.get(url))
    assert 'data-targets="4" data-covered="2"' in page and tree.grids[1].code not in page

    # Closed: no more polling, and no close button.
    client.force_login(people["staff"])
    response = client.post(reverse("visits-campaign-close", args=[campaign.pk]), follow=True)
    assert "已结束" in html_of(response)
    assert Campaign.objects.get(pk=campaign.pk).closed_at is not None
    assert "every 20s" not in html_of(client.get(url))
    page = html_of(client.get(reverse("visits-campaign", args=[campaign.pk])))
    assert 'id="campaign-close"' not in page and 'id="campaign-closed"' in page
    response = client.post(reverse("visits-campaign-close", args=[campaign.pk]), follow=True)
    assert "已经结束" in html_of(response), "closing twice says so"


def test_grid_workers_may_not_close_a_campaign(client, tree, people):  # type: ignore[no-untyped-def]
    campaign = start_campaign(tree, people["staff"])
    client.force_login(people["worker1"])
    assert client.post(reverse("visits-campaign-close", args=[campaign.pk])).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).closed_at is None


def test_uncovered_households_per_grid_with_assignee_paginated(client, tree, people):  # type: ignore[no-untyped-def]
    populate(tree.buildings[0], 25, first_seq=10)
    campaign = start_campaign(tree, people["staff"])
    first = CampaignTarget.objects.filter(campaign=campaign).order_by("household__code").first()
    assert first is not None
    services.record_visit(actor=people["worker1"], household_id=first.household_id, outcome="met")
    client.force_login(people["staff"])
    page = html_of(client.get(reverse("visits-campaign", args=[campaign.pk])))
    assert f'data-grid="{tree.grids[0].code}"' in page and f'data-grid="{tree.grids[1].code}"' in page
    url = reverse("visits-campaign-uncovered", args=[campaign.pk])
    response = client.get(url, {"within": tree.grids[0].code}, headers={"HX-Request": "true"})
    page = html_of(response)
    assert "<html" not in page
    rows = re.findall(r'<li data-household-id="(\d+)"', page)
    assert len(rows) == 20 and str(first.household_id) not in rows
    assert str(people["worker1"]) in page and "第 1 页，共 2 页" in page
    page = html_of(client.get(url, {"within": tree.grids[0].code, "page": 2}))
    assert len(re.findall(r'<li data-household-id="(\d+)"', page)) == (1 + 3 + 25) - 1 - 20
    page = html_of(client.get(url, {"within": tree.grids[1].code}))
    assert str(people["worker2"]) in page and len(re.findall(r'<li data-household-id="', page)) == 2


# --- care visits --------------------------------------------------------------------------------------------------------


def test_care_board_overdue_first_mine_create_and_end(client, tree, people):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    late = make_person(tree.households[0], name="钱爷爷")
    soon = make_person(tree.households[0], name="赵奶奶")
    other = make_person(tree.households[1], name="吴阿婆")
    services.create_care_plan(actor=people["staff"], person_id=late.pk, starts=today - datetime.timedelta(days=4))
    services.create_care_plan(actor=people["staff"], person_id=soon.pk, starts=today + datetime.timedelta(days=2))
    services.create_care_plan(actor=people["staff"], person_id=other.pk, starts=today + datetime.timedelta(days=30))
    client.force_login(people["staff"])
    page = html_of(client.get(reverse("visits-care")))
    overdue, rest = page.split('id="care-week"', 1)
    assert "钱爷爷" in overdue and 'data-days-overdue="4"' in overdue and "超期 4 天" in overdue
    week, later = rest.split('id="care-later"', 1)
    assert "赵奶奶" in week and "吴阿婆" in later
    client.force_login(people["worker2"])
    page = html_of(client.get(reverse("visits-care"), {"mine": "1"}))
    assert "吴阿婆" in page and "钱爷爷" not in page

    # A new plan: find the person (masked), choose, save.
    person = make_person(tree.households[0], name="郑大妈", phone="13711112222")
    client.force_login(people["staff"])
    fragment = html_of(client.get(reverse("visits-care-people"), {"q": "郑大"}))
    assert f'value="{person.pk}"' in fragment and "137****2222" in fragment and "13711112222" not in fragment
    response = client.post(reverse("visits-care-new"), {"every_days": "7", "reason": "独居"})
    assert response.status_code == 400 and 'data-field="person"' in html_of(response)
    response = client.post(
        reverse("visits-care-new"), {"person": str(person.pk), "every_days": "14", "reason": "独居"}, follow=True
    )
    plan = CarePlan.objects.get(person=person)
    assert (plan.every_days, plan.reason, plan.next_due) == (14, "独居", today)
    assert "郑大妈" in html_of(response)
    response = client.post(reverse("visits-care-new"), {"person": str(person.pk), "every_days": "7"})
    page = html_of(response)
    assert response.status_code == 400 and '<p class="field-error" data-field="person">' in page
    assert f'value="{person.pk}" id="person-{person.pk}" form="care-form" checked' in page, "the choice is kept"

    response = client.post(reverse("visits-care-end", args=[plan.pk]), follow=True)
    assert response.status_code == 200 and not CarePlan.objects.get(pk=plan.pk).is_active
    response = client.post(reverse("visits-care-end", args=[plan.pk]), follow=True)
    assert "已经结束" in html_of(response)

    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0])
    client.force_login(head)
    page = html_of(client.get(reverse("visits-care")))
    assert "钱爷爷" in page and "data-end-plan" not in page and 'id="care-new"' not in page
    assert client.get(reverse("visits-care-people"), {"q": "郑"}).status_code == 403
