"""微心愿 (点亮心愿): a grid worker records a resident's wish with consent; the public wall shows it without personal
data; one of two claimants wins (the other a 409); the claimant fulfils it with evidence; the grid worker confirms;
the figures count exactly what their lists show."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.test import Client

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Message
from gongzhi.participation import selectors, services
from gongzhi.participation.models import Wish
from gongzhi.participation.tests import factories as f
from gongzhi.registry.tests.factories import make_person

pytestmark = pytest.mark.django_db

WISHER_NAME = "欧阳秀兰"
WISHER_PHONE = "13987654321"


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME)


@pytest.fixture
def wisher(tree):  # type: ignore[no-untyped-def]
    return make_person(
        tree.households[0], name=WISHER_NAME, phone=WISHER_PHONE, sex="female", birth_date=datetime.date(1950, 3, 1)
    )


@pytest.fixture
def claimants(tree):  # type: ignore[no-untyped-def]
    unit = f.unit(tree.communities[0], "北街商贸公司")
    party = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.PARTY_MEMBER)
    return unit, f.unit_user(unit), party


def _record(worker, wisher, **kw):  # type: ignore[no-untyped-def]
    return services.record_wish(
        actor=worker, person_id=wisher.pk, title=kw.get("title", "一台轮椅"),
        description=kw.get("description", "腿脚不便，想要一台轮椅出门晒太阳"),
        category_id=f.category("accessibility").pk, consent_note="入户时本人口头同意",
    )  # fmt: skip


def test_record_publishes_without_personal_data(tree, worker, wisher):  # type: ignore[no-untyped-def]
    wish = _record(worker, wisher)
    assert wish.public_name == "欧女士"
    assert wish.age_band == f"{(datetime.date.today().year - 1950 - 1) // 10 * 10}多岁" or wish.age_band == "80岁以上"
    assert wish.place == tree.grids[0] and wish.community_code == tree.communities[0].code
    assert wish.state == "published" and wish.consent_note
    assert AuditLog.objects.filter(action="participation.wish_recorded", object_id=str(wish.pk)).exists()


def test_the_wall_has_no_personal_data(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    wish = _record(worker, wisher)
    unit, unit_user, _party = claimants
    services.claim_wish(actor=unit_user, wish_id=wish.pk)
    html = Client().get(f"/participation/public/{tree.communities[0].code}/wishes/").content.decode()
    assert "一台轮椅" in html and "欧女士" in html and tree.grids[0].name in html and unit.name in html
    household = tree.households[0]
    for secret in (WISHER_NAME, WISHER_PHONE, wisher.id_number, household.name, "1950", worker.username):
        assert secret not in html, secret
    assert WISHER_NAME[:2] not in html  # not even the two-character surname 欧阳


def test_the_public_pages_need_no_account(tree, worker, wisher):  # type: ignore[no-untyped-def]
    _record(worker, wisher)
    client = Client()
    for url in (
        "/participation/public/",
        f"/participation/public/{tree.communities[0].code}/wishes/",
        f"/participation/public/{tree.communities[0].code}/projects/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response.headers
    assert client.get("/participation/public/999999999999/wishes/").status_code == 404


def test_the_wall_is_rate_limited(tree, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_wall": "2/h"}
    client = Client()
    url = f"/participation/public/{tree.communities[0].code}/wishes/"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_wish_from_record_to_lit(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    unit, unit_user, _party = claimants
    wish = _record(worker, wisher)
    services.claim_wish(actor=unit_user, wish_id=wish.pk)
    wish.refresh_from_db()
    assert (wish.state, wish.claimant_kind, wish.claimant_unit) == ("claimed", "unit", unit)
    assert Message.objects.filter(user=worker, kind="participation.wish_claimed").count() == 1
    with pytest.raises(Forbidden):
        services.confirm_wish(actor=unit_user, wish_id=wish.pk)
    with pytest.raises(ValidationFailed):
        services.fulfil_wish(actor=unit_user, wish_id=wish.pk, note="")
    services.fulfil_wish(actor=unit_user, wish_id=wish.pk, note="轮椅已送到家中")
    assert Message.objects.filter(user=worker, kind="participation.wish_fulfilled").count() == 1
    services.confirm_wish(actor=worker, wish_id=wish.pk)
    wish.refresh_from_db()
    assert wish.state == "confirmed" and wish.evidence_note == "轮椅已送到家中" and wish.confirmed_at
    assert Message.objects.filter(user=unit_user, kind="participation.wish_confirmed").count() == 1
    with pytest.raises(Conflict):
        services.confirm_wish(actor=worker, wish_id=wish.pk)


def test_a_claim_can_be_given_up(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    _unit, unit_user, party = claimants
    wish = _record(worker, wisher)
    services.claim_wish(actor=party, wish_id=wish.pk)
    assert Wish.objects.get(pk=wish.pk).claimant_kind == "party_member"
    with pytest.raises(Forbidden):
        services.give_up_wish(actor=unit_user, wish_id=wish.pk)  # not theirs
    services.give_up_wish(actor=party, wish_id=wish.pk)
    wish.refresh_from_db()
    assert (wish.state, wish.claimant_id, wish.claimant_kind) == ("published", None, "")
    services.claim_wish(actor=unit_user, wish_id=wish.pk)  # back on the wall: another may claim it
    assert Wish.objects.get(pk=wish.pk).claimant_kind == "unit"


def test_only_party_members_volunteers_and_units_claim(tree, worker, wisher):  # type: ignore[no-untyped-def]
    wish = _record(worker, wisher)
    with pytest.raises(Forbidden):
        services.claim_wish(actor=worker, wish_id=wish.pk)  # a full-time grid worker records, does not claim


def test_the_wall_text_refuses_the_wishers_name(tree, worker, wisher):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        _record(worker, wisher, description=f"{WISHER_NAME}想要一台轮椅")


def test_second_claimant_gets_a_409(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    _unit, unit_user, party = claimants
    wish = _record(worker, wisher)
    first, second = Client(), Client()
    first.force_login(party)
    second.force_login(unit_user)
    assert first.post(f"/participation/wishes/{wish.pk}/claim/").status_code == 302
    response = second.post(f"/participation/wishes/{wish.pk}/claim/")
    assert response.status_code == 409
    assert "已被他人认领" in response.content.decode() or "already been claimed" in response.content.decode()
    assert Wish.objects.get(pk=wish.pk).claimant == party


@pytest.mark.django_db(transaction=True)
def test_claim_race_threads(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    """Two claimants press "claim" at the same moment on PostgreSQL: one wins, the other a Conflict."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite's test database is one connection)")
    _unit, unit_user, party = claimants
    wish = _record(worker, wisher)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def claim(name: str, user) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            results[name] = services.claim_wish(actor=user, wish_id=wish.pk)
        except Exception as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n, u)) for n, u in (("a", party), ("b", unit_user))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results.values()) == ["Conflict", "Wish"], results
    winner = next(r for r in results.values() if isinstance(r, Wish))
    assert Wish.objects.get(pk=wish.pk).claimant_id == winner.claimant_id
    assert AuditLog.objects.filter(action="participation.wish_claimed", object_id=str(wish.pk)).count() == 1


