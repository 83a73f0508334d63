"""The inspections app's periodic jobs (run by ``gongzhi scheduler``): each is idempotent, so hourly is enough to
catch a new period the day it starts and to tell people once a day (the messages' dedupe keys)."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.inspections import services


def generate_rounds() -> str:
    return f"rounds made {services.generate_rounds(actor=None)}"


def notify_due() -> str:
    return f"told {services.notify_due_today()} about rounds due today"


def notify_overdue() -> str:
    return f"{services.notify_overdue_hazards()} hazards overdue"


JOBS = [
    Job("inspections_generate_rounds", 3600, generate_rounds),
    Job("inspections_rounds_due", 3600, notify_due),
    Job("inspections_hazards_overdue", 3600, notify_overdue),
]
