"""The disputes app's periodic jobs (run by ``gongzhi scheduler``)."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.disputes import services


def remind_follow_ups() -> int:
    """Performance follow-ups due today or before: their handlers are told (once each)."""
    return services.remind_follow_ups()


JOBS = [Job("dispute_follow_ups", 3600, remind_follow_ups)]
