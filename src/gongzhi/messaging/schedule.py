"""The messaging app's periodic jobs (run by ``gongzhi scheduler``): due deliveries whose task was lost sent again;
the daily digests, enqueued (through the Tasks API) every few minutes from the digest hour on — the task sends each
user's digest once a day (its key is the day's), so the runs after the first find nothing to send."""

from __future__ import annotations

import datetime

from django.utils import timezone

from gongzhi.core.scheduler import Job
from gongzhi.messaging import services, tasks


def requeue_deliveries() -> str:
    return f"enqueued {tasks.requeue_due()}"


def enqueue_digests(now: datetime.datetime | None = None) -> str:
    """Enqueue the digest task once the day's digest hour has come (local time)."""
    local = timezone.localtime(now or timezone.now())
    if local.hour < services.digest_hour():
        return "not yet"
    return f"enqueued {tasks.send_digests.enqueue().id}"


JOBS = [Job("messaging_requeue", 60, requeue_deliveries), Job("messaging_digest", 600, enqueue_digests)]
