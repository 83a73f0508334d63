"""Recognition fixtures: community 0's staff and a grid worker, a resident there, a 五星文明户 campaign on
community 0 with public voting and a two-member panel, and a household nominated and accepted as a candidate."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.recognition import services
from gongzhi.recognition.models import Campaign, Nomination

CRITERIA = [{"name": "爱党爱国", "max_score": 20}, {"name": "邻里和睦", "max_score": 20}, {"name": "环境整洁"}]


@dataclass
class People:
    staff: Any
    worker: Any
    resident: Any
    panel: list[Any]


@pytest.fixture
def people(tree) -> People:  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    resident = user_with_role(Role.RESIDENT, node=tree.grids[1])
    panel = [user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0]) for _ in range(2)]
    return People(staff, worker, resident, panel)


@pytest.fixture
def campaign(tree, people) -> Campaign:  # type: ignore[no-untyped-def]
    return services.create_campaign(
        actor=people.staff,
        title="2026年度五星文明户",
        subject="household",
        area_id=tree.communities[0].pk,
        criteria=CRITERIA,
        quota=1,
        public_voting=True,
        voting_close=timezone.now() + datetime.timedelta(days=3),
        phone_prefixes="1395800",
        panel_ids=[u.pk for u in people.panel],
    )


@pytest.fixture
def candidate(tree, people, campaign) -> Nomination:  # type: ignore[no-untyped-def]
    nomination = services.nominate(
        actor=people.worker,
        campaign_id=campaign.pk,
        household_id=tree.households[0].pk,
        reasons={"邻里和睦": "常年帮助独居老人"},
    )
    return services.accept(actor=people.staff, nomination_id=nomination.pk)


@pytest.fixture
def voting(people, campaign, candidate) -> Campaign:  # type: ignore[no-untyped-def]
    return services.open_voting(actor=people.staff, campaign_id=campaign.pk)
