"""Meetings fixtures: community 0's staff (its residents' committee), a resident living in grid 0, a grid worker,
the kinds the migration seeds."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.meetings import services
from gongzhi.meetings.models import Meeting, MeetingKind


def kind(code: str) -> MeetingKind:
    services.ensure_kinds()
    return MeetingKind.objects.get(code=code)


def at(day: datetime.date, hour: int = 19) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def resident(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.RESIDENT, node=tree.grids[0])


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


@pytest.fixture
def night_talk(tree, staff) -> Meeting:  # type: ignore[no-untyped-def]
    return services.plan_meeting(
        actor=staff,
        kind_id=kind("night_talk").pk,
        title="第一网格夜谈会",
        place_id=tree.grids[0].pk,
        starts_at=at(timezone.localdate()),
        location="网格党群服务站",
    )


def decided(staff: Any, meeting: Meeting, topic: Any = None, text: str = "修复3号楼门前积水") -> Any:
    item = services.add_item(
        actor=staff, meeting_id=meeting.pk, source="topic" if topic else "other", topic_id=getattr(topic, "pk", None),
        title="" if topic else "积水",
    )  # fmt: skip
    return services.decide(actor=staff, meeting_id=meeting.pk, item_id=item.pk, text=text, votes_for=9, votes_against=0,
                           votes_abstain=1)  # fmt: skip
