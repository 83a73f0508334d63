"""Recognition from campaign to published results: nominations (who may, in which area, once), accept and
withdraw, the vote (once per voter and candidate), the phone check, the fraud signals, the panel's review, the
decision, publication and who is told."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Delivery, Message
from gongzhi.recognition import selectors, services
from gongzhi.recognition.models import PhoneCheck, Vote
from gongzhi.registry.tests.factories import make_person

pytestmark = pytest.mark.django_db


def _code_sent(phone: str) -> str:
    """The code in the SMS queued for this phone (the messaging SMS channel's delivery row)."""
    delivery = Delivery.objects.filter(channel="sms", address=phone).order_by("-id").first()
    assert delivery is not None, "no SMS queued"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", delivery.body)
    assert found, delivery.body
    return found.group(0)


def test_nominate_in_area_once(tree, people, campaign):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):  # a household of the other community
        services.nominate(
            actor=people.staff, campaign_id=campaign.pk, household_id=tree.households[2].pk, reasons={"爱党爱国": "x"}
        )
    with pytest.raises(ValidationFailed):  # no reason for any criterion
        services.nominate(actor=people.staff, campaign_id=campaign.pk, household_id=tree.households[0].pk, reasons={})
    first = services.nominate(
        actor=people.staff, campaign_id=campaign.pk, household_id=tree.households[0].pk, reasons={"爱党爱国": "好"}
    )
    with pytest.raises(Conflict):
        services.nominate(
            actor=people.worker, campaign_id=campaign.pk, household_id=tree.households[0].pk, reasons={"爱党爱国": "好"}
        )
    assert AuditLog.objects.filter(action="recognition.nominate", object_id=str(first.pk)).exists()
    # withdrawn, the household may be put forward again
    services.withdraw(actor=people.staff, nomination_id=first.pk)
    again = services.nominate(
        actor=people.worker, campaign_id=campaign.pk, household_id=tree.households[0].pk, reasons={"邻里和睦": "好"}
    )
    assert again.pk != first.pk


def test_resident_nominates_a_household_of_their_ground(tree, people, campaign):  # type: ignore[no-untyped-def]
    nomination = services.nominate(
        actor=people.resident,
        campaign_id=campaign.pk,
        household_id=tree.households[1].pk,
        reasons={"环境整洁": "楼道干净"},
    )
    assert nomination.place == tree.households[1]
    with pytest.raises(ValidationFailed):  # not their ground
        services.nominate(
            actor=people.resident,
            campaign_id=campaign.pk,
            household_id=tree.households[0].pk,
            reasons={"环境整洁": "x"},
        )
    # the resident sees their own nomination, may withdraw it, but not accept it
    assert [n.pk for n in selectors.nominations(user=people.resident, campaign=campaign)] == [nomination.pk]
    with pytest.raises(Forbidden):
        services.accept(actor=people.resident, nomination_id=nomination.pk)
    services.withdraw(actor=people.resident, nomination_id=nomination.pk)


def test_person_campaign_by_name_in_household(tree, people):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[1], name="李最美")
    campaign = services.create_campaign(
        actor=people.staff, title="四最", subject="person", area_id=tree.communities[0].pk, criteria=["最美楼道长"]
    )
    with pytest.raises(ValidationFailed):
        services.nominate(
            actor=people.resident, campaign_id=campaign.pk, household_id=tree.households[1].pk, person_name="无此人",
            reasons={"最美楼道长": "x"},
        )  # fmt: skip
    nomination = services.nominate(
        actor=people.resident, campaign_id=campaign.pk, household_id=tree.households[1].pk, person_name="李最美",
        reasons={"最美楼道长": "十年如一日"},
    )  # fmt: skip
    assert nomination.person == person and nomination.household is None


def test_vote_once_per_candidate(people, voting, candidate):  # type: ignore[no-untyped-def]
    vote = services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, user=people.resident, ip="10.0.0.1")
    assert vote.voter_key == f"u:{people.resident.pk}" and vote.flags == []
    with pytest.raises(Conflict):
        services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, user=people.resident, ip="10.0.0.1")
    assert Vote.objects.filter(nomination=candidate).count() == 1


