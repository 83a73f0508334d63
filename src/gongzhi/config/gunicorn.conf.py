"""Gunicorn settings: ``gunicorn gongzhi.config.wsgi -c src/gongzhi/config/gunicorn.conf.py``.

Environment:

``GONGZHI_BIND``
    address to listen on (default ``127.0.0.1:8000``; put a TLS-terminating proxy in front in production). Without
    ``SECRET_KEY`` (the demo's built-in development key) only a loopback address is accepted.
``GONGZHI_WORKERS`` (or ``WEB_CONCURRENCY``)
    number of worker processes (default: 2 x the CPU cores available to the process, at most 4: on a 2-core box
    with PostgreSQL beside it, 4 processes keep both cores busy while some requests wait for the database).
``GONGZHI_THREADS``
    threads per worker (default 1: synchronous workers, one request at a time each, the connection closed after
    the response, as behind a proxy). Above 1 the workers are ``gthread`` workers, which also keep connections
    alive for clients that talk to gunicorn directly; each thread holds its own database connection.
``GONGZHI_TIMEOUT``
    seconds a request may take before its worker is restarted (default 60).
``FORWARDED_ALLOW_IPS``
    proxies whose ``X-Forwarded-*`` headers are trusted (default ``127.0.0.1,::1``).
"""

import os
from typing import Any


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2 * cores, 4))


wsgi_app = "gongzhi.config.wsgi:application"
bind = [os.environ.get("GONGZHI_BIND", "127.0.0.1:8000")]
workers = max(1, _int_env("GONGZHI_WORKERS", _int_env("WEB_CONCURRENCY", _default_workers())))
threads = max(1, _int_env("GONGZHI_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int_env("GONGZHI_TIMEOUT", 60)
graceful_timeout = _int_env("GONGZHI_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycle workers now and then so that a slow leak never takes the site down.
max_requests = 2000
max_requests_jitter = 200
# Import the application once in the master and warm it (gongzhi.config.warmup) before forking: a new or recycled
# worker starts answering at full speed instead of loading URL conf, API schemas, catalogues and grid index on the
# first requests it serves.
preload_app = True


def when_ready(server: Any) -> None:  # gunicorn's Arbiter (gunicorn ships no types)
    from gongzhi.config import settings as conf
    from gongzhi.config.warmup import warm_up

    # The built-in development secret key serves this machine only: settings refuse it for a GONGZHI_BIND that is
    # not loopback, and this refuses it for what gunicorn really listens on (e.g. a -b given on the command line).
    if conf.SECRET_KEY == conf.DEVELOPMENT_SECRET_KEY:
        for listener in server.LISTENERS:
            address = listener.sock.getsockname()
            host = address[0] if isinstance(address, tuple) else f"unix:{address}"
            if not conf.bind_is_loopback(str(host)):
                raise RuntimeError(
                    f"the built-in development secret key is only for a server on this machine, not {listener}: "
                    "bind to 127.0.0.1, localhost or ::1, or set SECRET_KEY"
                )
    warm_up()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "gongzhi"
# No runtime control socket: it lives at one path per user, so two servers on one machine would fight over it.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
