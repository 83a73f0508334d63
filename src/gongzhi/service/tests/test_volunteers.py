"""Volunteers (issue 21): sign-up under capacity, check-in/out by the venue's QR code, hours counted from it,
corrected and confirmed by the organiser (only confirmed hours count), yearly totals, people served and care plans."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, NotFound
from gongzhi.messaging.models import Message
from gongzhi.registry.models import PersonTag
from gongzhi.registry.tests.factories import make_person
from gongzhi.service import selectors, services
from gongzhi.service.models import PersonAccount
from gongzhi.visits.models import CarePlan

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def volunteer_user(tree, name: str = "张志愿", community: int = 0):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[2 * community], name=name)
    user = user_with_role(Role.RESIDENT, node=tree.communities[community])
    PersonAccount.objects.create(user=user, person=person)
    return user, person


@pytest.fixture
def setup(tree, staff):  # type: ignore[no-untyped-def]
    user, person = volunteer_user(tree)
    team = services.create_team(actor=staff, name="府东志愿服务队", area_id=tree.communities[0].pk)
    volunteer = services.register_volunteer(actor=staff, person_id=person.pk, team_id=team.pk, skills="理发")
    start = timezone.now() + 2 * H
    activity = services.create_activity(
        actor=staff, title="敬老理发", area_id=tree.communities[0].pk, venue="社区活动室",
        starts_at=start, ends_at=start + 3 * H, capacity=1, team_id=team.pk,
    )  # fmt: skip
    return user, volunteer, activity


def test_sign_up_check_in_out_and_confirm_hours(setup, staff):  # type: ignore[no-untyped-def]
    user, volunteer, activity = setup
    assert volunteer.user == user  # the person's linked account is the volunteer's own log-in
    signup = services.sign_up(actor=user, activity_id=activity.pk, now=activity.starts_at - 5 * H)
    assert Message.objects.filter(user=staff, kind=services.SIGNED_UP_KIND).count() == 1  # the organiser is told
    code = services.check_code(activity)
    with pytest.raises(NotFound):  # a forged code
        services.check_by_code(actor=user, activity_id=activity.pk, code="x" + code)
    with pytest.raises(Conflict):  # too early: the code opens an hour before the start
        services.check_by_code(actor=user, activity_id=activity.pk, code=code, now=activity.starts_at - 2 * H)
    services.check_by_code(actor=user, activity_id=activity.pk, code=code, now=activity.starts_at)
    signup = services.check_by_code(
        actor=user, activity_id=activity.pk, code=code, now=activity.starts_at + datetime.timedelta(minutes=155)
    )
    assert signup.hours == Decimal("2.6")  # 2 h 35 min, one decimal, half up
    assert selectors.volunteer_years(volunteer=volunteer) == []  # not confirmed: does not count yet

    with pytest.raises(Forbidden):  # the volunteer cannot confirm their own hours
        services.confirm_hours(actor=user, signup_id=signup.pk)
    services.set_hours(actor=staff, signup_id=signup.pk, hours=Decimal("3"))
    services.confirm_hours(actor=staff, signup_id=signup.pk)
    years = selectors.volunteer_years(volunteer=volunteer)
    assert [(y.year, y.hours, y.activities) for y in years] == [
        (timezone.localtime(activity.starts_at).year, Decimal("3.0"), 1)
    ]
    told = Message.objects.get(user=user, kind=services.HOURS_KIND)
    assert told.link == "/posts/volunteers/mine/"
    with pytest.raises(Conflict):  # confirmed hours are not edited afterwards
        services.set_hours(actor=staff, signup_id=signup.pk, hours=Decimal("5"))
    with pytest.raises(Conflict):
        services.confirm_hours(actor=staff, signup_id=signup.pk)


def test_capacity_and_ticked_attendance(setup, staff, tree):  # type: ignore[no-untyped-def]
    user, volunteer, activity = setup
    other_user, other = volunteer_user(tree, "李志愿")
    services.register_volunteer(actor=staff, person_id=other.pk)
    services.sign_up(actor=user, activity_id=activity.pk)
    with pytest.raises(Conflict):  # one place only
        services.sign_up(actor=other_user, activity_id=activity.pk)
    with pytest.raises(Conflict):  # unconfirmed hours cannot be confirmed without hours
        services.confirm_hours(actor=staff, signup_id=activity.signups.get().pk)
    signup = services.tick_attendance(actor=staff, signup_id=activity.signups.get().pk)
    assert signup.hours == Decimal("3.0") and signup.check_method == "ticked"
    services.confirm_hours(actor=staff, signup_id=signup.pk)
    assert selectors.volunteer_years(volunteer=volunteer)[0].hours == Decimal("3.0")


def test_not_a_volunteer_cannot_sign_up(setup, tree):  # type: ignore[no-untyped-def]
    _user, _volunteer, activity = setup
    stranger, _person = volunteer_user(tree, "王居民")
    with pytest.raises(Forbidden):
        services.sign_up(actor=stranger, activity_id=activity.pk)


def test_care_of_the_elderly_living_alone_counts_towards_the_care_plan(setup, staff, tree):  # type: ignore[no-untyped-def]
    _user, volunteer, activity = setup
    elder = make_person(tree.households[1], name="赵独居")
    PersonTag.objects.create(person=elder, tag="elderly_alone", since=datetime.date(2020, 1, 1))
    plan = CarePlan.objects.create(
        person=elder, every_days=7, starts=datetime.date(2026, 1, 1), next_due=datetime.date(2026, 1, 1)
    )
    today = timezone.localdate()
    services.record_served(
        actor=staff, person_id=elder.pk, activity_id=activity.pk, volunteer_id=volunteer.pk, served_on=today
    )
    plan.refresh_from_db()
    assert plan.last_visited == today and plan.next_due == today + datetime.timedelta(days=7)
    figures = selectors.volunteer_figures(user=staff, year=today.year, place_code=tree.communities[0].code)
    assert (figures.served, figures.served_alone) == (1, 1)


def test_reminder_once_per_sign_up(setup):  # type: ignore[no-untyped-def]
    user, _volunteer, activity = setup
    services.sign_up(actor=user, activity_id=activity.pk)
    assert services.send_reminders() == 1
    assert services.send_reminders() == 0  # told once
    assert Message.objects.filter(user=user, kind=services.REMINDER_KIND).count() == 1


def test_a_volunteer_may_claim_a_post_for_party_members_and_volunteers(setup, staff, tree):  # type: ignore[no-untyped-def]
    user, volunteer, _activity = setup
    from gongzhi.service.models import PostKind

    post = services.publish_post(
        actor=staff, kind_id=PostKind.objects.get(name="助老").pk, title="助老岗", area_id=tree.grids[0].pk,
        schedule="每周六", capacity=2, eligibility="volunteers",
    )  # fmt: skip
    party_only = services.publish_post(
        actor=staff, kind_id=PostKind.objects.get(name="助老").pk, title="党员岗", area_id=tree.grids[0].pk,
        schedule="每周六", capacity=2,
    )  # fmt: skip
    with pytest.raises(Forbidden):
        services.claim_post(actor=user, post_id=party_only.pk)
    assert services.claim_post(actor=user, post_id=post.pk).person == volunteer.person
