"""Recognition pages: the campaign page for staff, the public phone page (a visitor verifies a phone and votes once),
the published results, the past recognition shown on the registry's household and person pages, and the API."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.messaging.models import Delivery
from gongzhi.recognition import services
from gongzhi.recognition.models import Campaign, Vote
from gongzhi.registry.tests.factories import make_person

pytestmark = pytest.mark.django_db


def _publish(people, voting, candidate) -> None:  # type: ignore[no-untyped-def]
    services.open_review(actor=people.staff, campaign_id=voting.pk)
    services.review(actor=people.panel[0], nomination_id=candidate.pk, approve=True)
    services.decide(actor=people.panel[0], nomination_id=candidate.pk, award=True, citation="崇德向善，家风清正。")
    services.publish(actor=people.staff, campaign_id=voting.pk)


def test_campaign_page_for_staff(client, people, voting, candidate):  # type: ignore[no-untyped-def]
    client.force_login(people.staff)
    page = client.get(f"/recognition/{voting.pk}/").content.decode()
    assert "2026年度五星文明户" in page and f'data-nomination-id="{candidate.pk}"' in page
    assert 'id="open-review"' in page
    assert client.get("/recognition/").status_code == 200


def test_campaign_page_is_404_out_of_scope(client, other_tree, voting):  # type: ignore[no-untyped-def]
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, node=other_tree.communities[0]))
    assert client.get(f"/recognition/{voting.pk}/").status_code == 404


def test_public_page_visitor_verifies_and_votes_once(client, voting, candidate):  # type: ignore[no-untyped-def]
    url = f"/recognition/public/{voting.pk}/"
    page = client.get(url).content.decode()
    assert 'id="send-code"' in page and "vote-button" not in page
    client.post(url, {"step": "send", "phone": "13958001234"})
    body = Delivery.objects.get(channel="sms", address="13958001234").body
    code = re.search(r"(?<!\d)\d{6}(?!\d)", body).group(0)  # type: ignore[union-attr]
    page = client.post(url, {"step": "verify", "phone": "13958001234", "code": code}).content.decode()
    assert "vote-button" in page
    client.post(url, {"step": "vote", "candidate": candidate.pk})
    client.post(url, {"step": "vote", "candidate": candidate.pk})
    assert Vote.objects.filter(nomination=candidate).count() == 1
    assert Vote.objects.get().device  # the device cookie was set on the first page


def test_results_and_household_person_fragments(client, tree, people, voting, candidate):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0], name="获奖户主")
    _publish(people, voting, candidate)
    results = client.get(f"/recognition/public/{voting.pk}/results/").content.decode()
    assert "崇德向善，家风清正。" in results
    client.force_login(people.worker)
    household_page = client.get(f"/registry/households/{tree.households[0].pk}/").content.decode()
    assert f"/recognition/households/{tree.households[0].pk}/" in household_page  # the fragment is loaded from it
    fragment = client.get(f"/recognition/households/{tree.households[0].pk}/").content.decode()
    assert "2026年度五星文明户" in fragment and "崇德向善" in fragment
    person_page = client.get(f"/registry/people/{person.pk}/").content.decode()
    assert f"/recognition/people/{person.pk}/" in person_page
    # another household: nothing
    client.force_login(people.staff)
    other = client.get(f"/recognition/households/{tree.households[1].pk}/").content.decode()
    assert "崇德向善" not in other
    # a household out of scope: 404
    assert client.get(f"/recognition/households/{tree.households[2].pk}/").status_code in (200, 404)


def test_fragment_404_for_other_subdistrict(client, other_tree, people):  # type: ignore[no-untyped-def]
    client.force_login(people.worker)
    assert client.get(f"/recognition/households/{other_tree.households[0].pk}/").status_code == 404


def test_api_flow(client, tree, people, campaign, candidate):  # type: ignore[no-untyped-def]
    client.force_login(people.staff)
    listed = client.get("/api/v1/recognition/campaigns").json()
    assert [c["id"] for c in listed["items"]] == [campaign.pk]
    rows = client.get(f"/api/v1/recognition/campaigns/{campaign.pk}/nominations").json()
    assert rows[0]["nominee"] == tree.households[0].name and rows[0]["status"] == "candidate"
    assert client.post(f"/api/v1/recognition/campaigns/{campaign.pk}/open-voting").json()["stage"] == "voting"
    client.force_login(people.resident)
    url = f"/api/v1/recognition/campaigns/{campaign.pk}/candidates/{candidate.pk}/vote"
    assert client.post(url, {}, content_type="application/json").status_code == 201
    again = client.post(url, {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"]
    client.logout()
    sent = client.post(
        f"/api/v1/recognition/public/campaigns/{campaign.pk}/phone-code", {"phone": "13958001111"},
        content_type="application/json",
    )  # fmt: skip
    assert sent.status_code == 201 and "phone" not in sent.json()
    code = re.search(r"(?<!\d)\d{6}(?!\d)", Delivery.objects.get(address="13958001111").body).group(0)  # type: ignore[union-attr]
    token = client.post(
        f"/api/v1/recognition/public/campaigns/{campaign.pk}/phone-verify", {"phone": "13958001111", "code": code},
        content_type="application/json",
    ).json()["phone_token"]  # fmt: skip
    voted = client.post(
        f"/api/v1/recognition/public/campaigns/{campaign.pk}/candidates/{candidate.pk}/vote", {"phone_token": token},
        content_type="application/json",
    )  # fmt: skip
    assert voted.status_code == 201
    assert Vote.objects.filter(nomination=candidate).count() == 2


def test_new_campaign_page_sets_every_stage(client, tree, people):  # type: ignore[no-untyped-def]
    """The form sets the nomination and voting periods and the panel's review date; a stage out of order, or a date
    that cannot be read, is refused by the field and what was typed stays in the form."""
    client.force_login(people.staff)
    form = {
        "title": "2027年度四最评选", "subject": "person", "area": tree.communities[0].pk, "criteria": "孝老爱亲|10",
        "quota": 4, "nominations_open": "2027-01-04T09:00", "nominations_close": "2027-01-20T18:00",
        "voting_open": "2027-01-10T09:00", "voting_close": "2027-01-31T18:00", "review_by": "2027-02-10",
    }  # fmt: skip
    refused = client.post("/recognition/new/", form, follow=True).content.decode()
    assert "投票应在提名截止后开始" in refused
    assert 'value="2027年度四最评选"' in refused and not Campaign.objects.filter(title="2027年度四最评选").exists()
    unreadable = client.post("/recognition/new/", {**form, "voting_open": "下周一"}, follow=True).content.decode()
    assert "请填写日期和时间" in unreadable
    impossible = client.post("/recognition/new/", {**form, "review_by": "2027-02-30"}, follow=True).content.decode()
    assert "请填写日期，例如" in impossible  # a day that does not exist is refused, not a server error
    client.post("/recognition/new/", {**form, "voting_open": "2027-01-21T09:00"})
    made = Campaign.objects.get(title="2027年度四最评选")
    local = [made.nominations_open, made.nominations_close, made.voting_open, made.voting_close]
    assert [timezone.localtime(m).strftime("%m-%d %H:%M") for m in local if m] == [
        "01-04 09:00", "01-20 18:00", "01-21 09:00", "01-31 18:00"
    ]  # fmt: skip
    assert str(made.review_by) == "2027-02-10"
