"""Security headers (Content-Security-Policy, Permissions-Policy), templates that keep to the policy, and the
development secret key refused off loopback."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from gongzhi.config.settings import bind_is_loopback
from gongzhi.core.tests.test_deploy import _base_env

PACKAGE = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/cases/public/report/", "/api/v1/territory/nodes"])
def test_every_answer_carries_the_policies(client, url):  # type: ignore[no-untyped-def]
    response = client.get(url)
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"], "no inline or eval'd script"
    assert csp["style-src-elem"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and "data:" in csp["img-src"]
    assert response["Permissions-Policy"] == "geolocation=(self), camera=(self), microphone=()"


@pytest.mark.django_db
def test_map_tile_hosts_are_a_setting(client, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_CSP_IMG_HOSTS = ["https://tiles.example.org"]
    csp = _directives(client.get("/login/")["Content-Security-Policy"])
    assert "https://tiles.example.org" in csp["img-src"] and csp["connect-src"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


def test_no_template_has_inline_script_handlers_or_style_elements() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline script", INLINE_SCRIPT), ("event handler", EVENT_HANDLER),
                              ("style element", STYLE_ELEMENT)):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(PACKAGE)}: javascript: URL")
    assert offenders == []


def test_loopback_binds() -> None:
    for bind in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "::1", "127.0.0.2:80"):
        assert bind_is_loopback(bind), bind
    for bind in ("0.0.0.0:8000", "[::]:8000", "192.168.1.10:8000", "example.org:80", "unix:/tmp/g.sock"):
        assert not bind_is_loopback(bind), bind


def _settings_load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**_base_env(tmp_path), "GONGZHI_DEMO": "1", "DEBUG": "0", **env}
    full["PYTHONPATH"] = str(PACKAGE.parent)
    code = "from django.conf import settings; print(len(settings.SECRET_KEY))"
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)


def test_the_development_key_is_refused_off_loopback(tmp_path: Path) -> None:
    refused = _settings_load(tmp_path, GONGZHI_BIND="0.0.0.0:8000")
    assert refused.returncode != 0 and "development secret key" in refused.stderr
    assert _settings_load(tmp_path, GONGZHI_BIND="127.0.0.1:8000").returncode == 0
    assert _settings_load(tmp_path).returncode == 0, "the default bind is loopback"
    own_key = _settings_load(tmp_path, GONGZHI_BIND="0.0.0.0:8000", SECRET_KEY="x" * 60)
    assert own_key.returncode == 0, own_key.stderr


def test_gunicorn_refuses_the_development_key_on_a_public_listener(settings) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gz_gunicorn_conf", PACKAGE / "config" / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    def server(*addresses):  # type: ignore[no-untyped-def]
        listeners = [SimpleNamespace(sock=SimpleNamespace(getsockname=lambda a=a: a)) for a in addresses]
        return SimpleNamespace(LISTENERS=listeners)

    from gongzhi.config import settings as conf_settings

    assert conf_settings.SECRET_KEY == conf_settings.DEVELOPMENT_SECRET_KEY  # a test run uses the development key
    with pytest.raises(RuntimeError, match="development secret key"):
        conf.when_ready(server(("127.0.0.1", 8000), ("0.0.0.0", 8000)))