def test_no_vote_before_voting_opens_or_for_a_non_candidate(tree, people, campaign, candidate):  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict):
        services.cast_vote(campaign_id=campaign.pk, nomination_id=candidate.pk, user=people.resident)
    other = services.nominate(
        actor=people.staff, campaign_id=campaign.pk, household_id=tree.households[1].pk, reasons={"爱党爱国": "x"}
    )
    services.open_voting(actor=people.staff, campaign_id=campaign.pk)
    with pytest.raises(NotFound):
        services.cast_vote(campaign_id=campaign.pk, nomination_id=other.pk, user=people.resident)


def test_phone_verified_visitor_votes_once(people, voting, candidate):  # type: ignore[no-untyped-def]
    check = services.send_phone_code(campaign_id=voting.pk, phone="13958001234")
    assert "13958001234" not in str(PhoneCheck.objects.filter(pk=check.pk).values().get())  # only hashes are kept
    code_text = _code_sent("13958001234")
    with pytest.raises(ValidationFailed):
        services.verify_phone(
            campaign_id=voting.pk, phone="13958001234", code="000000" if code_text != "000000" else "111111"
        )
    with pytest.raises(Forbidden):  # not verified: no vote
        services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, phone_token="guess")
    verified = services.verify_phone(campaign_id=voting.pk, phone="139 5800 1234", code=code_text)
    token = verified.token  # type: ignore[attr-defined]
    vote = services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, phone_token=token, ip="10.0.0.2")
    assert vote.user is None and vote.phone_hash == services.phone_hash("13958001234")
    assert vote.flags == []  # a local prefix
    with pytest.raises(Conflict):
        services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, phone_token=token)


def test_code_attempts_are_limited(people, voting):  # type: ignore[no-untyped-def]
    services.send_phone_code(campaign_id=voting.pk, phone="13958009999")
    for _ in range(services.CODE_ATTEMPTS):
        with pytest.raises(ValidationFailed):
            services.verify_phone(campaign_id=voting.pk, phone="13958009999", code="abcdef")
    assert PhoneCheck.objects.get().attempts == services.CODE_ATTEMPTS
    with pytest.raises(Conflict):  # one code a minute
        services.send_phone_code(campaign_id=voting.pk, phone="13958009999")


def test_fraud_signals_flag_without_dropping(people, voting, candidate):  # type: ignore[no-untyped-def]
    from gongzhi.accounts.tests.factories import UserFactory

    now = timezone.now()
    votes = [
        services.cast_vote(
            campaign_id=voting.pk,
            nomination_id=candidate.pk,
            user=UserFactory(),
            ip="10.9.9.9",
            device="dev-1",
            now=now + datetime.timedelta(seconds=i),
        )
        for i in range(services.BURST_VOTES)
    ]
    assert votes[0].flags == [] and votes[-2].flags == []
    assert set(votes[-1].flags) == {"ip_burst", "device_burst"}
    assert Vote.objects.filter(nomination=candidate).count() == services.BURST_VOTES  # all counted
    # a phone outside the area's prefixes
    check = services.send_phone_code(campaign_id=voting.pk, phone="13700001111", now=now)
    assert check.outside_prefix
    row = selectors.nominations(user=people.staff, campaign=voting).get(pk=candidate.pk)
    assert row.vote_count == services.BURST_VOTES and row.flagged_count == 1
    assert selectors.flag_counts(user=people.staff, campaign=voting) == {"ip_burst": 1, "device_burst": 1}


def test_burst_near_closing(people, voting, candidate):  # type: ignore[no-untyped-def]
    from gongzhi.accounts.tests.factories import UserFactory

    close = voting.voting_close
    start = close - datetime.timedelta(minutes=9)
    last = None
    for i in range(services.CLOSING_BURST_VOTES):
        last = services.cast_vote(
            campaign_id=voting.pk, nomination_id=candidate.pk, user=UserFactory(), ip=f"10.1.{i}.1",
            now=start + datetime.timedelta(seconds=30 * i),
        )  # fmt: skip
    assert last is not None and last.flags == ["closing_burst"]


