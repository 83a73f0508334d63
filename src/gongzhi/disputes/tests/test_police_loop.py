"""The police loop: the station files a notice → it lands with the grid on a deadline → the grid visits and answers
(resolved, a dispute, a case, nothing) → the station sees the status and the feedback and is told."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.disputes import selectors, services
from gongzhi.disputes.models import Dispute, PoliceNotice
from gongzhi.disputes.services import PartyIn
from gongzhi.messaging.models import Message


def _file(w, **extra):  # type: ignore[no-untyped-def]
    data = {
        "title": "邻里因噪音发生口角", "ask": "请网格员上门回访，了解矛盾是否化解",
        "node_id": w.tree.households[0].pk, "people": "张三、李四", "people_phone": "13812345678",
        "due_at": timezone.now() + datetime.timedelta(days=2),
    }  # fmt: skip
    return services.file_police_notice(actor=w.police, **{**data, **extra})


def test_notice_visit_feedback_loop(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    notice = _file(w)
    assert (notice.status, notice.from_body, notice.node) == ("sent", w.tree.department, w.tree.households[0])
    # It lands with the grid and the community of the place (told), not with another grid.
    landed = set(Message.objects.filter(kind="police_notice.landed").values_list("user_id", flat=True))
    assert {w.worker.pk, w.staff.pk} <= landed and w.other_worker.pk not in landed
    assert list(selectors.notice_list(user=w.worker)) == [notice]
    assert list(selectors.notice_list(user=w.other_worker)) == []
    # The grid signs for it, visits, and answers: it became a dispute (mediation starts on site).
    services.receive_police_notice(actor=w.worker, notice_id=notice.pk)
    assert Message.objects.filter(user=w.police, kind="police_notice.received").exists()
    notice = services.answer_police_notice(
        actor=w.worker, notice_id=notice.pk, result="dispute", feedback="上门了解，双方同意调解",
        dispute_kind_id=w.kind.pk, parties=[PartyIn(name="张三", phone="13812345678"),
                                            PartyIn(role="respondent", name="李四")],
    )  # fmt: skip
    assert (notice.status, notice.result, notice.answered_by, notice.answered_on_time) == (
        "answered", "dispute", w.worker, True)  # fmt: skip
    dispute = Dispute.objects.get(source_notice=notice)
    assert (dispute.source, dispute.node, dispute.tier_kind) == ("police", notice.node, "on_site")
    # The station sees the status and the feedback of its notice, and was told.
    mine = selectors.notice_list(user=w.police, sent_by_me=True)
    assert [(n.status, n.feedback) for n in mine] == [("answered", "上门了解，双方同意调解")]
    assert Message.objects.filter(user=w.police, kind="police_notice.answered").exists()
    # …but not the dispute itself (not referred to it).
    assert not Dispute.objects.restrict(w.police).filter(pk=dispute.pk).exists()


def test_answered_as_a_case(world) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.cases.models import Case, Category

    w = world
    category = Category.objects.filter(parent__isnull=False).first() or Category.objects.create(code="9901",
                                                                                                   name="噪音")
    notice = _file(w)
    notice = services.answer_police_notice(actor=w.worker, notice_id=notice.pk, result="case", feedback="需城管处理",
                                           case_category_id=category.pk)  # fmt: skip
    case = Case.objects.get(pk=notice.case_id)
    assert case.channel == "police" and case.node_id == notice.node_id


@pytest.mark.parametrize("result", ["resolved", "nothing"])
def test_plain_answers(world, result: str) -> None:  # type: ignore[no-untyped-def]
    w = world
    notice = services.answer_police_notice(actor=w.worker, notice_id=_file(w).pk, result=result, feedback="已回访")
    assert (notice.status, notice.result) == ("answered", result)


def test_answer_needs_feedback_and_a_result(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    notice = _file(w)
    with pytest.raises(ValidationFailed):
        services.answer_police_notice(actor=w.worker, notice_id=notice.pk, result="resolved", feedback="")
    with pytest.raises(ValidationFailed):
        services.answer_police_notice(actor=w.worker, notice_id=notice.pk, result="maybe", feedback="x")


def test_only_the_grid_answers_and_only_the_sender_cancels(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    notice = _file(w)
    with pytest.raises(Forbidden):
        services.answer_police_notice(actor=w.police, notice_id=notice.pk, result="resolved", feedback="自己答")
    with pytest.raises(NotFound):
        services.answer_police_notice(actor=w.other_worker, notice_id=notice.pk, result="resolved", feedback="x")
    with pytest.raises(Forbidden):
        services.cancel_police_notice(actor=w.worker, notice_id=notice.pk, note="不是我们的")
    notice = services.cancel_police_notice(actor=w.police, notice_id=notice.pk, note="误报")
    assert notice.status == "cancelled"
    with pytest.raises(Conflict):
        services.answer_police_notice(actor=w.worker, notice_id=notice.pk, result="resolved", feedback="x")


def test_who_files(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    with pytest.raises(Forbidden):
        services.file_police_notice(actor=w.worker, title="x", ask="y", node_id=w.tree.grids[0].pk)
    with pytest.raises(ValidationFailed):
        _file(w, due_at=timezone.now() - datetime.timedelta(hours=1))


def test_the_station_sees_only_its_own_notices(world) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.territory.models import Body

    w = world
    other_station = Body.objects.create(name="另一派出所", kind="department", node=w.tree.subdistrict)
    other_police = user_with_role(Role.DEPARTMENT_HANDLER, body=other_station)
    notice = _file(w)
    assert not PoliceNotice.objects.restrict(other_police).filter(pk=notice.pk).exists()
    with pytest.raises(NotFound):
        selectors.notice_get(user=other_police, notice_id=notice.pk)


def test_on_time_and_overdue(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    late = _file(w)
    on_time = _file(w, title="另一起")
    services.answer_police_notice(actor=w.worker, notice_id=on_time.pk, result="resolved", feedback="已化解")
    later = timezone.now() + datetime.timedelta(days=3)
    assert list(selectors.notice_list(user=w.police, overdue=True, now=later)) == [late]
    figure = selectors.notices_on_time(user=w.police, now=later)
    assert (figure.value, figure.count, list(figure.queryset)) == (0.5, 1, [PoliceNotice.objects.get(pk=on_time.pk)])
    assert figure.denominator is not None and figure.denominator.count() == 2


def test_the_contact_phone_is_revealed_audited(world) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.core.models import AuditLog

    w = world
    notice = _file(w)
    assert services.reveal_notice_phone(actor=w.worker, notice_id=notice.pk) == "13812345678"
    assert AuditLog.objects.filter(action="disputes.police_notice.reveal", actor=w.worker).exists()
    with pytest.raises(NotFound):
        services.reveal_notice_phone(actor=w.other_worker, notice_id=notice.pk)
