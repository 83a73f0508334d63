"""The demo's log-in table says where the demo is served: GONGZHI_BIND, not a fixed 127.0.0.1:8000 (issue 16)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from gongzhi.demo import builder
from gongzhi.demo.logins import DEMO_PASSWORD, demo_url, logins_table


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("", "http://127.0.0.1:8000/"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("192.168.1.20:8080", "http://192.168.1.20:8080/"),
        ("localhost:9000", "http://localhost:9000/"),
        ("[::1]:8001", "http://[::1]:8001/"),
    ],
)
def test_the_address_follows_gongzhi_bind(monkeypatch: pytest.MonkeyPatch, bind: str, url: str) -> None:
    monkeypatch.setenv("GONGZHI_BIND", bind)
    assert demo_url() == url
    first = logins_table().splitlines()[0]
    assert first == f"Demo log-ins at {url} — password for all: {DEMO_PASSWORD}"


def test_a_wildcard_bind_is_opened_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGZHI_BIND", "0.0.0.0:8002")
    assert demo_url().startswith("http://127.0.0.1:8002/") and "0.0.0.0:8002" in demo_url()


@pytest.mark.django_db
def test_seed_demo_prints_the_bind_address_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Already built (stubbed): the command prints the table once, at GONGZHI_BIND's address."""
    monkeypatch.setenv("GONGZHI_BIND", "10.1.2.3:8765")
    monkeypatch.setattr(builder, "existing_copies", lambda scale: set(range(scale)))
    monkeypatch.setattr(builder, "add_missing_notices", lambda scale, out: 0)
    monkeypatch.setattr("gongzhi.demo.management.commands.seed_demo.kpis_selectors.rollup_state", lambda: object())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert text.count("Demo log-ins at") == 1
    assert "http://10.1.2.3:8765/" in text and "127.0.0.1" not in text


def test_make_demo_passes_the_bind_and_seeds_once() -> None:
    """The Makefile runs seed_demo once on the way to serving (it printed the table twice) with GONGZHI_BIND."""
    makefile = (Path(__file__).resolve().parents[4] / "Makefile").read_text()
    demo = re.search(r"^demo:.*?(?=^\S)", makefile, re.S | re.M)
    assert demo is not None and "seed_demo" not in demo.group(0)
    seed = re.search(r"^seed:.*?(?=^\S|\Z)", makefile, re.S | re.M)
    assert seed is not None and "GONGZHI_BIND=$(GONGZHI_BIND)" in seed.group(0)
    assert re.search(r"^demo:[^\n]*\bseed\b", makefile, re.M)
