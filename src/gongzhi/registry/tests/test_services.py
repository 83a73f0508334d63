"""Registry services: validation, scope, history on moving house, tags, audited reveal."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.registry import services
from gongzhi.registry.choices import TagKind
from gongzhi.registry.models import Person, PersonTag, Residence
from gongzhi.registry.tests.factories import make_id_number, make_person

pytestmark = pytest.mark.django_db

ID = make_id_number("210113", "19850615", "123")  # 17th digit 3: male


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


@pytest.fixture
def leader(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_LEADER, node=tree.grids[0])


def _fields(exc: pytest.ExceptionInfo) -> set[str]:  # type: ignore[type-arg]
    return {d["field"] for d in exc.value.as_dict()["error"]["details"]}


def test_create_derives_sex_and_birth_date_and_opens_a_residence(tree, worker):  # type: ignore[no-untyped-def]
    person = services.create_person(
        actor=worker, name=" 王五 ", household_id=tree.households[0].pk, id_number=ID.lower(), phone="13912345678"
    )
    assert person.name == "王五" and person.id_number == ID
    assert person.sex == "male" and person.birth_date == datetime.date(1985, 6, 15)
    residence = Residence.objects.get(person=person)
    assert residence.household == tree.households[0] and residence.moved_out is None
    log = AuditLog.objects.get(action="registry.person_created", object_id=str(person.pk))
    assert log.node_code == tree.households[0].code
    assert ID not in str(log.after) and "13912345678" not in str(log.after)
    assert log.after["phone"] == "139****5678"


def test_create_refuses_bad_data_with_field_errors(tree, worker):  # type: ignore[no-untyped-def]
    bad_check = ID[:17] + ("0" if ID[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as caught:
        services.create_person(
            actor=worker, name=" ", household_id=tree.households[0].pk, id_number=bad_check, phone="abc"
        )
    assert _fields(caught) == {"name", "id_number", "phone"}
    with pytest.raises(ValidationFailed) as caught:
        services.create_person(
            actor=worker, name="李四", household_id=tree.households[0].pk, id_number=ID, sex="female"
        )
    assert _fields(caught) == {"sex"}
    assert not Person.objects.exists()


def test_an_id_number_is_registered_once(tree, worker):  # type: ignore[no-untyped-def]
    services.create_person(actor=worker, name="甲", household_id=tree.households[0].pk, id_number=ID)
    with pytest.raises(Conflict):
        services.create_person(actor=worker, name="乙", household_id=tree.households[0].pk, id_number=ID)


def test_create_needs_a_household_in_scope_with_the_add_right(tree, other_tree, worker):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        services.create_person(actor=worker, name="甲", household_id=other_tree.households[0].pk)
    with pytest.raises(NotFound):  # the neighbouring grid is not the worker's
        services.create_person(actor=worker, name="甲", household_id=tree.households[1].pk)
    with pytest.raises(ValidationFailed) as caught:
        services.create_person(actor=worker, name="甲", household_id=tree.buildings[0].pk)
    assert _fields(caught) == {"household_id"}
    with pytest.raises(ValidationFailed):
        services.create_person(actor=worker, name="甲")
    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0])
    with pytest.raises(Forbidden):
        services.create_person(actor=head, name="甲", household_id=tree.households[0].pk)
    assert not Person.objects.exists()


def test_move_keeps_the_history(tree):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0])
    person = make_person(tree.households[0])
    moved = services.move_person(
        actor=staff, person_id=person.pk, household_id=tree.households[1].pk, moved_on=datetime.date(2024, 3, 1),
        note="换房",
    )
    assert moved.household == tree.households[1]
    rows = list(Residence.objects.filter(person=person).order_by("moved_in"))
    assert [(r.household_id, r.moved_in, r.moved_out) for r in rows] == [
        (tree.households[0].pk, datetime.date(2020, 1, 1), datetime.date(2024, 3, 1)),
        (tree.households[1].pk, datetime.date(2024, 3, 1), None),
    ]
    log = AuditLog.objects.get(action="registry.person_moved")
    assert log.before["household"] == tree.households[0].pk and log.after["household"] == tree.households[1].pk


def test_move_refuses_bad_targets_and_dates(tree, other_tree, worker):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0])
    with pytest.raises(NotFound):
        services.move_person(actor=worker, person_id=person.pk, household_id=other_tree.households[0].pk)
    with pytest.raises(ValidationFailed):
        services.move_person(actor=worker, person_id=person.pk, household_id=tree.households[0].pk)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0])
    with pytest.raises(ValidationFailed) as caught:
        services.move_person(
            actor=staff, person_id=person.pk, household_id=tree.households[1].pk, moved_on=datetime.date(2019, 1, 1)
        )
    assert _fields(caught) == {"moved_on"}
    assert Residence.objects.filter(person=person).count() == 1


def test_move_is_one_transaction(tree, monkeypatch):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0])
    person = make_person(tree.households[0])

    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit down")

    monkeypatch.setattr(services.audit, "record", boom)
    with pytest.raises(RuntimeError):
        services.move_person(actor=staff, person_id=person.pk, household_id=tree.households[1].pk)
    person.refresh_from_db()
    assert person.household == tree.households[0]
    assert list(Residence.objects.filter(person=person).values_list("household_id", "moved_out")) == [
        (tree.households[0].pk, None)
    ]


def test_only_one_open_residence_per_person(tree):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Residence.objects.create(person=person, household=tree.households[1], moved_in=datetime.date(2024, 1, 1))


def test_update_checks_fields_and_rederives_from_the_id_number(tree, worker):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0], sex="female")
    new_id = make_id_number("210113", "19700101", "135")
    updated = services.update_person(actor=worker, person_id=person.pk, id_number=new_id, room="101")
    assert updated.id_number == new_id and updated.sex == "male" and updated.birth_date == datetime.date(1970, 1, 1)
    assert updated.room == "101"
    with pytest.raises(ValidationFailed) as caught:
        services.update_person(actor=worker, person_id=person.pk, id_number="123", population_type="alien")
    assert _fields(caught) == {"id_number", "population_type"}
    head = user_with_role(Role.BUILDING_HEAD, node=tree.buildings[0])
    with pytest.raises(Forbidden):
        services.update_person(actor=head, person_id=person.pk, room="102")
    log = AuditLog.objects.get(action="registry.person_updated")
    assert new_id not in str(log.after) and log.after["room"] == "101"


def test_tags_have_dates_and_end_as_history(tree, worker):  # type: ignore[no-untyped-def]
    person = make_person(tree.households[0])
    tag = services.tag_person(actor=worker, person_id=person.pk, tag=TagKind.ELDERLY_ALONE,
                              since=datetime.date(2024, 1, 1))
    with pytest.raises(Conflict):
        services.tag_person(actor=worker, person_id=person.pk, tag=TagKind.ELDERLY_ALONE)
    with pytest.raises(ValidationFailed) as caught:
        services.tag_person(actor=worker, person_id=person.pk, tag=TagKind.OTHER)
    assert _fields(caught) == {"label"}
    other = services.tag_person(actor=worker, person_id=person.pk, tag=TagKind.OTHER, label="退役军人")
    assert other.label == "退役军人"
    ended = services.untag_person(actor=worker, tag_id=tag.pk, until=datetime.date(2024, 6, 30))
    assert ended.until == datetime.date(2024, 6, 30)
    assert PersonTag.objects.filter(person=person).count() == 2
    with pytest.raises(Conflict):
        services.untag_person(actor=worker, tag_id=tag.pk)
    assert AuditLog.objects.filter(action__in=["registry.person_tagged", "registry.person_untagged"]).count() == 3


def test_reveal_only_in_scope_with_the_right_and_audited(tree, other_tree, leader, worker):  # type: ignore[no-untyped-def]
    mine = make_person(tree.households[0], phone="13812345678")
    theirs = make_person(other_tree.households[0], phone="13887654321")
    assert services.reveal_person_field(actor=leader, person_id=mine.pk, field="phone") == "13812345678"
    assert services.reveal_person_field(actor=leader, person_id=mine.pk, field="id_number") == mine.id_number
    logs = AuditLog.objects.filter(action="privacy.reveal", object_id=str(mine.pk))
    assert sorted(log.note for log in logs) == ["field=id_number", "field=phone"]
    assert all(log.actor == leader and log.node_code == tree.households[0].code for log in logs)
    with pytest.raises(NotFound):
        services.reveal_person_field(actor=leader, person_id=theirs.pk, field="phone")
    with pytest.raises(Forbidden):  # grid workers see people masked, but may not reveal
        services.reveal_person_field(actor=worker, person_id=mine.pk, field="phone")
    with pytest.raises(ValidationFailed):
        services.reveal_person_field(actor=leader, person_id=mine.pk, field="name")
    assert AuditLog.objects.filter(action="privacy.reveal").count() == 2
