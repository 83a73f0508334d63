"""The public limits hold across gunicorn's worker processes: they count in the database, not in a worker's memory.

gunicorn is started as ``make serve`` starts it (``gunicorn.conf.py``), with 3 workers on a free loopback port and a
throw-away SQLite file; the access log names the worker (pid) that answered each request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gongzhi.core.tests.test_deploy import _base_env, gongzhi_command

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
LIMIT = 9
REQUESTS = 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    request = urllib.request.Request(url, headers={"X-Forwarded-For": f"198.51.100.{time.monotonic_ns() % 250}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.slow
def test_the_track_limit_holds_across_three_workers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **_base_env(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "GONGZHI_DEMO": "1",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.sqlite3'}",
        "GONGZHI_BIND": f"127.0.0.1:{port}",
        "GONGZHI_WORKERS": "3",
        "GONGZHI_RATE_PUBLIC_TRACK": f"{LIMIT}/h",
        "GONGZHI_RATE_PUBLIC_TRACK_MISS": "1000/h",
        "GUNICORN_CMD_ARGS": "--access-logformat 'pid=%(p)s status=%(s)s'",
    }
    migrate = subprocess.run(
        [*gongzhi_command(), "migrate", "--noinput"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [gunicorn, "gongzhi.config.wsgi", "-c", str(CONF)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/cases/public/track?code=ZZZZZZZZZZZZZZZZ"
        deadline = time.monotonic() + 60
        while True:  # up when the port answers (the health probe goes to another path: it is not counted)
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, log.name
                time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=6) as pool:  # several at once: every worker gets some
            statuses = list(pool.map(_get, [url] * REQUESTS))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert sorted(set(statuses)) == [404, 429], statuses
    assert statuses.count(404) == LIMIT, statuses
    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    pids = {line.split("pid=")[1].split()[0] for line in lines if "pid=" in line and "status=" in line}
    assert len(pids) >= 2, f"the requests reached one worker only: {lines[-30:]}"
