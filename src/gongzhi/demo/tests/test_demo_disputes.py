"""The demo's disputes (issue 18): built through the services on a small year, the 平安小苑 story end to end, the
``mediator`` and ``police`` log-ins with work to do, fewer disputes than the year before, and ``--reset`` removes
them all."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import F

from gongzhi.accounts.models import User
from gongzhi.demo import builder, names
from gongzhi.demo import disputes as demo_disputes
from gongzhi.disputes import selectors
from gongzhi.disputes.choices import OPEN_STATUSES
from gongzhi.disputes.models import Dispute, LadderTier, PoliceNotice, Session

CODE = names.street_code(0)
STEPS = {
    "plan",
    "subdistrict",
    "communities and villages",
    "grids",
    "buildings",
    "co-jurisdictions",
    "users",
    "disputes",
}


def _quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo_disputes, "LAST_YEAR", 40)
        mp.setattr(demo_disputes, "THIS_YEAR", 28)
        mp.setattr(demo_disputes, "NOTICES", 20)
        ctx = builder.new_context(0, _quiet, builder.demo_password_hash())
        with transaction.atomic():
            for label, step in builder.STEPS:
                if label in STEPS:
                    ctx.counts[label] += step(ctx)
        yield ctx
        builder.delete_demo(_quiet)
        assert not Dispute.objects.exists() and not PoliceNotice.objects.exists()
        assert not LadderTier.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_the_story_end_to_end(built) -> None:  # type: ignore[no-untyped-def]
    d = Dispute.objects.get(summary__contains="平安小苑")
    assert d.source == "police" and d.source_notice is not None and d.source_notice.result == "dispute"
    assert d.status == "agreed" and d.resolved_tier == 2 and d.escalations.get().from_tier == 1
    modes = list(Session.objects.filter(dispute=d).order_by("held_at").values_list("tier", "mode", "result"))
    assert modes == [(1, "face_to_face", "no_agreement"), (2, "face_to_face", "progress"),
                     (2, "separate", "progress"), (2, "face_to_face", "agreement")]  # fmt: skip
    assert d.agreements.get().terms and d.parties.count() == 2


@pytest.mark.slow
@pytest.mark.django_db
def test_mediator_and_police_have_work(built) -> None:  # type: ignore[no-untyped-def]
    mediator = User.objects.get(username="mediator")
    mine = selectors.dispute_list(user=mediator, mine=True)
    assert mine.count() >= 3 and mine.filter(status__in=[*OPEN_STATUSES, "agreed"]).exists()
    assert selectors.dispute_list(user=mediator, status=OPEN_STATUSES, risk="red").exists()
    police = User.objects.get(username="police")
    notices = selectors.notice_list(user=police, sent_by_me=True)
    assert notices.filter(status="answered").count() >= 5 and notices.filter(status__in=["sent", "received"]).exists()
    worker = User.objects.get(username="gridworker")
    assert selectors.notice_list(user=worker, status=["sent", "received"]).exists()
    assert selectors.dispute_list(user=worker, status=OPEN_STATUSES).exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_spread_over_kinds_tiers_and_outcomes(built) -> None:  # type: ignore[no-untyped-def]
    rows = Dispute.objects.filter(subdistrict_code=CODE)
    assert rows.values("kind").distinct().count() >= 5
    assert {1, 2} <= set(rows.exclude(resolved_tier=None).values_list("resolved_tier", flat=True))
    assert {"closed", "unresolved"} <= set(rows.values_list("status", flat=True))
    assert not rows.filter(agreed_at__lt=F("received_at")).exists(), "a history in order"
    assert rows.filter(is_repeat=True).exists() or rows.count() < 50
