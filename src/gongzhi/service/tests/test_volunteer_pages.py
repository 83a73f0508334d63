"""Every volunteer page answers for the roles that use it and shows no English in the Chinese interface (the
words of this app are translated with the context "volunteer")."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.registry.models import PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import services
from gongzhi.service.models import PersonAccount

pytestmark = pytest.mark.django_db

ALLOWED = {"Gongzhi", "EN", "QR", "KPI"}
WORD = re.compile(r"(?<![A-Za-z0-9_/.:-])[A-Za-z]{2,}(?![A-Za-z0-9_/.:-])")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:  # what a reader sees or hears besides the text
            if name in ("placeholder", "aria-label", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def english(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return sorted({w for w in WORD.findall(" ".join(parser.parts)) if w not in ALLOWED})


def test_volunteer_pages_speak_chinese(client, tree, staff):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0], name="张志愿")
    resident = user_with_role(Role.RESIDENT, node=tree.communities[0])
    PersonAccount.objects.create(user=resident, person=person)
    team = services.create_team(actor=staff, name="志愿服务队", area_id=tree.communities[0].pk)
    volunteer = services.register_volunteer(actor=staff, person_id=person.pk, team_id=team.pk)
    start = timezone.now() + datetime.timedelta(minutes=30)
    activity = services.create_activity(
        actor=staff, title="敬老理发", area_id=tree.communities[0].pk, venue="活动室", starts_at=start,
        ends_at=start + datetime.timedelta(hours=2), capacity=5, team_id=team.pk,
    )  # fmt: skip
    signup = services.sign_up(actor=resident, activity_id=activity.pk)
    services.check_by_code(actor=resident, activity_id=activity.pk, code=services.check_code(activity))
    services.tick_attendance(actor=staff, signup_id=signup.pk)
    elder = make_person(tree.households[1], name="赵独居")
    PersonTag.objects.create(person=elder, tag="elderly_alone", since=datetime.date(2020, 1, 1))
    services.record_served(actor=staff, person_id=elder.pk, activity_id=activity.pk, served_on=timezone.localdate())
    year = timezone.localdate().year
    check = services.check_url(activity)
    pages = {
        staff: [
            "/posts/activities/", "/posts/activities/new/", f"/posts/activities/{activity.pk}/?q=赵",
            f"/posts/activities/{activity.pk}/qr/", "/posts/volunteers/", "/posts/volunteers/new/?q=张",
            f"/posts/volunteers/{volunteer.pk}/", "/posts/teams/", f"/posts/volunteers/figures/?year={year}",
            f"/posts/volunteers/figures/volunteers/?year={year}", f"/posts/volunteers/figures/served/?year={year}",
            f"/posts/activities/?month={year}-01",
        ],
        resident: ["/posts/activities/", f"/posts/activities/{activity.pk}/", "/posts/volunteers/mine/", check],
    }  # fmt: skip
    found = []
    for user, paths in pages.items():
        client.force_login(user)
        for path in paths:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200, path
            assert "志愿" in response.content.decode() or "签到" in response.content.decode(), path
            words = english(response.content.decode())
            if words:
                found.append(f"{path}: {words}")
    assert not found, "\n".join(found)
