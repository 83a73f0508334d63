"""Every dispute figure opens the disputes it counts: the figure equals the length of its drill-down list."""

from __future__ import annotations

import datetime

from django.utils import timezone

from gongzhi.disputes import selectors, workflow
from gongzhi.disputes.models import Dispute, DisputeKind
from gongzhi.disputes.tests.helpers import new_dispute, walk


def _year(w):  # type: ignore[no-untyped-def]
    now = timezone.now()
    family = DisputeKind.objects.get(code="family")
    made = []
    for i, status in enumerate(["closed", "agreed", "unresolved", "withdrawn", "mediating", "registered"]):
        d = new_dispute(w.operator, w, node=w.tree.households[i % 4], received_at=now - datetime.timedelta(days=i))
        made.append(walk(w.operator, d, status))
    new_dispute(w.operator, w, risk="red", kind_id=family.pk)  # open, red
    last_year = new_dispute(w.operator, w, received_at=now - datetime.timedelta(days=366))
    # Solved at the station: escalated first.
    up = new_dispute(w.operator, w)
    workflow.perform(actor=w.operator, dispute_id=up.pk, action="escalate", note="升级")
    walk(w.operator, Dispute.objects.get(pk=up.pk), "agreed")
    return now, made, last_year


def test_each_figure_is_its_list(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    now, _made, _last = _year(w)
    since, until = now - datetime.timedelta(days=30), now + datetime.timedelta(days=1)
    kw = {"user": w.operator, "since": since, "until": until}
    counts = [*selectors.by_kind(**kw), *selectors.by_place(**kw), *selectors.by_month(**kw)]
    for f in counts:
        assert f.value == f.count == len(list(f.queryset)), f.key
    assert sum(f.value for f in selectors.by_kind(**kw)) == selectors.dispute_list(**kw).count() == 8
    assert {f.label: f.value for f in selectors.by_kind(**kw)} == {"邻里纠纷": 7, "婚姻家庭纠纷": 1}

    rate = selectors.success_rate(**kw)
    assert rate.count == len(list(rate.queryset)) == 3  # closed, agreed, agreed at the station
    assert rate.denominator is not None and rate.denominator.count() == 4  # … and the unresolved one
    assert rate.value == 3 / 4

    cycle = selectors.cycle_time(**kw)
    assert cycle.count == len(list(cycle.queryset)) == 3
    assert cycle.value is not None and cycle.extra["p90"] >= cycle.value

    tiers = {f.key: f for f in selectors.share_by_tier(**kw)}
    assert {k: f.count for k, f in tiers.items()} == {"tier:1": 2, "tier:2": 1}
    for f in tiers.values():
        assert f.count == len(list(f.queryset))
    assert abs(sum(f.value or 0 for f in tiers.values()) - 1) < 1e-9

    red = selectors.red_open(user=w.operator)
    assert red.value == len(list(red.queryset)) == 1

    yoy = selectors.year_on_year(**{**kw, "since": now - datetime.timedelta(days=360), "until": until})
    assert yoy.extra == {"this_year": 8, "last_year": 1} and yoy.count == len(list(yoy.queryset))
    assert yoy.value == (8 - 1) / 1


def test_repeats_figure(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    new_dispute(w.worker, w, received_at=timezone.now() - datetime.timedelta(days=5))
    new_dispute(w.worker, w)
    f = selectors.repeats(user=w.operator)
    assert f.value == len(list(f.queryset)) == 1


def test_figures_keep_to_scope(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    new_dispute(w.worker, w)
    new_dispute(w.operator, w, node=w.tree.households[3])
    assert selectors.by_kind(user=w.worker)[0].value == 1
    assert selectors.by_kind(user=w.operator)[0].value == 2
