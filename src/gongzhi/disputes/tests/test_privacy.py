"""Disputes are sensitive: the dispute is seen on its ground, by its handlers and its mediators; its parties and
agreements only by the assigned mediators, the handling grid or body and the subdistrict; the sessions' private
notes only by the assigned mediators and the station. Elsewhere 404 (or only a count), contacts always masked."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.core.errors import Forbidden, NotFound
from gongzhi.core.models import AuditLog
from gongzhi.disputes import selectors, services, workflow
from gongzhi.disputes.models import Agreement, Dispute, Party, SessionNote
from gongzhi.disputes.tests.helpers import draft, new_dispute


def _session(actor, d, **extra):  # type: ignore[no-untyped-def]
    return services.record_session(
        actor=actor, dispute_id=d.pk, held_at=timezone.now(), mode="separate", where="综治站调解室",
        attendee_ids=list(d.parties.values_list("pk", flat=True)), summary="分别听取双方意见",
        result="progress", private_notes="李四私下表示愿意赔偿一半", **extra,
    )  # fmt: skip


def _at_station(w):  # type: ignore[no-untyped-def]
    d = new_dispute(w.worker, w)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="escalate", note="现场调解未果")
    services.assign_mediators(actor=w.operator, dispute_id=d.pk, user_ids=[w.mediator.pk])
    return Dispute.objects.get(pk=d.pk)


def test_who_sees_the_dispute(world, other_tree) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    w = world
    d = new_dispute(w.worker, w)
    stranger = user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict)
    seen = {name: Dispute.objects.restrict(getattr(w, name)).filter(pk=d.pk).exists()
            for name in ("operator", "staff", "worker", "other_worker", "mediator", "other_mediator", "police", "judge")}
    assert seen == {"operator": True, "staff": True, "worker": True, "other_worker": False, "mediator": False,
                    "other_mediator": False, "police": False, "judge": False}  # fmt: skip
    with pytest.raises(NotFound):
        selectors.dispute_get(user=stranger, dispute_id=d.pk)
    with pytest.raises(NotFound):
        selectors.dispute_get(user=w.other_worker, dispute_id=d.pk)


def test_parties_only_for_the_handling_circle(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)  # the station (the team) handles it now; the grid does not
    for name, expected in (("operator", True), ("mediator", True), ("staff", False), ("worker", False),
                           ("other_mediator", False)):  # fmt: skip
        user = getattr(w, name)
        if not Dispute.objects.restrict(user).filter(pk=d.pk).exists():
            assert not expected
            continue
        parties = selectors.parties_of(user=user, dispute=d)
        assert (parties.visible, parties.count) == (expected, 2), name
        if expected:
            shown = {p.name: p for p in parties.parties}
            assert shown["张三"].phone == "138****5678" and shown["张三"].id_number == "2101**********1234"
        else:
            assert parties.parties == []
            party = Party.objects.filter(dispute=d).first()
            with pytest.raises(NotFound):
                selectors.party_get(user=user, party_id=party.pk)


def test_on_site_the_grid_sees_its_parties(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w)
    assert selectors.parties_of(user=w.worker, dispute=d).visible
    assert selectors.parties_of(user=w.staff, dispute=d).visible  # the community over the handling grid
    assert selectors.parties_of(user=w.operator, dispute=d).visible  # the subdistrict


def test_private_notes_only_for_the_mediators_and_the_station(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    _session(w.mediator, d)
    note = SessionNote.objects.get()
    for name, expected in (("mediator", True), ("operator", True), ("worker", False), ("staff", False)):
        user = getattr(w, name)
        assert SessionNote.objects.restrict(user).filter(pk=note.pk).exists() == expected, name
        if Dispute.objects.restrict(user).filter(pk=d.pk).exists():
            (view,) = selectors.sessions_of(user=user, dispute=d)
            assert view.notes_visible == expected
            assert (view.notes == "李四私下表示愿意赔偿一半") == expected
            assert view.session.mode == "separate"  # the session itself is part of the record


def test_on_site_the_grid_does_not_read_the_notes(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w)
    _session(w.worker, d)
    (view,) = selectors.sessions_of(user=w.staff, dispute=d)
    assert view.notes is None and not view.notes_visible
    # The grid worker who held the session is one of its mediators: they read their own notes.
    (mine,) = selectors.sessions_of(user=w.worker, dispute=d)
    assert mine.notes == "李四私下表示愿意赔偿一半"


def test_a_referred_body_sees_what_was_referred_to_it(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    assert not Dispute.objects.restrict(w.judge).filter(pk=d.pk).exists()
    workflow.perform(actor=w.mediator, dispute_id=d.pk, action="escalate", note="诉调对接",
                     payload={"body_id": w.court.pk, "referral_kind": "court"})  # fmt: skip
    assert Dispute.objects.restrict(w.judge).filter(pk=d.pk).exists()
    assert selectors.parties_of(user=w.judge, dispute=d).visible


def test_reveal_is_audited_and_for_the_circle(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    party = d.parties.get(name="张三")
    assert services.reveal_party(actor=w.mediator, party_id=party.pk) == {
        "phone": "13812345678", "id_number": "210113199001011234"}  # fmt: skip
    assert AuditLog.objects.filter(action="disputes.reveal_party", actor=w.mediator).exists()
    with pytest.raises(NotFound):
        services.reveal_party(actor=w.worker, party_id=party.pk)


def test_agreements_are_for_the_circle(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    workflow.perform(actor=w.mediator, dispute_id=d.pk, action="start")
    agreement = draft(w.mediator, d)
    assert Agreement.objects.restrict(w.mediator).filter(pk=agreement.pk).exists()
    assert not Agreement.objects.restrict(w.staff).filter(pk=agreement.pk).exists()
    with pytest.raises(NotFound):
        services.agreement_document(actor=w.staff, agreement_id=agreement.pk)


def test_writes_are_for_the_handlers(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    with pytest.raises(Forbidden):  # the grid sees it (its ground) but no longer handles it
        services.add_party(actor=w.worker, dispute_id=d.pk, role="other", name="王五")
    with pytest.raises(Forbidden):
        _session(w.worker, d)


def test_session_mediators_are_assigned(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    _session(w.mediator, d, mediator_ids=[w.mediator.pk, w.other_mediator.pk])
    assert selectors.parties_of(user=w.other_mediator, dispute=d).visible
    assert d.sessions.get().held_at <= timezone.now() + datetime.timedelta(seconds=1)
