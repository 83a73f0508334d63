"""Repeat detection: the same parties (registry person, or an outsider's phone or ID number) had a dispute in the
year before → the repeat flag, pointing at the earlier one."""

from __future__ import annotations

import datetime

from django.utils import timezone

from gongzhi.disputes import services
from gongzhi.disputes.services import PartyIn
from gongzhi.disputes.tests.helpers import new_dispute
from gongzhi.registry.tests.factories import make_person

A = PartyIn(name="张三", phone="13812345678")
B = PartyIn(role="respondent", name="李四", id_number="210113199001011234")


def test_same_parties_within_a_year(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    first = new_dispute(w.worker, w, parties=[A, B], received_at=timezone.now() - datetime.timedelta(days=200))
    assert not first.is_repeat
    again = new_dispute(w.worker, w, parties=[PartyIn(name="张三（同一人）", phone="13812345678"),
                                           PartyIn(role="respondent", name="李四", id_number="210113199001011234")])
    assert again.is_repeat and again.repeat_of == first


def test_more_than_a_year_ago_is_not_a_repeat(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    new_dispute(w.worker, w, parties=[A, B], received_at=timezone.now() - datetime.timedelta(days=400))
    assert not new_dispute(w.worker, w, parties=[A, B]).is_repeat


def test_one_shared_party_is_not_the_same_parties(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    new_dispute(w.worker, w, parties=[A, B], received_at=timezone.now() - datetime.timedelta(days=30))
    other = new_dispute(w.worker, w, parties=[A, PartyIn(role="respondent", name="王五", phone="13700000000")])
    assert not other.is_repeat


def test_registry_people_and_a_party_added_later(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    home = w.tree.households[0]
    zhang, li = make_person(home, name="张三"), make_person(home, name="李四")
    new_dispute(w.worker, w, parties=[PartyIn(person_id=zhang.pk), PartyIn(role="respondent", person_id=li.pk)],
                received_at=timezone.now() - datetime.timedelta(days=10))  # fmt: skip
    later = new_dispute(w.worker, w, parties=[PartyIn(person_id=zhang.pk)])
    assert later.is_repeat  # its only identified party had a dispute: the same parties as far as known
    lone = new_dispute(w.worker, w, parties=[PartyIn(person_id=zhang.pk), PartyIn(name="赵六", phone="13600000000")])
    assert not lone.is_repeat
    services.add_party(actor=w.worker, dispute_id=lone.pk, role="respondent", person_id=li.pk)
    lone.refresh_from_db()
    assert lone.is_repeat
