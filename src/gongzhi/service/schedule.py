"""The service app's periodic job (run by ``gongzhi scheduler``): reminders of volunteer activities starting within a
day, once per sign-up."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.service import services


def remind() -> int:
    return services.send_reminders()


JOBS = [Job("service_activity_reminders", 3600, remind)]
