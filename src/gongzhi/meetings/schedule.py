"""The meetings app's periodic jobs (run by ``gongzhi scheduler``): idempotent, so hourly is enough."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.meetings import services


def plan_recurring() -> str:
    """This month's and the next month's standing meetings (the night talk on the 15th, the joint meetings)."""
    return f"planned {services.plan_recurring()}"


def follow_projects() -> str:
    """Decisions tracked as projects of the three lists follow their progress."""
    return f"moved {services.sync_projects()}"


JOBS = [
    Job("meetings_plan_recurring", 3600, plan_recurring),
    Job("meetings_follow_projects", 3600, follow_projects),
]
