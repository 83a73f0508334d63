"""Quorum; a decision → case lands on the right desk with the meeting linked, its steps move the decision and its
closure tells the topic's proposer; a task; the QR sign-in."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.cases import workflow
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.core.errors import Conflict, Forbidden
from gongzhi.meetings import services
from gongzhi.meetings.choices import DecisionStatus, TopicStatus, Track
from gongzhi.meetings.models import Attendance
from gongzhi.meetings.tests.conftest import at, decided, kind
from gongzhi.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_quorum_rule_rounds_up_and_blocks_holding(tree, staff) -> None:  # type: ignore[no-untyped-def]
    assert services.quorum_of(50, 7, 3).required == 4
    assert not services.quorum_of(50, 7, 3).met
    assert services.quorum_of(50, 7, 4).met
    assert services.quorum_of(0, 7, 0).met  # no rule
    council = services.plan_meeting(
        actor=staff, kind_id=kind("council").pk, title="阳光议事会", place_id=tree.communities[0].pk,
        starts_at=at(timezone.localdate()),
    )  # fmt: skip
    for name in ("甲", "乙", "丙", "丁"):
        Attendance.objects.create(meeting=council, name=name, member=True, invited=True)
    rows = list(council.attendance.all())
    services.tick(actor=staff, meeting_id=council.pk, present=True, attendance_id=rows[0].pk)
    with pytest.raises(Conflict):
        services.hold(actor=staff, meeting_id=council.pk)
    services.tick(actor=staff, meeting_id=council.pk, present=True, attendance_id=rows[1].pk)
    services.tick(actor=staff, meeting_id=council.pk, present=True, name="旁听居民")  # not a member: no count
    q = services.quorum(council)
    assert (q.required, q.present, q.members, q.met) == (2, 2, 4, True)
    assert services.hold(actor=staff, meeting_id=council.pk).status == "held"


def test_a_decision_becomes_a_case_on_the_right_desk_and_its_closure_tells_the_proposer(  # type: ignore[no-untyped-def]
    tree, staff, resident, night_talk
):
    topic = services.propose_topic(actor=resident, place_id=None, title="3号楼门前积水", description="下雨就积水")
    assert topic.place == tree.grids[0] and topic.proposed_by == resident
    decision = decided(staff, night_talk, topic)
    assert decision.item.topic.status == TopicStatus.DECIDED
    decision = services.track_as_case(
        actor=staff, decision_id=decision.pk, category_id=category().pk, handler_body_id=tree.committees[0].pk,
        due_on=timezone.localdate() + datetime.timedelta(days=10),
    )  # fmt: skip
    case = Case.objects.get(pk=decision.case_id)
    # The right desk: the grid's community owns it, the chosen body handles it; it came from the meeting.
    assert case.channel == "meeting" and case.channel_label == night_talk.title
    assert case.node == tree.grids[0] and case.owner_body == tree.committees[0]
    assert case.status == "dispatched" and case.handler_body == tree.committees[0]
    assert night_talk.title in case.description and f"/meetings/{night_talk.pk}/" in case.description
    assert list(case.meeting_decisions.all()) == [decision]  # linked both ways
    assert (decision.track, decision.status, decision.progress) == (Track.CASE, DecisionStatus.IN_PROGRESS, 20)
    told = Message.objects.filter(user=resident, kind=services.DECISION_KIND)
    assert told.count() == 1

    for action in ("acknowledge", "start", "dispose", "verify", "close"):
        workflow.perform(actor=staff, case_id=case.pk, action=action, note="按议定办理")
    decision.refresh_from_db()
    assert (decision.status, decision.progress) == (DecisionStatus.DONE, 100)
    assert decision.done_at is not None
    last = told.order_by("-id").first()
    assert last is not None and last.dedupe_key.endswith(":done:100:case")
    assert last.text["params"]["progress"] == 100 and last.link == f"/meetings/decisions/{decision.pk}/"
    assert told.count() >= 3  # dispatched, the steps between, done


def test_a_case_closed_without_the_listener_leaves_the_decision_behind(tree, staff, night_talk) -> None:  # type: ignore[no-untyped-def]
    """The listener is what moves the decision: taken away, the case closes and the decision stays where it was."""
    from gongzhi.cases import events

    decision = decided(staff, night_talk)
    decision = services.track_as_case(actor=staff, decision_id=decision.pk, category_id=category().pk)
    assert decision.status == DecisionStatus.OPEN
    events._listeners.remove(services.on_case_event)
    try:
        workflow.perform(actor=staff, case_id=decision.case_id, action="accept")
    finally:
        events.listen(services.on_case_event)
    decision.refresh_from_db()
    assert decision.progress == 0
    workflow.perform(actor=staff, case_id=decision.case_id, action="cancel", note="重复")
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.CANCELLED


def test_a_task_with_an_owner_and_its_progress(tree, staff, worker, night_talk) -> None:  # type: ignore[no-untyped-def]
    decision = decided(staff, night_talk, text="组织一次楼道清理")
    due = timezone.localdate() + datetime.timedelta(days=7)
    services.track_as_task(actor=staff, decision_id=decision.pk, owner_id=worker.pk, due_on=due)
    assert Message.objects.filter(user=worker, kind=services.DECISION_KIND).exists()
    services.report_task(actor=worker, decision_id=decision.pk, progress=40)
    decision.refresh_from_db()
    assert (decision.status, decision.progress) == (DecisionStatus.IN_PROGRESS, 40)
    services.report_task(actor=worker, decision_id=decision.pk, progress=100)
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.DONE and decision.done_at is not None
    with pytest.raises(Conflict):
        services.track_as_case(actor=staff, decision_id=decision.pk, category_id=category().pk)


def test_qr_sign_in_on_the_meeting_day_only(tree, staff, resident, night_talk) -> None:  # type: ignore[no-untyped-def]
    token = services.sign_in_token(night_talk)
    row = services.sign_in(actor=resident, token=token)
    assert row.present and row.how == "qr" and row.user == resident
    assert services.sign_in(actor=resident, token=token).pk == row.pk  # once
    with pytest.raises(Forbidden):
        services.sign_in(actor=resident, token=token + "x")
    with pytest.raises(Conflict):
        services.sign_in(actor=staff, token=token, now=night_talk.starts_at + datetime.timedelta(days=2))


def test_a_hearing_needs_its_public_notice_period(tree, staff) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.core.errors import ValidationFailed

    today = timezone.localdate()
    with pytest.raises(ValidationFailed):
        services.plan_meeting(actor=staff, kind_id=kind("hearing").pk, title="加装电梯听证会",
                              place_id=tree.communities[0].pk, starts_at=at(today + datetime.timedelta(days=3)),
                              notice="关于加装电梯的听证")  # fmt: skip
    hearing = services.plan_meeting(actor=staff, kind_id=kind("hearing").pk, title="加装电梯听证会",
                                    place_id=tree.communities[0].pk, starts_at=at(today + datetime.timedelta(days=8)),
                                    notice="关于加装电梯的听证")  # fmt: skip
    assert hearing.notice_from == today


def test_invitations_tell_each_invitee_once(tree, staff, worker, night_talk) -> None:  # type: ignore[no-untyped-def]
    assert services.invite(actor=staff, meeting_id=night_talk.pk, user_ids=[worker.pk]) == 1
    services.invite(actor=staff, meeting_id=night_talk.pk, user_ids=[worker.pk])
    assert Message.objects.filter(user=worker, kind=services.INVITED_KIND).count() == 1
    row = night_talk.attendance.get(user=worker)
    assert row.invited and row.member and not row.present
    assert services.quorum(night_talk).members == 1


def test_the_proposer_follows_the_decision_off_their_ground_others_get_a_404(  # type: ignore[no-untyped-def]
    client, tree, staff, resident, night_talk
):
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    council = services.plan_meeting(
        actor=staff, kind_id=kind("council").pk, title="社区议事会", place_id=tree.communities[0].pk,
        starts_at=at(timezone.localdate()),
    )  # fmt: skip
    topic = services.propose_topic(actor=resident, place_id=None, title="楼道灯不亮")
    decision = decided(staff, council, topic)
    from gongzhi.meetings.models import Decision

    assert not Decision.objects.restrict(resident, "view").filter(pk=decision.pk).exists()  # not their ground
    client.force_login(resident)
    page = client.get(f"/meetings/decisions/{decision.pk}/")
    assert page.status_code == 200 and decision.text in page.content.decode()
    stranger = user_with_role(Role.RESIDENT, node=tree.grids[3])
    client.force_login(stranger)
    assert client.get(f"/meetings/decisions/{decision.pk}/").status_code == 404
