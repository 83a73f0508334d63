"""The messaging app's periodic job (run by ``gongzhi scheduler``): due deliveries whose task was lost sent again."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.messaging import tasks


def requeue_deliveries() -> str:
    return f"enqueued {tasks.requeue_due()}"


JOBS = [Job("messaging_requeue", 60, requeue_deliveries)]
