"""Inspections: checklists, plans generating rounds (idempotent), submissions (client keys), hazards, re-checks,
hazard → case, figures = drill-down, notifications."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.cases.models import Case
from gongzhi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gongzhi.inspections import selectors, services
from gongzhi.inspections.choices import AssignTo, HazardStatus, PlaceKind, Severity
from gongzhi.inspections.models import Checklist, ChecklistItem, Hazard, Round
from gongzhi.messaging.models import Message

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200


def _photo(name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def _answers(round_: Round, fail: dict[int, str] | None = None) -> list[dict[str, object]]:
    fail = fail or {}
    items = ChecklistItem.objects.filter(checklist=round_.checklist, is_active=True).order_by("position")
    return [
        {"item": i.pk, "result": "fail" if i.position in fail else "pass", "note": "", "severity": fail.get(i.position)}
        for i in items
    ]


def _round_of(tree, ground, *, assign_to=AssignTo.GRID_WORKER):  # type: ignore[no-untyped-def]
    plan = services.create_plan(
        actor=ground["staff"],
        area_id=tree.communities[0].pk,
        kind=PlaceKind.RESIDENTIAL,
        every_months=1,
        assign_to=assign_to,
    )
    return plan, Round.objects.get(plan=plan, building=tree.buildings[0])


def test_default_checklists_for_every_kind_and_only_the_subdistrict_edits(tree, ground):  # type: ignore[no-untyped-def]
    kinds = set(Checklist.objects.filter(area=tree.subdistrict).values_list("kind", flat=True))
    assert kinds == set(PlaceKind.values)
    assert services.ensure_checklists(actor=ground["operator"], subdistrict_id=tree.subdistrict.pk) == []
    residential = Checklist.objects.get(area=tree.subdistrict, kind=PlaceKind.RESIDENTIAL)
    item = residential.items.get(position=1)
    assert "消防" in item.basis and item.photo_required
    changed = services.save_item(
        actor=ground["operator"],
        checklist_id=residential.pk,
        item_id=item.pk,
        question="消防通道是否畅通",
        basis=item.basis,
        photo_required=False,
        severity=Severity.MAJOR,
    )
    assert changed.question == "消防通道是否畅通" and not changed.photo_required
    with pytest.raises(Forbidden):  # the community reads, the subdistrict edits
        services.save_item(actor=ground["staff"], checklist_id=residential.pk, question="新问题")
    with pytest.raises(ValidationFailed):
        services.save_item(actor=ground["operator"], checklist_id=residential.pk, question=" ")


def test_plan_generates_one_round_per_building_and_period_idempotently(tree, ground):  # type: ignore[no-untyped-def]
    plan, first = _round_of(tree, ground)
    rounds = Round.objects.filter(plan=plan)
    assert sorted(rounds.values_list("building_id", flat=True)) == sorted(b.pk for b in tree.buildings[:2])
    assert first.assignee_id == ground["worker"].pk
    today = timezone.localdate()
    assert first.period_start == today.replace(day=1) and first.due == services.month_end(today)
    assert services.generate_rounds(actor=None) == 0
    assert services.generate_rounds(actor=None, plan_id=plan.pk) == 0
    assert rounds.count() == 2
    next_month = services.month_end(today) + datetime.timedelta(days=1)
    assert services.generate_rounds(actor=None, today=next_month) == 2
    assert services.generate_rounds(actor=None, today=next_month) == 0
    # Told once per plan and period, not once per building or per run.
    assert Message.objects.filter(user=ground["worker"], kind="inspections.assigned").count() == 2


def test_quarterly_shop_plan_covers_only_shops_and_building_heads_get_theirs(tree, ground):  # type: ignore[no-untyped-def]
    services.set_site(actor=ground["staff"], building_id=tree.buildings[1].pk, kind=PlaceKind.SHOP, responsible="店主")
    shops = services.create_plan(
        actor=ground["staff"],
        area_id=tree.communities[0].pk,
        kind=PlaceKind.SHOP,
        every_months=3,
        starts=datetime.date(2026, 1, 15),
    )
    assert list(Round.objects.filter(plan=shops).values_list("building_id", flat=True)) == [tree.buildings[1].pk]
    r = Round.objects.get(plan=shops)
    assert r.checklist.kind == PlaceKind.SHOP and (r.due.month - r.period_start.month) == 2
    homes, mine = _round_of(tree, ground, assign_to=AssignTo.BUILDING_HEAD)
    assert Round.objects.filter(plan=homes).count() == 1  # the shop is not residential any more
    assert mine.assignee_id == ground["head"].pk


def test_plan_scope_and_validation(tree, other_tree, ground):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        services.create_plan(
            actor=ground["staff"], area_id=other_tree.communities[0].pk, kind="residential", every_months=1
        )
    with pytest.raises(Forbidden):  # a grid worker does rounds, the community plans them
        services.create_plan(actor=ground["worker"], area_id=tree.grids[0].pk, kind="residential", every_months=1)
    with pytest.raises(ValidationFailed) as exc:
        services.create_plan(actor=ground["staff"], area_id=tree.communities[0].pk, kind="castle", every_months=13)
    assert {d.field for d in exc.value.details} == {"kind", "every_months"}


def test_round_answers_make_hazards_and_a_serious_one_a_case_linked_both_ways(tree, ground):  # type: ignore[no-untyped-def]
    _plan, round_ = _round_of(tree, ground)
    worker = ground["worker"]
    photo_item = ChecklistItem.objects.get(checklist=round_.checklist, position=1)
    with pytest.raises(ValidationFailed) as exc:  # item 1 failed needs a photo; every item needs an answer
        services.submit_round(actor=worker, round_id=round_.pk, answers=_answers(round_, {1: "major"})[:-1])
    assert {d.field for d in exc.value.details} == {"answers", "photos"}
    done = services.submit_round(
        actor=worker,
        round_id=round_.pk,
        answers=_answers(round_, {1: "major", 4: "serious"}),
        note="楼道堆物较多",
        photos=[services.Photo(photo_item.pk, _photo())],
    )
    assert done.done_at is not None and done.failed == 2 and done.photos.count() == 1
    hazards = {h.item.position: h for h in Hazard.objects.filter(round=done)}
    assert set(hazards) == {1, 4}
    assert hazards[1].severity == Severity.MAJOR and hazards[1].case is None
    assert hazards[1].deadline == timezone.localdate() + datetime.timedelta(days=3)
    serious = hazards[4]
    assert serious.case is not None
    case = Case.objects.get(pk=serious.case_id)
    assert case.node_id == tree.buildings[0].pk and case.title == serious.title
    assert [h.pk for h in selectors.hazards_of_case(user=ground["staff"], case_id=case.pk)] == [serious.pk]
    with pytest.raises(Conflict):
        services.submit_round(actor=worker, round_id=round_.pk, answers=_answers(round_))
    with pytest.raises(Conflict):
        services.hazard_to_case(actor=worker, hazard_id=serious.pk)
    hazards[1].refresh_from_db()
    turned = services.hazard_to_case(actor=ground["staff"], hazard_id=hazards[1].pk)
    assert turned.case is not None and turned.case.hazards.get() == turned


def test_replaying_a_submission_with_its_client_key_makes_one(tree, ground):  # type: ignore[no-untyped-def]
    _plan, round_ = _round_of(tree, ground)
    answers = _answers(round_, {2: "major"})
    item2 = ChecklistItem.objects.get(checklist=round_.checklist, position=2)
    first = services.submit_round(
        actor=ground["worker"],
        round_id=round_.pk,
        answers=answers,
        client_key="k-1",
        photos=[services.Photo(item2.pk, _photo())],
    )
    for _ in range(9):
        again = services.submit_round(
            actor=ground["worker"],
            round_id=round_.pk,
            answers=answers,
            client_key="k-1",
            photos=[services.Photo(item2.pk, _photo())],
        )
        assert again.pk == first.pk and again.done_at == first.done_at
    assert Hazard.objects.filter(round=round_).count() == 1
    assert round_.photos.count() == 1
    # The key names one submission: the same person using it for another round is refused.
    staff = ground["staff"]
    other = Round.objects.exclude(pk=round_.pk).get(plan=round_.plan)
    services.submit_round(actor=staff, round_id=other.pk, answers=_answers(other), client_key="k-1")  # another person
    third = Round.objects.create(
        plan=round_.plan,
        checklist=round_.checklist,
        building=tree.buildings[1],
        period_start=datetime.date(2020, 1, 1),
        due=datetime.date(2020, 1, 31),
    )
    with pytest.raises(Conflict):
        services.submit_round(actor=staff, round_id=third.pk, answers=_answers(third), client_key="k-1")


def test_recheck_closes_or_escalates_to_a_case(tree, ground):  # type: ignore[no-untyped-def]
    _plan, round_ = _round_of(tree, ground)
    services.submit_round(
        actor=ground["worker"], round_id=round_.pk, answers=_answers(round_, {7: "minor", 8: "major"})
    )
    minor = Hazard.objects.get(round=round_, item__position=7)
    major = Hazard.objects.get(round=round_, item__position=8)
    with pytest.raises(ValidationFailed):
        services.recheck_hazard(actor=ground["head"], hazard_id=minor.pk, rectified=False)
    closed = services.recheck_hazard(actor=ground["head"], hazard_id=minor.pk, rectified=True, note="已更换")
    assert closed.status == HazardStatus.CLOSED and closed.rectified_on_time is True
    with pytest.raises(Conflict):
        services.recheck_hazard(actor=ground["head"], hazard_id=minor.pk, rectified=True)
    escalated = services.recheck_hazard(actor=ground["worker"], hazard_id=major.pk, rectified=False, note="仍未整改")
    assert escalated.severity == Severity.SERIOUS and escalated.escalations == 1 and escalated.case is not None
    assert [c.rectified for c in selectors.hazard_checks(user=ground["staff"], hazard=escalated)] == [False]


def test_figures_equal_their_records(tree, ground):  # type: ignore[no-untyped-def]
    _plan, round_ = _round_of(tree, ground)
    today = timezone.localdate()
    services.submit_round(
        actor=ground["worker"], round_id=round_.pk, answers=_answers(round_, {7: "minor", 8: "minor"})
    )
    services.recheck_hazard(actor=ground["worker"], hazard_id=Hazard.objects.get(item__position=7).pk, rectified=True)
    # An earlier hazard of item 8 on the same building: this month's is a repeat. Another round is overdue.
    item8 = Hazard.objects.get(item__position=8)
    Hazard.objects.create(
        building=item8.building,
        item=item8.item,
        title=item8.title,
        found_at=item8.found_at - datetime.timedelta(days=40),
        first_deadline=today,
        deadline=today,
        status="closed",
    )
    Round.objects.exclude(pk=round_.pk).update(due=today.replace(day=1))
    period = selectors.month_period(None)
    place = tree.communities[0]
    for user in (ground["staff"], ground["operator"]):
        shown = selectors.figures(user=user, place=place, period=period, today=today + datetime.timedelta(days=1))
        for figure, count in shown.counts.items():
            rows = selectors.records(
                user=user, place=place, period=period, figure=figure, today=today + datetime.timedelta(days=1)
            )
            assert len(list(rows)) == count, figure
        for row in shown.by_grid:
            for figure, key in (("rounds_due", "due"), ("rounds_done", "done"), ("rounds_overdue", "overdue")):
                rows = selectors.records(
                    user=user,
                    place=place,
                    period=period,
                    figure=figure,
                    grid=row["code"],
                    today=today + datetime.timedelta(days=1),
                )
                assert rows.count() == row[key]
    assert shown.counts["rounds_due"] == 2 and shown.counts["rounds_done"] == 1
    assert shown.counts["hazards_found"] == 2 and shown.counts["hazards_on_time"] == 1
    assert shown.counts["hazards_repeat"] == 1 and shown.coverage == 50.0
    assert shown.repeat_buildings[0]["count"] == 1
    # A grid worker's figures count only what they see.
    mine = selectors.figures(user=ground["worker2"], place=place, period=period)
    assert mine.counts["rounds_due"] == 1 and mine.counts["hazards_found"] == 0


def test_notifications_round_due_today_and_hazard_overdue(tree, ground):  # type: ignore[no-untyped-def]
    _plan, round_ = _round_of(tree, ground)
    today = timezone.localdate()
    Round.objects.filter(pk=round_.pk).update(due=today)
    assert services.notify_due_today(today=today) == 1
    assert services.notify_due_today(today=today) == 1
    assert Message.objects.filter(user=ground["worker"], kind="inspections.due").count() == 1
    services.submit_round(actor=ground["head"], round_id=round_.pk, answers=_answers(round_, {7: "minor"}))
    hazard = Hazard.objects.get(round=round_)
    assert services.notify_overdue_hazards(today=hazard.deadline + datetime.timedelta(days=1)) == 1
    told = set(Message.objects.filter(kind="inspections.hazard_overdue").values_list("user_id", flat=True))
    assert told == {ground["worker"].pk, ground["staff"].pk}
    services.notify_overdue_hazards(today=hazard.deadline + datetime.timedelta(days=2))
    assert Message.objects.filter(kind="inspections.hazard_overdue").count() == 2  # once each


def test_building_head_sees_and_does_the_rounds_of_their_building_only(tree, ground):  # type: ignore[no-untyped-def]
    plan, round_ = _round_of(tree, ground)
    head = ground["head"]
    mine = selectors.round_list(user=head, mine=True, todo=True)
    assert [r.pk for r in mine] == [round_.pk]
    other = Round.objects.exclude(pk=round_.pk).get(plan=plan)
    with pytest.raises(NotFound):
        services.submit_round(actor=head, round_id=other.pk, answers=_answers(other))
    services.submit_round(actor=head, round_id=round_.pk, answers=_answers(round_, {7: "minor"}))
    assert [h.building_id for h in selectors.hazard_list(user=head)] == [tree.buildings[0].pk]
