"""Production settings: ``gongzhi check --deploy`` is clean, and a production process without a secret key
refuses to start.

Each case runs in a fresh interpreter with an environment built from scratch, so nothing of the test run (the
``pytest`` module that the settings detect, ``GONGZHI_TESTING``, ``DATABASE_URL``, ``DEBUG`` ...) leaks in.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION_HOST = "gongzhi.example.org"


def _base_env(tmp_path: Path) -> dict[str, str]:
    """Only what a process needs to run: no GONGZHI_*, DJANGO_*, PYTEST_*, DEBUG, SECRET_KEY or SECURE_*."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "gongzhi.config.settings",
        "GONGZHI_VAR_DIR": str(tmp_path / "var"),
    }
    if "SYSTEMROOT" in os.environ:  # pragma: no cover - Windows only
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        **_base_env(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }


def gongzhi_command() -> list[str]:
    """The ``gongzhi`` console script of this interpreter's environment, or its module as a fallback."""
    script = shutil.which("gongzhi", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "gongzhi.manage"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "TESTING": settings.TESTING,
    "DEBUG": settings.DEBUG,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "PASSWORD_HASHER": settings.PASSWORD_HASHERS[0],
    "STATICFILES_BACKEND": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def probe_settings(env: dict[str, str], cwd: Path) -> dict[str, object]:
    result = run([sys.executable, "-c", PROBE], env, cwd)
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_production_settings_are_production(tmp_path: Path) -> None:
    """The subprocess really is a production process: no test mode, https only, strong hashing."""
    settings = probe_settings(production_env(tmp_path), tmp_path)
    assert settings["TESTING"] is False
    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert isinstance(settings["SECURE_HSTS_SECONDS"], int) and settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert settings["PASSWORD_HASHER"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings["STATICFILES_BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    result = run(
        [*gongzhi_command(), "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path), tmp_path
    )
    assert result.returncode == 0, f"check --deploy failed:\n{result.stdout}\n{result.stderr}"
    assert "no issues" in result.stdout


def test_check_deploy_notices_a_weak_setup(tmp_path: Path) -> None:
    """The check is not vacuous: plain-http cookies in production are reported."""
    env = {**production_env(tmp_path), "SECURE_COOKIES": "0"}
    result = run([*gongzhi_command(), "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr + result.stdout


def test_missing_secret_key_is_refused_when_debug_is_off(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run([sys.executable, "-c", "import gongzhi.config.settings"], env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("flag", ["DEBUG", "GONGZHI_DEMO"])
def test_plain_http_modes_allow_a_development_key_and_do_not_redirect(tmp_path: Path, flag: str) -> None:
    """``make demo`` serves plain http on localhost: it must neither need a key nor redirect to https."""
    env = {**_base_env(tmp_path), "DEBUG": "0", flag: "1"}
    settings = probe_settings(env, tmp_path)
    assert settings["TESTING"] is False
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
