"""Issue 16, "a workbench for every role": each of the ten demo roles lands on its own workbench; the menu offers
only pages the role may open (every link answers 200, every page left out answers 403); the signed-in resident
reports and follows their cases under 我的反映; lists say how many there are and page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.accounts import pages
from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.choices import Channel, Status
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category, new_case, walk
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body

ROLES = [r.value for r in Role]  # all ten


@dataclass
class World:
    users: dict[str, Any]
    cases: dict[str, Case]
    team: Body
    unit: Body


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def world(tree) -> World:  # type: ignore[no-untyped-def]
    return build_world(tree)


def build_world(tree: Any) -> World:
    """A user of each of the ten roles on the test territory, and a case waiting in each of their blocks."""
    team = Body.objects.create(name="老娘舅调解队", kind=BodyKind.SOCIAL_ORGANISATION, node=tree.subdistrict)
    unit = Body.objects.create(name="西大商业", kind=BodyKind.CO_BUILDING_UNIT, node=tree.subdistrict)
    users = {
        Role.ADMIN: user_with_role(Role.ADMIN),
        Role.SUBDISTRICT_OPERATOR: user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict),
        Role.COMMUNITY_STAFF: user_with_role(
            Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0], post=Post.SECRETARY
        ),
        Role.GRID_LEADER: user_with_role(Role.GRID_LEADER, node=tree.grids[0], post=Post.GRID_LEADER),
        Role.GRID_WORKER: user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME),
        Role.BUILDING_HEAD: user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0]),
        Role.MEDIATOR: user_with_role(Role.MEDIATOR, node=tree.subdistrict, body=team),
        Role.DEPARTMENT_HANDLER: user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department),
        Role.CO_BUILDING_UNIT: user_with_role(Role.CO_BUILDING_UNIT, body=unit),
        Role.RESIDENT: user_with_role(Role.RESIDENT, display_name="王阿姨", phone="13900001111"),
    }
    admin, worker = users[Role.ADMIN], users[Role.GRID_WORKER]
    place = tree.buildings[0]
    cases = {
        "reported": new_case(worker, place, title="楼道堆物"),
        "accepted": walk(admin, new_case(worker, place, title="路灯不亮"), "accepted", handler_body=None),
        "police": walk(admin, new_case(worker, place, title="噪音扰民"), "dispatched", handler_body=tree.department),
        "team": walk(admin, new_case(worker, place, title="邻里纠纷"), "dispatched", handler_body=team),
        "unit": walk(admin, new_case(worker, place, title="共建需求"), "dispatched", handler_body=unit),
        "returned": walk(admin, new_case(worker, place, title="退回的件"), "returned", handler_body=tree.department),
    }
    return World(users, cases, team, unit)


def html(response: Any) -> str:
    return response.content.decode()


def menu_links(page: str) -> list[str]:
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def block_ids(page: str) -> list[str]:
    return re.findall(r'<section class="card wb-block[^"]*" id="wb-([a-z-]+)"', page)


DESK_BLOCKS = ["intake", "dispatch", "overdue", "due-soon", "returned"]
VISIT_BLOCKS = ["care", "campaigns"]
DISPUTE_BLOCKS = ["disputes", "notices-to-visit"]  # the ground's open disputes and police notices to visit
NOTICE_BLOCKS = ["notices-waiting", "notices-answered"]  # a body that sends police notices down
EXPECTED_BLOCKS = {
    Role.ADMIN: DESK_BLOCKS + VISIT_BLOCKS + DISPUTE_BLOCKS,
    Role.SUBDISTRICT_OPERATOR: DESK_BLOCKS + DISPUTE_BLOCKS,
    Role.COMMUNITY_STAFF: DESK_BLOCKS + VISIT_BLOCKS + DISPUTE_BLOCKS,
    Role.GRID_LEADER: ["todo", "due-today", "load", *VISIT_BLOCKS, "rounds", *DISPUTE_BLOCKS],
    Role.GRID_WORKER: ["todo", "due-today", *VISIT_BLOCKS, "rounds", *DISPUTE_BLOCKS],
    Role.BUILDING_HEAD: ["todo", "due-today", *VISIT_BLOCKS, "rounds"],
    Role.MEDIATOR: ["passed", "working", "disputes", "disputes-station", "follow-ups"],
    Role.DEPARTMENT_HANDLER: ["passed", "working", *NOTICE_BLOCKS],
    Role.CO_BUILDING_UNIT: ["passed", "working", *NOTICE_BLOCKS],
    Role.RESIDENT: ["mine"],
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_workbench(client, world, role):  # type: ignore[no-untyped-def]
    client.force_login(world.users[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = html(response)
    assert block_ids(page) == EXPECTED_BLOCKS[role]
    assert ("工作台" if role != Role.RESIDENT else "我的反映") in page
    # The big 上报 button for the roles that take cases in; the resident's own 我要反映.
    reporting = role in pages.REPORTING or role == Role.ADMIN
    assert ('id="wb-report"' in page) == reporting
    assert ('id="wb-my-report"' in page) == (role == Role.RESIDENT)


def total_of(page: str, key: str) -> int:
    match = re.search(rf'id="wb-{key}" data-block="{key}" data-total="(\d+)"', page)
    assert match, key
    return int(match.group(1))


def test_the_blocks_count_and_list_the_right_cases(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.users[Role.SUBDISTRICT_OPERATOR])
    page = html(client.get(reverse("home")))
    assert total_of(page, "intake") == 1 and "楼道堆物" in page.split('id="wb-intake"')[1].split("</section>")[0]
    assert total_of(page, "dispatch") == 1 and "路灯不亮" in page.split('id="wb-dispatch"')[1].split("</section>")[0]
    assert total_of(page, "returned") == 1
    assert f'href="{reverse("cases-list")}?status=accepted"' in page, "the block links to its full list"

    for role, key, title in (
        (Role.DEPARTMENT_HANDLER, "police", "噪音扰民"),
        (Role.MEDIATOR, "team", "邻里纠纷"),
        (Role.CO_BUILDING_UNIT, "unit", "共建需求"),
    ):
        client.force_login(world.users[role])
        page = html(client.get(reverse("home")))
        block = page.split('id="wb-passed"')[1].split("</section>")[0]
        assert total_of(page, "passed") == 1 and title in block, role
        assert f'data-case-id="{world.cases[key].pk}"' in block

    client.force_login(world.users[Role.GRID_LEADER])
    page = html(client.get(reverse("home")))
    load = page.split('id="wb-load"')[1].split("</section>")[0]
    leader = world.users[Role.GRID_LEADER]
    held = Case.objects.restrict(leader, "change").filter(owner_user__isnull=False).exclude(status=Status.CLOSED)
    owners = {c.owner_user_id for c in held}
    assert owners
    for owner in owners:
        n = held.filter(owner_user_id=owner).count()
        assert f'data-user-id="{owner}"' in load and f"{n} 件在办" in load.split(f'data-user-id="{owner}"')[1]


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_link_answers_200_and_every_other_page_403(client, world, role):  # type: ignore[no-untyped-def]
    """The menu is built from the page policy the views read: what it offers opens, what it leaves out refuses."""
    user = world.users[role]
    client.force_login(user)
    links = menu_links(html(client.get(reverse("home"))))
    assert links, role
    for url in links:
        assert client.get(url).status_code == 200, (role, url)
    offered = set(links)
    for item in pages.PAGES:
        url = reverse(item.name)
        if url in offered or not item.menu:
            continue
        assert not pages.allowed(user, item.name)
        assert client.get(url).status_code in (403, 404), (role, url)


def test_the_menu_leaves_out_what_a_role_cannot_use(client, world):  # type: ignore[no-untyped-def]
    for role in (Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT, Role.RESIDENT):
        client.force_login(world.users[role])
        links = menu_links(html(client.get(reverse("home"))))
        assert reverse("kpis-dashboard") not in links, role
        assert client.get(reverse("kpis-dashboard")).status_code in (403, 404), role
    links = menu_links(html(client.get(reverse("home"))))  # the resident
    assert reverse("cases-desk") not in links and reverse("cases-hotline") not in links
    assert reverse("kpis-me") not in links
    assert client.get(reverse("cases-desk")).status_code == 403
    assert links[:3] == [reverse("home"), reverse("cases-my-report"), reverse("cases-mine")]


# --- the signed-in resident ------------------------------------------------------------------------------------------


def test_the_resident_reports_and_follows_their_cases(client, world, tree):  # type: ignore[no-untyped-def]
    resident = world.users[Role.RESIDENT]
    client.force_login(resident)
    response = client.get(reverse("cases-report"))  # the staff form's address: their own form, not a 403
    assert response.status_code == 302 and response["Location"] == reverse("cases-my-report")
    assert client.post(reverse("cases-report"), {"title": "x"}).status_code == 403
    form = html(client.get(reverse("cases-my-report")))
    assert 'value="王阿姨"' in form and 'value="13900001111"' in form, "name and phone from the account"
    assert 'name="channel"' not in form and 'name="urgency"' not in form, "only the resident's fields"
    cat = category()
    for title in ("楼下垃圾没人清", "路面破损"):
        response = client.post(
            reverse("cases-my-report"),
            {
                "title": title,
                "major": str(cat.parent_id),
                "category": str(cat.pk),
                "address": tree.buildings[0].name,
                "reporter_name": "王阿姨",
                "reporter_phone": "13900001111",
            },
        )
        assert response.status_code == 302, html(response)
    mine = Case.objects.filter(reporter_user=resident).order_by("id")
    assert mine.count() == 2
    assert {c.channel for c in mine} == {Channel.RESIDENT} and {c.owner_user_id for c in mine} == {None}
    assert response["Location"] == reverse("cases-mine-detail", args=[mine[1].pk])

    page = html(client.get(reverse("home")))
    assert total_of(page, "mine") == 2 and "2 件在办" in page, "the resident's open cases are counted"
    page = html(client.get(reverse("cases-mine")))
    assert "共反映 2 件" in page and "楼下垃圾没人清" in page and "路面破损" in page
    assert "受理台" not in page and 'id="report-button"' not in page and "我的绩效" not in page
    assert "/cases/desk/" not in page and "/kpis/" not in page

    # Replies meant for the reporter show; internal notes do not. Closed: the resident rates it.
    case = mine[0]
    staff = world.users[Role.SUBDISTRICT_OPERATOR]
    workflow.perform(actor=staff, case_id=case.pk, action="accept", note="内部备注：先核实", public=False)
    workflow.perform(actor=staff, case_id=case.pk, action="cancel", note="已联系物业处理", public=True)
    page = html(client.get(reverse("cases-mine-detail", args=[case.pk])))
    assert "已联系物业处理" in page and "内部备注" not in page
    response = client.get(reverse("cases-detail", args=[case.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("cases-mine-detail", args=[case.pk])
    assert 'id="rate-form"' not in page, "not closed: nothing to rate"
    closed = walk(world.users[Role.ADMIN], mine[1], "closed", handler_body=tree.department)
    page = html(client.get(reverse("cases-mine-detail", args=[closed.pk])))
    assert 'id="rate-form"' in page and 'name="code"' not in page
    response = client.post(reverse("cases-mine-rate", args=[closed.pk]), {"rating": "satisfied", "resolved": "1"})
    assert response.status_code == 200 and 'id="rate-thanks"' in html(response)
    closed.refresh_from_db()
    assert closed.rating == "satisfied"
    # Another's case is not among mine: 404, and no staff page opens.
    other = world.cases["reported"]
    assert client.get(reverse("cases-mine-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("cases-detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("cases-desk")).status_code == 403


# --- lists that page and say how many ----------------------------------------------------------------------------------


def test_the_to_do_pages_and_says_how_many(client, world, tree):  # type: ignore[no-untyped-def]
    worker = world.users[Role.GRID_WORKER]
    for i in range(33):
        new_case(worker, tree.buildings[0], title=f"巡查发现{i}")
    open_total = Case.objects.restrict(worker, "change").exclude(status__in=[Status.CLOSED]).count()
    assert open_total > 30
    client.force_login(worker)
    page = html(client.get(reverse("cases-todo")))
    assert f"共 {open_total} 条" in page and 'rel="next"' in page
    assert page.count('class="case-card') == 30
    page = html(client.get(reverse("cases-todo"), {"page": "2"}))
    assert page.count('class="case-card') == open_total - 30 and 'rel="prev"' in page
    # The home block: a few rows, the total and the link to the whole list.
    page = html(client.get(reverse("home")))
    assert total_of(page, "todo") == open_total
    block = page.split('id="wb-todo"')[1].split("</section>")[0]
    assert block.count('<li class="wb-row') == 6 and f"查看全部（{open_total}）" in block


def test_the_workbench_reads_a_bounded_number_of_queries(client, world, tree):  # type: ignore[no-untyped-def]
    """No query per row: the operator's home costs the same with 6 more cases in every block."""
    operator = world.users[Role.SUBDISTRICT_OPERATOR]
    client.force_login(operator)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("home"))
    admin = world.users[Role.ADMIN]
    for i in range(6):
        new_case(admin, tree.buildings[1], title=f"新报{i}")
        walk(admin, new_case(admin, tree.buildings[2], title=f"立案{i}"), "accepted", handler_body=None)
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("home"))
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_care_plans_page_and_say_how_many(client, world, tree):  # type: ignore[no-untyped-def]
    """842 care plans used to come on one page (capped at 200 a section without a word): now 50 a page, the totals
    of each section in its heading and the whole count in the pager."""
    import datetime

    from django.utils import timezone

    from gongzhi.registry.tests.factories import make_person
    from gongzhi.visits import services as visits

    staff = world.users[Role.COMMUNITY_STAFF]
    today = timezone.localdate()
    for i in range(62):
        person = make_person(tree.households[0], name=f"老人{i}")
        visits.create_care_plan(actor=staff, person_id=person.pk, starts=today + datetime.timedelta(days=i - 10))
    client.force_login(staff)
    page = html(client.get(reverse("visits-care")))
    assert "共 62 条" in page and 'rel="next"' in page
    assert page.count('class="care-item') == 50
    overdue = page.split('id="care-overdue"')[1].split("</section>")[0]
    assert '<span class="badge badge-overdue">10</span>' in overdue
    page = html(client.get(reverse("visits-care"), {"page": "2"}))
    assert page.count('class="care-item') == 12 and 'id="care-later"' in page and 'rel="prev"' in page
