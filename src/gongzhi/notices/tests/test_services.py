"""Sending notices once per household, de-duplication over overlapping bodies, reads and confirmations, statistics."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.notices import selectors, services
from gongzhi.notices.models import Notice, NoticeDelivery, NoticeSender
from gongzhi.registry.models import Person
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node
from gongzhi.territory.tests.factories import child

pytestmark = pytest.mark.django_db

TITLE = "关于本周六停水的通知"
BODY = "因管网维修，本周六 8:00-18:00 停水，请提前储水。"


def send(actor, area, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("title", TITLE)
    kwargs.setdefault("body", BODY)
    return services.deliver_notice(actor=actor, area_id=area.pk, **kwargs)


def delivered_households(notice: Notice) -> set[int]:
    return set(notice.deliveries.values_list("household_id", flat=True))


def assert_once_per_household() -> None:
    """No household holds two deliveries of the same text."""
    pairs = NoticeDelivery.objects.values_list("notice__fingerprint", "household_id")
    twice = [pair for pair, n in Counter(pairs).items() if n > 1]
    assert twice == []


# --- sending ------------------------------------------------------------------------------------------------------


def test_send_to_a_community_reaches_each_inhabited_household_once(ground, staff):  # type: ignore[no-untyped-def]
    result = send(staff, ground.tree.communities[0])
    notice = result.notice
    expected = {h.pk for h in ground.community_households(0)}
    assert delivered_households(notice) == expected
    assert notice.deliveries.count() == 6
    assert not set(notice.deliveries.values_list("household_id", flat=True)) & {h.pk for h in ground.empty}
    assert (result.joined, result.households, result.new_households, result.already_delivered) == (False, 6, 6, 0)
    assert notice.sender == staff and notice.sender_body == ground.tree.committees[0]
    assert notice.area == ground.tree.communities[0]
    tokens = list(notice.deliveries.values_list("token", flat=True))
    assert len(set(tokens)) == 6 and all(len(t) >= 20 for t in tokens)
    sender = NoticeSender.objects.get(notice=notice)
    assert (sender.user, sender.body, sender.area, sender.new_households) == (
        staff,
        ground.tree.committees[0],
        ground.tree.communities[0],
        6,
    )
    logs = AuditLog.objects.filter(action__startswith="notices.")
    assert logs.count() == 1, "one audit record per send, not one per household"
    log = logs.get()
    assert log.action == "notices.sent" and log.node_code == ground.tree.communities[0].code
    assert log.after["new_households"] == 6


def test_tag_group_reaches_only_households_with_the_tag_today(ground, staff):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0], tags=["elderly"]).notice
    assert delivered_households(notice) == {h.pk for h in ground.elderly[:2]}
    assert notice.tags == ["elderly"]


def test_send_refuses_bad_input(ground, staff):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        send(staff, ground.tree.communities[0], title=" ", body="", tags=["elderly", "astronaut"])
    fields = {d.field for d in exc.value.details}
    assert fields == {"title", "body", "tags[1]"}
    with pytest.raises(ValidationFailed) as exc:
        send(staff, ground.tree.communities[0], tags=["disabled"])
    assert exc.value.details[0].field == "tags", "nobody carries the tag: nothing to deliver"
    with pytest.raises(ValidationFailed) as exc:
        send(staff, ground.tree.communities[0], sender_body_id=ground.tree.committees[1].pk)
    assert exc.value.details[0].field == "sender_body_id"
    assert not Notice.objects.exists()


def test_who_the_notice_is_sent_for(ground, village_staff):  # type: ignore[no-untyped-def]
    tree = ground.tree
    leader = user_with_role(Role.GRID_LEADER, node=tree.grids[0])
    assert send(leader, tree.grids[0]).notice.sender_body == tree.committees[0], "the body leading their post"
    # Acting for two bodies, neither leading the place: they must say which.
    RoleAssignment.objects.create(user=village_staff, role=Role.COMMUNITY_STAFF, body=tree.committees[1])
    village_staff.forget_scope()
    with pytest.raises(ValidationFailed) as exc:
        send(village_staff, tree.communities[0], body="另一条通知")
    assert exc.value.details[0].field == "sender_body_id"
    result = send(village_staff, tree.communities[0], body="另一条通知", sender_body_id=ground.village.pk)
    assert result.notice.sender_body == ground.village


def test_send_needs_the_right_and_the_place_in_scope(ground, staff_b, worker, village_staff):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        send(staff_b, ground.tree.communities[0]), "another community's place is not even visible"
    with pytest.raises(Forbidden):
        send(worker, ground.tree.grids[0]), "grid workers confirm reading; they do not send"
    with pytest.raises(NotFound):
        send(village_staff, ground.tree.communities[1]), "the village co-covers community 0 only"
    mediator = user_with_role(Role.MEDIATOR, node=ground.tree.communities[0])
    with pytest.raises(Forbidden):
        send(mediator, ground.tree.communities[0])
    assert not Notice.objects.exists()


def test_bulk_delivery_to_many_households(ground, staff):  # type: ignore[no-untyped-def]
    building = ground.tree.buildings[0]
    households = Node.objects.bulk_create(
        Node(
            code=f"{building.code}{n:04d}",
            name=f"户{n}",
            kind=NodeKind.HOUSEHOLD,
            parent=building,
            lead_body=building.lead_body,
        )
        for n in range(10, 10 + 2300)
    )
    Person.objects.bulk_create(Person(name=f"住户{h.code[-4:]}", household=h) for h in households)
    result = send(staff, ground.tree.grids[0])
    assert result.new_households == 2303
    assert NoticeDelivery.objects.filter(notice=result.notice).count() == 2303
    assert NoticeDelivery.objects.values("token").distinct().count() == 2303


# --- once per household over overlapping bodies -----------------------------------------------------------------------


def test_village_committee_co_covering_the_ground_joins_the_community_notice(ground, staff, village_staff):  # type: ignore[no-untyped-def]
    first = send(staff, ground.tree.communities[0])
    # The village committee writes the same notice (spacing and full-width characters differ).
    second = send(
        village_staff, ground.tree.communities[0], title=f" {TITLE} ", body=BODY.replace(" ", "  ").replace(":", "：")
    )
    assert second.joined is True
    assert second.notice.pk == first.notice.pk
    assert Notice.objects.count() == 1
    assert (second.households, second.new_households, second.already_delivered) == (6, 0, 6)
    assert second.already_from == [ground.tree.committees[0].name]
    assert NoticeDelivery.objects.count() == 6
    assert_once_per_household()
    senders = list(NoticeSender.objects.filter(notice=first.notice).order_by("id"))
    assert [(s.user, s.body, s.new_households) for s in senders] == [
        (staff, ground.tree.committees[0], 6),
        (village_staff, ground.village, 0),
    ]
    log = AuditLog.objects.filter(action="notices.co_sent").get()
    assert log.actor == village_staff and log.after["already_delivered"] == 6


def test_village_send_to_one_grid_then_community_adds_only_the_rest(ground, staff, village_staff):  # type: ignore[no-untyped-def]
    first = send(village_staff, ground.tree.grids[0])
    assert first.new_households == 3
    second = send(staff, ground.tree.communities[0])
    assert second.joined and second.notice.pk == first.notice.pk
    assert (second.new_households, second.already_delivered) == (3, 3)
    assert second.already_from == [ground.village.name]
    assert delivered_households(second.notice) == {h.pk for h in ground.community_households(0)}
    second.notice.refresh_from_db()
    assert second.notice.area == ground.tree.communities[0], "the notice now covers the wider ground"
    assert_once_per_household()


def test_subdistrict_send_after_a_community_delivers_only_to_the_others(ground, staff, staff_b, operator):  # type: ignore[no-untyped-def]
    first = send(staff, ground.tree.communities[0])
    result = send(operator, ground.tree.subdistrict)
    assert result.joined and result.notice.pk == first.notice.pk
    assert (result.households, result.new_households, result.already_delivered) == (12, 6, 6)
    assert delivered_households(result.notice) == {h.pk for h in ground.all_households}
    assert_once_per_household()
    notice = Notice.objects.get()
    assert notice.area == ground.tree.subdistrict
    # Community 1 received it, so its staff see it (and only their households in the statistics).
    assert selectors.notice_get(user=staff_b, notice_id=notice.pk) == notice
    stats = selectors.delivery_stats(user=staff_b, notice=notice)
    assert stats.delivered == 6 and [c.code for c in stats.by_community] == [ground.tree.communities[1].code]
    # The community that sent first sends again (e.g. pressing send twice): nothing new.
    again = send(staff, ground.tree.communities[0])
    assert (again.joined, again.new_households, again.already_delivered) == (True, 0, 6)
    assert NoticeDelivery.objects.count() == 12
    assert notice.senders.count() == 3


def test_subdistrict_first_then_community_adds_new_residents_only(ground, staff, operator):  # type: ignore[no-untyped-def]
    first = send(operator, ground.tree.subdistrict)
    assert first.new_households == 12
    newcomer = child(ground.tree.buildings[0], NodeKind.HOUSEHOLD, 7, "1单元107")
    make_person(newcomer, name="新住户")
    second = send(staff, ground.tree.communities[0])
    assert second.joined and second.notice.pk == first.notice.pk
    assert (second.new_households, second.already_delivered) == (1, 6)
    assert Notice.objects.get().area == ground.tree.subdistrict, "the area never narrows"
    assert_once_per_household()


def test_tag_group_then_everyone_widens_the_notice(ground, staff, village_staff):  # type: ignore[no-untyped-def]
    first = send(staff, ground.tree.communities[0], tags=["elderly"])
    assert first.new_households == 2
    second = send(village_staff, ground.tree.communities[0])
    assert second.joined and (second.new_households, second.already_delivered) == (4, 2)
    second.notice.refresh_from_db()
    assert second.notice.tags == []
    assert_once_per_household()


def test_different_text_disjoint_ground_or_old_notice_is_a_new_notice(ground, staff, staff_b, village_staff):  # type: ignore[no-untyped-def]
    first = send(staff, ground.tree.communities[0])
    other_text = send(village_staff, ground.tree.communities[0], body=BODY + "另：周日恢复供水。")
    assert not other_text.joined and other_text.notice.pk != first.notice.pk
    disjoint = send(staff_b, ground.tree.communities[1])
    assert not disjoint.joined and disjoint.notice.pk != first.notice.pk
    # 31 days later the same text is news again.
    Notice.objects.filter(pk=first.notice.pk).update(published_at=timezone.now() - datetime.timedelta(days=31))
    Notice.objects.filter(pk=other_text.notice.pk).delete()
    later = send(village_staff, ground.tree.communities[0])
    assert not later.joined and later.new_households == 6


def test_explicit_join_with_other_words(ground, staff, village_staff):  # type: ignore[no-untyped-def]
    first = send(staff, ground.tree.grids[0])
    joined = send(
        village_staff, ground.tree.communities[0], title="停水", body="周六停水。", joins_notice_id=first.notice.pk
    )
    assert joined.joined and joined.notice.pk == first.notice.pk
    assert (joined.new_households, joined.already_delivered) == (3, 3)
    assert Notice.objects.get().title == TITLE, "the joined notice keeps its words"
    with pytest.raises(ValidationFailed) as exc:
        send(village_staff, ground.tree.communities[0], joins_notice_id=999999)
    assert exc.value.details[0].field == "joins_notice_id"


# --- reads ----------------------------------------------------------------------------------------------------------------


def test_read_link_marks_read_once(ground, staff):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0]).notice
    delivery = notice.deliveries.first()
    read = services.mark_read(token=delivery.token)
    first_at = read.read_at
    assert first_at is not None and read.read_via == "link" and read.confirmed_by is None
    again = services.mark_read(token=delivery.token)
    assert again.read_at == first_at
    assert AuditLog.objects.filter(action="notices.read").count() == 1
    with pytest.raises(NotFound):
        services.mark_read(token="no-such-token")
    assert NoticeDelivery.objects.filter(read_at__isnull=False).count() == 1


def test_grid_worker_confirms_in_person_on_their_grid_only(ground, staff, worker):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0]).notice
    mine = notice.deliveries.get(household=ground.inhabited[0][1])
    other = notice.deliveries.get(household=ground.inhabited[1][0])
    done = services.confirm_read(actor=worker, delivery_id=mine.pk, via="in_person")
    assert done.read_via == "in_person" and done.confirmed_by == worker and done.read_at is not None
    log = AuditLog.objects.get(action="notices.read_confirmed")
    assert log.actor == worker and log.node_code == ground.inhabited[0][1].code
    with pytest.raises(NotFound):
        services.confirm_read(actor=worker, delivery_id=other.pk, via="in_person")
    mediator = user_with_role(Role.MEDIATOR, node=ground.tree.communities[0])
    with pytest.raises(NotFound):
        services.confirm_read(actor=mediator, delivery_id=other.pk, via="phone")
    with pytest.raises(ValidationFailed):
        services.confirm_read(actor=worker, delivery_id=mine.pk, via="link")
    # Already read: kept as it was.
    services.mark_read(token=notice.deliveries.get(household=ground.inhabited[0][2]).token)
    kept = services.confirm_read(
        actor=worker, delivery_id=notice.deliveries.get(household=ground.inhabited[0][2]).pk, via="phone"
    )
    assert kept.read_via == "link" and kept.confirmed_by is None


# --- statistics and the unread list ---------------------------------------------------------------------------------


def test_stats_and_unread_arithmetic(ground, operator, worker, staff):  # type: ignore[no-untyped-def]
    notice = send(operator, ground.tree.subdistrict).notice
    by_household = {d.household_id: d for d in notice.deliveries.all()}
    services.mark_read(token=by_household[ground.inhabited[0][0].pk].token)
    services.mark_read(token=by_household[ground.inhabited[0][1].pk].token)
    services.confirm_read(actor=worker, delivery_id=by_household[ground.inhabited[0][2].pk].pk, via="phone")
    services.mark_read(token=by_household[ground.inhabited[3][0].pk].token)

    stats = selectors.delivery_stats(user=operator, notice=notice)
    assert (stats.delivered, stats.read, stats.unread, stats.percent_read) == (12, 4, 8, 33.3)
    assert stats.by_via == {"link": 3, "phone": 1}
    grids = {g.code: (g.delivered, g.read, g.unread, g.percent_read) for g in stats.by_grid}
    assert grids == {
        ground.tree.grids[0].code: (3, 3, 0, 100.0),
        ground.tree.grids[1].code: (3, 0, 3, 0.0),
        ground.tree.grids[2].code: (3, 0, 3, 0.0),
        ground.tree.grids[3].code: (3, 1, 2, 33.3),
    }
    assert [g.name for g in stats.by_grid] == [g.name for g in ground.tree.grids]
    communities = {c.code: (c.delivered, c.read, c.percent_read) for c in stats.by_community}
    assert communities == {
        ground.tree.communities[0].code: (6, 3, 50.0),
        ground.tree.communities[1].code: (6, 1, 16.7),
    }
    listed = selectors.notice_list(user=operator).get(pk=notice.pk)
    assert (listed.delivered_count, listed.read_count) == (12, 4)

    # On a smaller ground, the statistics and the unread list are that ground's.
    mine = selectors.delivery_stats(user=staff, notice=notice)
    assert (mine.delivered, mine.read, mine.percent_read) == (6, 3, 50.0)
    assert selectors.notice_list(user=staff).get(pk=notice.pk).delivered_count == 6
    unread = list(selectors.unread_list(user=staff, notice=notice))
    assert [d.household_id for d in unread] == [h.pk for h in ground.inhabited[1]]
    assert unread[0].grid_name == ground.tree.grids[1].name
    assert unread[0].community_name == ground.tree.communities[0].name
    assert unread[0].contact_name == "居民10"
    assert list(selectors.unread_list(user=worker, notice=notice)) == [], "the worker's grid has all read"
    everyone = selectors.unread_list(user=operator, notice=notice)
    assert everyone.count() == 8
    assert selectors.unread_list(user=operator, notice=notice, within_code=ground.tree.grids[3].code).count() == 2


def test_worker_deliveries_are_their_grid(ground, staff, worker):  # type: ignore[no-untyped-def]
    notice = send(staff, ground.tree.communities[0]).notice
    rows = list(selectors.worker_deliveries(user=worker))
    assert {d.household_id for d in rows} == {h.pk for h in ground.inhabited[0]}
    services.confirm_read(actor=worker, delivery_id=rows[0].pk, via="in_person")
    assert selectors.worker_deliveries(user=worker, notice_id=notice.pk).count() == 2
    assert selectors.worker_deliveries(user=worker, unread_only=False).count() == 3


def test_sendable_areas_follow_the_add_scope(ground, staff, village_staff, operator, worker):  # type: ignore[no-untyped-def]
    tree = ground.tree
    assert [n.pk for n in selectors.sendable_areas(user=staff)] == [
        tree.communities[0].pk,
        tree.grids[0].pk,
        tree.grids[1].pk,
    ]
    assert [n.pk for n in selectors.sendable_areas(user=village_staff)] == [
        tree.communities[0].pk,
        tree.grids[0].pk,
        tree.grids[1].pk,
    ]
    assert len(selectors.sendable_areas(user=operator)) == 7
    assert selectors.sendable_areas(user=worker) == []


# --- the households' contacts are told through messaging (issue 17) ---------------------------------------------


def test_each_households_contact_is_told_once_sms_or_inbox_with_the_read_link(ground, staff, village_staff):  # type: ignore[no-untyped-def]
    """A notice reaches each household's contact through messaging: by SMS to the phone of a resident without an
    account, in the inbox of one whose phone is an account's; the read link is the household's (opening it is the
    read receipt, as before); a contact of two households is told once; a co-sender tells nobody again."""
    from gongzhi.messaging.models import Delivery, Message

    households = ground.community_households(0)
    contact = {h.pk: Person.objects.filter(household=h).order_by("id").first() for h in households}
    # One person is the contact of two households (their phone first in both), one contact has an account.
    twice = contact[households[0].pk]
    Person.objects.filter(household=households[1]).update(is_active=False)
    contact[households[1].pk] = make_person(households[1], name="同号", phone=twice.phone)  # the same phone
    resident = user_with_role(Role.RESIDENT)
    resident.phone = contact[households[2].pk].phone
    resident.save(update_fields=["phone"])

    notice = send(staff, ground.tree.communities[0]).notice
    assert notice.deliveries.count() == 6  # the notice's own rows, one per household, as before
    sms = list(Delivery.objects.filter(kind="notice.new", channel="sms", message=None).order_by("address"))
    expected = sorted({contact[h.pk].phone for h in households} - {resident.phone})
    assert len(expected) == 4 and [d.address for d in sms] == expected  # the shared phone once; the account's own
    # The account holder: in the inbox (and by SMS, as their preferences say).
    assert Delivery.objects.filter(kind="notice.new", address=resident.phone, message__user=resident).count() == 1
    tokens = dict(notice.deliveries.values_list("household_id", "token"))
    first = next(d for d in sms if d.address == twice.phone)
    assert f"/notices/r/{tokens[households[0].pk]}/" in first.body and TITLE in first.body
    inbox = Message.objects.get(kind="notice.new")
    assert inbox.user == resident and inbox.link == f"/notices/r/{tokens[households[2].pk]}/"

    # The link is the read receipt, as before.
    services.mark_read(token=tokens[households[2].pk])
    assert notice.deliveries.get(household=households[2]).read_at is not None

    # The village co-sends the same notice to the same ground: nobody new, nobody told again.
    send(village_staff, ground.tree.communities[0], sender_body_id=ground.village.pk)
    assert Delivery.objects.filter(kind="notice.new").count() == len(sms) + 1
    assert Message.objects.filter(kind="notice.new").count() == 1
