"""The triage app's periodic job (run by ``gongzhi scheduler``): a training when one is due (weekly by default)."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.triage import services, tasks


def train_when_due() -> str:
    """Checked every hour: a training is queued when the newest version is older than the interval (7 days)."""
    if not services.train_due():
        return "not due"
    return f"enqueued {tasks.train.enqueue().id}"


JOBS = [Job("triage_train", 3600, train_when_due)]
