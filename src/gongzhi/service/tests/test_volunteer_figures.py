"""Volunteer figures = drill-down: each number on the figures page and on the KPI dashboard's card is the length (or
the hours total) of the list it opens, and the numbers move when an organiser confirms hours."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PartyMember, PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import services
from gongzhi.service.models import Activity, SignUp

pytestmark = pytest.mark.django_db


def _attr(html: str, element_id: str, name: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*\b{name}="([^"]*)"', html)
    assert match, (element_id, name)
    return match.group(1)


def _links(html: str, element_id: str) -> list[str]:
    part = html[html.index(f'id="{element_id}"') :]
    part = part[: part.index("</article>")] if "</article>" in part else part
    return [u.replace("&amp;", "&") for u in re.findall(r'href="(/posts/[^"]+)"', part)]


def _activity(staff, tree, title: str, start: datetime.datetime) -> Activity:  # type: ignore[no-untyped-def]
    return services.create_activity(
        actor=staff, title=title, area_id=tree.grids[0].pk, venue="活动室", starts_at=start,
        ends_at=start + datetime.timedelta(hours=2), capacity=10,
    )  # fmt: skip


@pytest.fixture
def world(tree, staff):  # type: ignore[no-untyped-def]
    people = [make_person(tree.households[0], name=n) for n in ("甲志愿", "乙志愿", "丙志愿")]
    PartyMember.objects.create(person=people[0], member_type="retired")
    volunteers = [services.register_volunteer(actor=staff, person_id=p.pk) for p in people]
    year = timezone.localdate().year
    # Activities in January and February of this year (the past: Activity rows written directly, as the demo does).
    jan = timezone.make_aware(datetime.datetime(year, 1, 10, 9))
    feb = timezone.make_aware(datetime.datetime(year, 2, 10, 9))
    acts = [
        Activity.objects.create(title=t, area=tree.grids[0], venue="活动室", starts_at=s,
                                ends_at=s + datetime.timedelta(hours=2), capacity=10, created_by=staff)
        for t, s in (("一月活动", jan), ("二月活动", feb), ("二月活动二", feb))
    ]  # fmt: skip
    for v, a, hours in ((volunteers[0], acts[0], 2), (volunteers[1], acts[1], 3), (volunteers[0], acts[2], 1)):
        SignUp.objects.create(activity=a, volunteer=v, signed_up_at=a.starts_at, hours=Decimal(hours))
    elder = make_person(tree.households[1], name="赵独居")
    PersonTag.objects.create(person=elder, tag="elderly_alone", since=datetime.date(2020, 1, 1))
    services.record_served(actor=staff, person_id=elder.pk, activity_id=acts[0].pk, served_on=jan.date())
    return volunteers, acts


def test_figures_equal_their_lists_and_move_on_confirmation(client, tree, staff, world):  # type: ignore[no-untyped-def]
    del world  # the volunteers, activities and sign-ups the figures count
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(operator)
    year = timezone.localdate().year
    page = client.get(f"/posts/volunteers/figures/?year={year}&place={tree.subdistrict.code}").content.decode()
    assert _attr(page, "fig-active", "data-value") == "0"  # nothing confirmed: no hours count

    for signup in SignUp.objects.all():
        services.confirm_hours(actor=staff, signup_id=signup.pk)
    page = client.get(f"/posts/volunteers/figures/?year={year}&place={tree.subdistrict.code}").content.decode()
    assert _attr(page, "fig-active", "data-value") == "2"
    assert Decimal(_attr(page, "fig-hours", "data-value")) == Decimal("6.0")
    assert Decimal(_attr(page, "fig-member-hours", "data-value")) == Decimal("3.0")
    assert _attr(page, "fig-served", "data-value") == "1"

    active_url = _links(page, "fig-active")[0]
    listed = client.get(active_url).content.decode()
    assert _attr(listed, "figure-volunteers", "data-total") == "2"
    assert Decimal(_attr(listed, "figure-volunteers", "data-hours")) == Decimal("6.0")
    party_url = _links(page, "fig-member-hours")[0]
    listed = client.get(party_url).content.decode()
    assert _attr(listed, "figure-volunteers", "data-total") == "1"
    assert Decimal(_attr(listed, "figure-volunteers", "data-hours")) == Decimal("3.0")
    served = client.get(_links(page, "fig-served")[0]).content.decode()
    assert _attr(served, "figure-served", "data-total") == "1" and "赵独居" in served

    rows = re.findall(r'data-month="(\d{4}-\d\d)"><td>[^<]*</td><td><a href="([^"]+)">(\d+)</a>', page)
    months = {m: (url.replace("&amp;", "&"), int(n)) for m, url, n in rows}
    assert months[f"{year}-01"][1] == 1 and months[f"{year}-02"][1] == 2 and months[f"{year}-03"][1] == 0
    for url, n in months.values():
        if n:
            assert _attr(client.get(url).content.decode(), "activity-total", "data-total") == str(n)

    # The KPI dashboard's card shows the same numbers and opens the same lists.
    dash = client.get(f"/kpis/?place={tree.subdistrict.pk}").content.decode()
    assert _attr(dash, "card-volunteers", "data-active") == "2"
    assert _attr(dash, "card-volunteers", "data-served") == "1"
    assert _attr(dash, "card-volunteers", "data-activities") == "3"
    card_links = _links(dash, "card-volunteers")
    assert _attr(client.get(card_links[0]).content.decode(), "figure-volunteers", "data-total") == "2"


def test_figures_are_scoped(client, tree, other_tree, world):  # type: ignore[no-untyped-def]
    for signup in SignUp.objects.all():
        SignUp.objects.filter(pk=signup.pk).update(confirmed_at=timezone.now())
    elsewhere = user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0])
    client.force_login(elsewhere)
    page = client.get(f"/posts/volunteers/figures/?year={timezone.localdate().year}").content.decode()
    assert _attr(page, "fig-active", "data-value") == "0"
    assert _attr(page, "fig-served", "data-value") == "0"


def test_hours_read_in_tenths_whatever_the_database_sums(client, tree, staff, world):  # type: ignore[no-untyped-def]
    """Three sign-ups of 0.1 h sum to 0.30000000000000004 in SQLite's floating point: people read 0.3."""
    volunteers, acts = world
    for act in acts:
        SignUp.objects.filter(activity=act).delete()
        SignUp.objects.create(activity=act, volunteer=volunteers[2], signed_up_at=act.starts_at,
                              hours=Decimal("0.1"))  # fmt: skip
    for signup in SignUp.objects.all():
        services.confirm_hours(actor=staff, signup_id=signup.pk)
    year = timezone.localdate().year
    client.force_login(user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict))
    page = client.get(f"/posts/volunteers/figures/?year={year}&place={tree.subdistrict.code}").content.decode()
    assert _attr(page, "fig-hours", "data-value") in ("0.3", "0.30")  # per volunteer: 0.3 h ÷ 1
    listed = client.get(f"/posts/volunteers/figures/volunteers/?year={year}").content.decode()
    assert _attr(listed, "figure-volunteers", "data-hours") == "0.3"
    assert re.search(r"0\.3000", listed) is None
    table = client.get("/posts/volunteers/").content.decode()
    row = table[table.index(f'data-volunteer-id="{volunteers[2].pk}"') :]
    assert "<td>0.3</td>" in row[: row.index("</tr>")]
