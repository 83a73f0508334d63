"""The dispute's transition table, table-driven: every action from every state, allowed or refused; the ladder and
its escalations; red risk; who may act."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.errors import Conflict, Forbidden, ValidationFailed
from gongzhi.disputes import services, workflow
from gongzhi.disputes.models import Dispute, DisputeEvent, Escalation, FollowUp
from gongzhi.disputes.tests.helpers import PATHS, draft, new_dispute, walk
from gongzhi.messaging.models import Message

ACTIONS = sorted(workflow.MACHINE.transitions)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", list(PATHS))
def test_every_action_from_every_state(world, status: str, action: str) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.operator, new_dispute(w.operator, w), status)
    if status == "mediating" and action == "agree":
        draft(w.operator, d)
    t = workflow.MACHINE.transitions[action]
    if status in t.sources:
        done = workflow.perform(actor=w.operator, dispute_id=d.pk, action=action, note="理由")
        assert done.status == (t.target or status)
        event = DisputeEvent.objects.filter(dispute=d, action=action).latest("pk")
        assert (event.from_status, event.to_status) == (status, done.status)
    else:
        with pytest.raises(Conflict) as info:
            workflow.perform(actor=w.operator, dispute_id=d.pk, action=action, note="理由")
        assert f"current state: {status}" in str(info.value.details[0].message)
        d.refresh_from_db()
        assert d.status == status


def test_the_table_covers_the_statuses() -> None:
    from gongzhi.disputes.choices import Status

    reached = {t.target for t in workflow.MACHINE.transitions.values()} | {workflow.create_status()}
    assert reached == set(Status.values)
    assert set(PATHS) == set(Status.values)


@pytest.mark.parametrize("action", ["escalate", "fail", "withdraw", "reopen"])
def test_a_reason_is_required(world, action: str) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.operator, new_dispute(w.operator, w), "agreed" if action == "reopen" else "mediating")
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=w.operator, dispute_id=d.pk, action=action, note=" ")


def test_unknown_action(world) -> None:  # type: ignore[no-untyped-def]
    d = new_dispute(world.operator, world)
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=world.operator, dispute_id=d.pk, action="teleport")


def test_up_the_ladder_on_site_station_referral(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w)
    assert (d.tier, d.tier_kind, d.handler_node, d.handler_body) == (1, "on_site", w.tree.grids[0], None)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="start")
    d = workflow.perform(actor=w.worker, dispute_id=d.pk, action="escalate", note="现场调解未果")
    assert (d.status, d.tier, d.tier_kind, d.handler_body, d.station_body) == ("registered", 2, "station", w.team, w.team)
    # The grid no longer handles it: it may not take its steps any more; the team's mediator may.
    with pytest.raises(Forbidden):
        workflow.perform(actor=w.worker, dispute_id=d.pk, action="start")
    workflow.perform(actor=w.mediator, dispute_id=d.pk, action="start")
    with pytest.raises(ValidationFailed) as info:  # a referral names the body
        workflow.perform(actor=w.mediator, dispute_id=d.pk, action="escalate", note="调解不成")
    assert info.value.details[0].field == "body_id"
    d = workflow.perform(actor=w.mediator, dispute_id=d.pk, action="escalate", note="诉调对接",
                         payload={"body_id": w.court.pk, "referral_kind": "court"})  # fmt: skip
    assert (d.tier, d.tier_kind, d.handler_body, d.referral_kind) == (3, "referral", w.court, "court")
    steps = list(Escalation.objects.filter(dispute=d).values_list("from_tier", "to_tier", "reason"))
    assert steps == [(1, 2, "现场调解未果"), (2, 3, "诉调对接")]
    # The court's handler now handles it (it was passed to the court); the top tier has nothing above.
    workflow.perform(actor=w.judge, dispute_id=d.pk, action="start")
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=w.judge, dispute_id=d.pk, action="escalate", note="再上")
    d = services.draft_agreement(actor=w.judge, dispute_id=d.pk, terms=[{"text": "和解"}]).dispute
    d = workflow.perform(actor=w.judge, dispute_id=d.pk, action="agree")
    assert d.resolved_tier == 3


def test_the_default_ladder_without_configuration(tree) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.disputes import ladder

    tiers = ladder.tiers_of(tree.subdistrict.code)
    assert [(t.level, t.kind) for t in tiers] == [(1, "on_site"), (2, "station"), (3, "referral")]


def test_red_risk_starts_at_the_station_and_tells_the_subdistrict(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w, risk="red")
    assert (d.tier, d.tier_kind, d.handler_body) == (2, "station", w.team)
    told = set(Message.objects.filter(kind="dispute.red_risk").values_list("user_id", flat=True))
    assert w.operator.pk in told and w.mediator.pk in told
    assert Message.objects.get(kind="dispute.red_risk", user=w.operator).urgency == "A"


def test_turning_red_takes_it_to_the_station(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="start")
    d = services.set_risk(actor=w.worker, dispute_id=d.pk, risk="red", note="当事人扬言报复")
    assert (d.risk, d.tier_kind, d.status) == ("red", "station", "registered")
    esc = Escalation.objects.get(dispute=d)
    assert esc.automatic and esc.reason == "当事人扬言报复"
    assert Message.objects.filter(kind="dispute.red_risk", user=w.operator).exists()


def test_every_transition_tells_the_handlers(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.operator, w)
    services.assign_mediators(actor=w.operator, dispute_id=d.pk, user_ids=[w.mediator.pk])
    walk(w.operator, Dispute.objects.get(pk=d.pk), "closed")
    kinds = list(Message.objects.filter(user=w.mediator).values_list("kind", flat=True))
    assert kinds.count("dispute.changed") == 3  # start, agree, close
    assert "dispute.assigned" in kinds


@pytest.mark.parametrize("role", ["other_worker", "other_mediator", "police"])
def test_outsiders_may_not_act(world, role: str) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.core.errors import NotFound

    w = world
    d = new_dispute(w.worker, w)
    with pytest.raises((NotFound, Forbidden)):
        workflow.perform(actor=getattr(w, role), dispute_id=d.pk, action="start")
    assert Dispute.objects.get(pk=d.pk).status == "registered"


def test_an_assigned_mediator_acts_anywhere_on_the_ladder(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.worker, w)
    services.assign_mediators(actor=w.worker, dispute_id=d.pk, user_ids=[w.other_mediator.pk])
    assert workflow.perform(actor=w.other_mediator, dispute_id=d.pk, action="start").status == "mediating"


def test_agreement_then_follow_up(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.operator, new_dispute(w.operator, w), "agreed")
    follow = FollowUp.objects.get(dispute=d)
    agreement = d.agreements.get()
    assert follow.due_on == agreement.signed_on + __import__("datetime").timedelta(days=w.kind.follow_up_days)
    assert set(agreement.signed_by.values_list("name", flat=True)) == {"张三", "李四"}
    with pytest.raises(ValidationFailed):  # not performed needs a note (reopen)
        services.record_follow_up(actor=w.operator, dispute_id=d.pk, performance="not_performed")
    d = services.record_follow_up(actor=w.operator, dispute_id=d.pk, performance="not_performed", note="未赔偿")
    assert d.status == "mediating" and FollowUp.objects.get(pk=follow.pk).performance == "not_performed"


def test_agree_needs_a_drafted_agreement(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.operator, new_dispute(w.operator, w), "mediating")
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=w.operator, dispute_id=d.pk, action="agree")


def test_the_system_only_escalates(world) -> None:  # type: ignore[no-untyped-def]
    d = new_dispute(world.operator, world)
    with pytest.raises(Forbidden):
        workflow.perform(actor=None, dispute_id=d.pk, action="start")


def test_a_building_head_cannot_register(world) -> None:  # type: ignore[no-untyped-def]
    head = user_with_role(Role.BUILDING_HEAD, node=world.tree.buildings[0])
    with pytest.raises(Forbidden):
        new_dispute(head, world)


def test_follow_ups_due_are_told_once(world) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    w = world
    d = new_dispute(w.operator, w)
    services.assign_mediators(actor=w.operator, dispute_id=d.pk, user_ids=[w.mediator.pk])
    d = walk(w.operator, Dispute.objects.get(pk=d.pk), "agreed")
    due = FollowUp.objects.get(dispute=d).due_on
    assert services.remind_follow_ups(today=due - dt.timedelta(days=1)) == 0
    assert services.remind_follow_ups(today=due) == 1
    services.remind_follow_ups(today=due)
    assert Message.objects.filter(user=w.mediator, kind="dispute.follow_up").count() == 1


def test_replay_history_walks_the_table(world) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from gongzhi.disputes.models import PoliceNotice

    w = world
    at = timezone.now() - dt.timedelta(days=100)
    d = Dispute(kind=w.kind, summary="历史纠纷", node=w.tree.households[0], received_at=at)
    events = workflow.replay_history(d, [("start", at, "调解员", ""), ("agree", at, "调解员", "签订")])
    assert d.status == "agreed" and [e.action for e in events] == ["register", "start", "agree"]
    assert [(e.from_status, e.to_status) for e in events[1:]] == [("registered", "mediating"), ("mediating", "agreed")]
    with pytest.raises(Conflict):
        workflow.replay_history(Dispute(kind=w.kind, received_at=at), [("close", at, "x", "")])
    notice = PoliceNotice()
    workflow.replay_notice(notice, ["receive", "answer"])
    assert notice.status == "answered"


def test_a_mediator_registers_a_walk_in_at_the_station(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = new_dispute(w.mediator, w, start_at="station")
    assert (d.tier, d.tier_kind, d.handler_body) == (2, "station", w.team)
    assert list(d.mediators.all()) == [w.mediator]
    assert workflow.perform(actor=w.mediator, dispute_id=d.pk, action="start").status == "mediating"
    other = new_dispute(w.other_mediator, w, node=w.tree.households[3])  # a community's mediator, on site: they mediate what they took in
    assert Dispute.objects.restrict(w.other_mediator).filter(pk=other.pk).exists()
