"""Participation figures = their drill-down: each value on the figures page is the total of the list it links to
(needs open / matched / closed, projects by state, units' projects), and beneficiaries reached is the sum over the
projects its link lists."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation import selectors, services
from gongzhi.participation.models import Project
from gongzhi.participation.tests import factories as f

pytestmark = pytest.mark.django_db


def _total(html: str) -> int:
    found = re.search(r'data-total="(\d+)"', html)
    assert found, html[:500]
    return int(found.group(1))


def test_every_figure_is_its_drill_down(client, tree, other_tree):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    units = [f.unit(tree.communities[0], f"单位{i}") for i in range(3)]
    users = [f.unit_user(u) for u in units]
    needs = [f.need(tree.grids[i % 2], f"需求{i}", ("elderly", "children", "culture")[i % 3]) for i in range(9)]
    f.need(tree.grids[2], "另一个社区的需求", "elderly")  # community 2: not in community 1's figures
    f.need(other_tree.grids[0], "别的街道", "elderly")
    # claims, progress, completion, confirmation: projects in every state
    projects = [services.claim_need(actor=users[i % 3], need_id=needs[i].pk) for i in range(6)]
    services.report_progress(actor=users[1], project_id=projects[1].pk, progress=50, people_served=7, hours=3)
    by_unit = {u.pk: user for u, user in zip(units, users, strict=True)}
    for p in projects[2:5]:
        services.report_progress(actor=by_unit[p.unit_id], project_id=p.pk, progress=100, people_served=5)
    services.accept_project(actor=staff, project_id=projects[2].pk, surveyed=5, satisfied=5)
    services.accept_project(actor=staff, project_id=projects[3].pk, surveyed=5, satisfied=4)
    services.cancel_project(actor=staff, project_id=projects[5].pk)

    client.force_login(staff)
    place = tree.communities[0]
    page = client.get(reverse("kpis-participation") + f"?place={place.pk}").content.decode()
    data = selectors.figures(user=staff, place=place)
    assert {f.key for f in data["figures"]} >= {"needs_open", "needs_matched", "needs_closed", "people_reached"}
    seen = 0
    for fig in data["figures"]:
        link = re.search(rf'id="fig-{fig.key}" href="([^"]+)">(\d+)<', page)
        assert link, fig.key
        url, shown = link.group(1).replace("&amp;", "&"), int(link.group(2))
        assert shown == fig.value, fig.key
        listing = client.get(url).content.decode()
        if fig.key == "people_reached":
            ids = [int(x) for x in re.findall(r'data-project-id="(\d+)"', listing)]
            assert sum(Project.objects.filter(pk__in=ids).values_list("people_served", flat=True)) == fig.value == 22
        else:
            assert _total(listing) == fig.value, fig.key
        seen += fig.value
    assert seen > 0
    assert dict((fig.key, fig.value) for fig in data["figures"])["needs_closed"] == 2
    assert dict((fig.key, fig.value) for fig in data["figures"])["projects_cancelled"] == 1
    for unit_row in re.findall(r'<a href="([^"]+)" class="unit-projects" data-unit-id="\d+">(\d+)</a>', page):
        url, shown = unit_row[0].replace("&amp;", "&"), int(unit_row[1])
        assert _total(client.get(url).content.decode()) == shown
