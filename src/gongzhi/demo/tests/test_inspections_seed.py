"""The demo's hazard inspections (issue 19), on a small 道义 (five communities, as the registry's test cuts it):
checklists for every kind, a year of rounds at 85–95 % a month, open and closed hazards (some overdue, some cases),
and rounds due today for gridworker and buildinghead; deleted by the demo reset."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from gongzhi.demo import builder
from gongzhi.demo.tests.test_registry_seed import KEEP, _quiet, _trim
from gongzhi.inspections.choices import PlaceKind
from gongzhi.inspections.models import Checklist, Hazard, Plan, Round
from gongzhi.inspections.selectors import month_period

STEPS = {"subdistrict", "communities and villages", "grids", "buildings", "households", "co-jurisdictions",
         "party organisations", "users", "inspections"}  # fmt: skip


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        ctx = builder.new_context(0, _quiet, builder.demo_password_hash())
        builder.plan_territory(ctx)
        _trim(ctx, KEEP)
        n, grids = len(ctx.communities), len(ctx.grids)
        threes = next(b for b in range(4) if (grids - 3 * b) % 4 == 0)
        mp.setattr(builder, "PARTY_GRID_BRANCHES", 2 * n + 2)
        mp.setattr(builder, "PARTY_BUILDING_GROUPS", 2 * n + 5)
        mp.setattr(builder, "PARTY_HOUSEHOLDS", 2 * n + 9)
        mp.setattr(builder, "SECOND_FULL_TIME_GRIDS", 4)
        mp.setattr(builder, "INSTRUCTORS_WITH_FOUR_GRIDS", (grids - 3 * threes) // 4)
        mp.setattr(builder, "INSTRUCTORS_WITH_THREE_GRIDS", threes)
        with transaction.atomic():
            for label, step in builder.STEPS:
                if label in STEPS:
                    ctx.counts[label] += step(ctx)
        yield ctx
        builder.delete_demo(_quiet)
        assert not Round.objects.exists() and not Hazard.objects.exists() and not Checklist.objects.exists()


@pytest.mark.django_db
def test_a_year_of_rounds_hazards_and_todays_work(built) -> None:  # type: ignore[no-untyped-def]
    ctx = built
    today = timezone.localtime(ctx.now).date()
    assert set(Checklist.objects.values_list("kind", flat=True)) == set(PlaceKind.values)
    assert {p.kind: p.every_months for p in Plan.objects.all()}[PlaceKind.SHOP] == 3
    months = Counter()
    done = Counter()
    for due, done_at in Round.objects.filter(due__lt=month_period(None, today).start).values_list("due", "done_at"):
        months[due.strftime("%Y-%m")] += 1
        done[due.strftime("%Y-%m")] += done_at is not None
    assert len(months) >= 11
    for month, total in months.items():
        assert 0.8 <= done[month] / total <= 0.98, month
    hazards = Hazard.objects.all()
    assert hazards.filter(status="closed").count() > hazards.filter(status="open").count() > 0
    assert hazards.filter(status="open", deadline__lt=today).exists()
    assert hazards.filter(case__isnull=False).exists()
    for username in ("gridworker", "buildinghead"):
        assert Round.objects.filter(assignee__username=username, due=today, done_at__isnull=True).exists(), username
