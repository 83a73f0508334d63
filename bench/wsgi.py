"""The project's WSGI application with one extra URL, ``/bench/ping``: the baseline of the HTTP figures.

``gunicorn bench.wsgi -c src/gongzhi/config/gunicorn.conf.py`` serves exactly ``gongzhi.config.wsgi`` (same
settings, middleware, workers and database connection handling); only the URL conf is ``bench.urls``, which is
the project's own plus the bare JSON view. Nothing of this is part of the application. With
``GONGZHI_BENCH_NOTIFY=off`` a case's transitions tell nobody (the baseline of ``intake_notify_p99``).
"""

import os

from django.conf import settings

from gongzhi.config.wsgi import application as _project_application

settings.ROOT_URLCONF = "bench.urls"
application = _project_application

if os.environ.get("GONGZHI_BENCH_NOTIFY") == "off":  # bench.messaging's baseline: intake without notifications
    from gongzhi.cases import notify

    notify.send = notify.send_after_commit = lambda *args, **kwargs: None
