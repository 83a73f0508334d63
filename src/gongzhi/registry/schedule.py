"""The registry's periodic job (run by ``gongzhi scheduler``): dead import/export jobs failed, old files purged."""

from __future__ import annotations

from gongzhi.core.scheduler import Job
from gongzhi.registry import services

JOBS = [Job("registry_sweep", 3600, services.sweep_jobs)]
