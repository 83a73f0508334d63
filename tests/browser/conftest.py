"""Real-browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Chromium comes from apt (``apt-get install chromium``), never from ``playwright install``. Without it these tests
fail, unless ``GONGZHI_SKIP_BROWSER=1`` says to skip them.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise refuse to be called here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _chromium_path()
    if path is None:
        if os.environ.get("GONGZHI_SKIP_BROWSER") == "1":
            pytest.skip("chromium is not installed and GONGZHI_SKIP_BROWSER=1")
        pytest.fail(
            "The browser tests need Debian's chromium: apt-get install chromium; make test installs it. "
            "(Set GONGZHI_SKIP_BROWSER=1 to skip them.)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def make_page(browser):  # type: ignore[no-untyped-def]
    """A fresh browser context (own cookies) per call: ``make_page(width=360)`` for a phone."""
    contexts = []

    def make(width: int = 1366, height: int = 860, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale=locale,
            device_scale_factor=1,
            is_mobile=width < 500,
            has_touch=width < 500,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.gongzhi_errors = []
        page.on("pageerror", lambda exc: page.gongzhi_errors.append(str(exc)))
        # A script, style or image the Content-Security-Policy refused is an error of the page too.
        page.on(
            "console",
            lambda msg: page.gongzhi_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def results_dir() -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR


@pytest.fixture
def login(live_server):  # type: ignore[no-untyped-def]
    """Log ``user`` in through the log-in form of ``page``."""
    from gongzhi.accounts.tests.factories import PASSWORD

    def do(page, user, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return do


# On an in-memory SQLite database the live server's request threads share the test's one connection, so two requests
# at once (the outbox sending again while the server still works on a slow first try) would interleave their
# transactions on it. There the server takes one request at a time; on PostgreSQL each thread has its own connection.
_ONE_REQUEST = threading.Lock()


def _one_at_a_time(handler_class):  # type: ignore[no-untyped-def]
    class OneAtATime(handler_class):  # type: ignore[misc,valid-type]
        def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
            with _ONE_REQUEST:
                return super().__call__(environ, start_response)

    return OneAtATime


@pytest.fixture(scope="session")
def live_server(request):  # type: ignore[no-untyped-def]
    """pytest-django's live server, serialising requests where they share one SQLite connection."""
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr, start=False)
    if server.thread.connections_override:
        server.thread.static_handler = _one_at_a_time(server.thread.static_handler)
    server.start()
    yield server
    server.stop()