def test_the_wisher_is_revealed_only_to_the_grid_audited(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    _unit, unit_user, _party = claimants
    wish = _record(worker, wisher)
    client = Client()
    client.force_login(unit_user)
    page = client.get(f"/participation/wishes/{wish.pk}/").content.decode()
    assert WISHER_NAME not in page and WISHER_PHONE not in page
    assert client.post(f"/participation/wishes/{wish.pk}/reveal/").status_code == 403
    client.force_login(worker)
    assert WISHER_NAME in client.post(f"/participation/wishes/{wish.pk}/reveal/").content.decode()
    assert AuditLog.objects.filter(action="participation.wisher_revealed", actor=worker).count() == 1


def test_figures_equal_the_drill_down(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    _unit, unit_user, party = claimants
    wishes = [_record(worker, wisher, title=f"心愿{i}") for i in range(5)]
    services.claim_wish(actor=unit_user, wish_id=wishes[0].pk)
    services.claim_wish(actor=party, wish_id=wishes[1].pk)
    services.fulfil_wish(actor=party, wish_id=wishes[1].pk, note="已完成")
    services.claim_wish(actor=unit_user, wish_id=wishes[2].pk)
    services.fulfil_wish(actor=unit_user, wish_id=wishes[2].pk, note="已完成")
    services.confirm_wish(actor=worker, wish_id=wishes[2].pk)
    services.withdraw_wish(actor=worker, wish_id=wishes[4].pk)
    data = selectors.wish_figures(user=worker, place=tree.communities[0])
    values = {c.key: c.value for c in data.cards}
    assert values == {
        "wishes_published": 4, "wishes_waiting": 1, "wishes_claimed": 3, "wishes_fulfilled": 2, "wishes_confirmed": 1,
    }  # fmt: skip
    assert {k.key: k.value for k in data.by_kind} == {"party_member": 1, "volunteer": 0, "unit": 2}
    assert data.days_to_fulfil is not None
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    client = Client()
    client.force_login(staff)
    page = client.get(f"/kpis/participation/?place={tree.communities[0].pk}").content.decode()
    links = re.findall(r'<a class="[^"]*wish-figure"[^>]*href="([^"]+)">(\d+)</a>', page)
    assert len(links) == len(data.cards) + len(data.by_kind) + 3  # and one row of 3 for the community
    for url, shown in links:
        listed = client.get(url.replace("&amp;", "&")).content.decode()
        count = re.search(r'id="wish-count">(\d+)<', listed)
        assert count is not None and count.group(1) == shown, url


def test_api_claim_conflict_has_the_one_error_shape(tree, worker, wisher, claimants):  # type: ignore[no-untyped-def]
    _unit, unit_user, party = claimants
    wish = _record(worker, wisher)
    first, second = Client(), Client()
    first.force_login(party)
    second.force_login(unit_user)
    ok = first.post(f"/api/v1/participation/wishes/{wish.pk}/claim")
    assert ok.status_code == 200 and ok.json()["claimant_kind"] == "party_member"
    assert WISHER_NAME not in ok.content.decode() and WISHER_PHONE not in ok.content.decode()
    lost = second.post(f"/api/v1/participation/wishes/{wish.pk}/claim")
    assert lost.status_code == 409
    error = lost.json()["error"]
    assert error["code"] == "conflict" and error["message"] and error["details"][0]["field"] == "wish_id"
    assert first.post(f"/api/v1/participation/wishes/{wish.pk}/give-up").json()["state"] == "published"


def test_record_page_needs_consent(tree, worker, wisher):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(worker)
    assert client.get(f"/participation/wishes/new/?person={wisher.pk}").status_code == 200
    data = {"person": wisher.pk, "title": "一台轮椅", "description": "", "category": "", "consent_note": "本人同意"}
    assert client.post("/participation/wishes/new/", data).status_code == 400  # the consent box unticked
    assert not Wish.objects.exists()
    response = client.post("/participation/wishes/new/", {**data, "consent": "on"})
    assert response.status_code == 302 and Wish.objects.get().person == wisher
