"""Load once in gunicorn's master what every web worker would otherwise load on its first request.

With ``preload_app`` the master imports the application and runs :func:`warm_up` before it forks: the URL conf
(every app's views and the API, whose schemas django-ninja builds on import), the translation catalogues and the
grid index are then inherited by each worker, including the ones that replace workers recycled after
``max_requests``, so no user waits for a cold worker. Database connections are closed before the fork (each
worker opens its own). Last, everything loaded so far is frozen out of the garbage collector's reach
(``gc.freeze``): a worker's collections then walk only what its requests allocate, not the whole application,
which keeps them short (and the pages shared with the master unwritten).
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings
from django.db import DatabaseError, connections
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger(__name__)


def warm_up() -> None:
    get_resolver().url_patterns  # noqa: B018 - imports every URL module
    for language, _ in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Case")
    try:
        from gongzhi.territory import geo

        geo.grid_index()
    except DatabaseError as exc:  # not migrated yet, or the database is down: the workers build it themselves
        log.warning("warm-up: no grid index (%s)", exc)
    finally:
        connections.close_all()
    gc.collect()
    gc.freeze()
