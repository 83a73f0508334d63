"""Background work of the registry (the Tasks API of the django-tasks backport; database backend outside tests).

``import_registry`` runs an import too big for a web request (queued by ``imports.submit``); ``export_registry``
makes a large export (queued by ``exports.request_export``); ``sweep_registry_jobs`` marks jobs whose worker died as
failed and purges expired bad-rows and export files (``gongzhi registry_sweep`` runs one round, ``gongzhi scheduler``
every hour).
"""

from __future__ import annotations

from typing import Any

from django_tasks import task

from gongzhi.registry import exports, imports, services


@task()
def import_registry(run_id: int) -> dict[str, Any]:
    return imports.run_job(run_id=run_id)


@task()
def export_registry(job_id: int) -> dict[str, Any]:
    return exports.run_job(job_id=job_id)


@task()
def sweep_registry_jobs() -> dict[str, int]:
    return services.sweep_jobs()
