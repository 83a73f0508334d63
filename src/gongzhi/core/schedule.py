"""core's periodic jobs (run by ``gongzhi scheduler``)."""

from __future__ import annotations

from gongzhi.core import idempotency
from gongzhi.core.scheduler import Job


def expire_idempotency_keys() -> str:
    """Idempotency keys past ``GONGZHI_IDEMPOTENCY_DAYS`` forgotten."""
    return f"deleted {idempotency.expire()}"


JOBS = [Job("idempotency_expire", 3600, expire_idempotency_keys)]