def test_panel_review_decide_publish(tree, people, voting, candidate):  # type: ignore[no-untyped-def]
    make_person(tree.households[0], name="户主", phone="13958002222")
    services.cast_vote(campaign_id=voting.pk, nomination_id=candidate.pk, user=people.resident)
    with pytest.raises(Conflict):  # review not open yet
        services.review(actor=people.panel[0], nomination_id=candidate.pk, approve=True)
    services.open_review(actor=people.staff, campaign_id=voting.pk)
    told = set(Message.objects.filter(kind=services.REVIEW_KIND).values_list("user_id", flat=True))
    assert told == {u.pk for u in people.panel}
    with pytest.raises(Forbidden):  # not on the panel
        services.review(actor=people.worker, nomination_id=candidate.pk, approve=True)
    with pytest.raises(ValidationFailed):  # over the criteria's 40 points
        services.review(actor=people.panel[0], nomination_id=candidate.pk, approve=True, score=Decimal("41"))
    services.review(actor=people.panel[0], nomination_id=candidate.pk, approve=True, score=Decimal("36"))
    services.review(actor=people.panel[1], nomination_id=candidate.pk, approve=False, score=Decimal("30"))
    row = selectors.nominations(user=people.staff, campaign=voting).get(pk=candidate.pk)
    assert (row.approvals, row.review_count, row.vote_count) == (1, 2, 1)
    assert selectors.average(row.mean_score) == Decimal("33.0")
    with pytest.raises(Conflict):  # nobody awarded yet
        services.publish(actor=people.staff, campaign_id=voting.pk)
    with pytest.raises(ValidationFailed):  # an award needs its citation
        services.decide(actor=people.panel[0], nomination_id=candidate.pk, award=True)
    services.decide(actor=people.panel[0], nomination_id=candidate.pk, award=True, citation="邻里守望，温暖一方。")
    published = services.publish(actor=people.staff, campaign_id=voting.pk)
    assert published.stage == "published" and published.published_at is not None
    results = selectors.public_candidates(campaign=published, awarded_only=True)
    assert [(r.id, r.citation, r.awarded) for r in results] == [(candidate.pk, "邻里守望，温暖一方。", True)]
    # the household's resident without an account is told by SMS
    assert Delivery.objects.filter(channel="sms", address="13958002222").exists()
    assert AuditLog.objects.filter(action="recognition.publish", object_id=str(published.pk)).exists()


def test_quota_is_kept(tree, people, campaign, candidate):  # type: ignore[no-untyped-def]
    other = services.nominate(
        actor=people.staff, campaign_id=campaign.pk, household_id=tree.households[1].pk, reasons={"爱党爱国": "x"}
    )
    services.accept(actor=people.staff, nomination_id=other.pk)
    voting = services.open_review(actor=people.staff, campaign_id=campaign.pk)  # straight from nominations
    services.decide(actor=people.staff, nomination_id=candidate.pk, award=True, citation="好")
    with pytest.raises(Conflict):
        services.decide(actor=people.staff, nomination_id=other.pk, award=True, citation="也好")
    services.publish(actor=people.staff, campaign_id=voting.pk)
    other.refresh_from_db()
    assert other.status == "not_awarded"


def test_grid_worker_may_not_manage(people, campaign):  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        services.open_review(actor=people.worker, campaign_id=campaign.pk)
    with pytest.raises(NotFound):  # staff of another subdistrict do not see it
        from gongzhi.accounts.choices import Role
        from gongzhi.accounts.tests.factories import user_with_role
        from gongzhi.territory.tests.factories import build_tree

        other = build_tree("210113002", origin=(124.0, 42.0))
        services.open_review(
            actor=user_with_role(Role.COMMUNITY_STAFF, node=other.communities[0]), campaign_id=campaign.pk
        )


def test_panel_member_of_another_community_reviews(tree, people):  # type: ignore[no-untyped-def]
    """A subdistrict campaign's panel has a secretary of community 1: they read and review community 0's candidate."""
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    judge = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[1], body=tree.committees[1])
    campaign = services.create_campaign(
        actor=operator, title="街道五星文明户", subject="household", area_id=tree.subdistrict.pk,
        criteria=["邻里和睦"], panel_ids=[judge.pk],
    )  # fmt: skip
    nomination = services.nominate(
        actor=people.worker, campaign_id=campaign.pk, household_id=tree.households[0].pk, reasons={"邻里和睦": "好"}
    )
    services.accept(actor=operator, nomination_id=nomination.pk)
    services.open_review(actor=operator, campaign_id=campaign.pk)
    assert [n.pk for n in selectors.nominations(user=judge, campaign=campaign)] == [nomination.pk]
    services.review(actor=judge, nomination_id=nomination.pk, approve=True)
    with pytest.raises(Forbidden):  # the panel decides, the secretary does not manage the subdistrict's campaign
        services.publish(actor=judge, campaign_id=campaign.pk)
