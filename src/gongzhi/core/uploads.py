"""Private files of background jobs: uploads waiting for their import, exports waiting for their download.

They hold personal data (ID numbers, phones), so they are never under ``MEDIA_ROOT`` (which a web server may serve)
but under ``PRIVATE_ROOT`` (default ``VAR_DIR/private``): directories mode 0700, files mode 0600, created with
``O_EXCL`` under a random name. A job keeps the returned *name* (``area/token.ext``), never a path; the name is
checked to stay inside the area when it is read or deleted. The job deletes its file when it ends;
:func:`sweep` removes what a dead job left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings

_AREA = re.compile(r"^[a-z0-9-]{1,40}$")
_NAME = re.compile(r"^(?P<area>[a-z0-9-]{1,40})/(?P<token>[A-Za-z0-9_-]{16,64})(?P<ext>\.[a-z0-9]{1,5})?$")
_BLOCK = 1 << 20


def private_root() -> Path:
    root = getattr(settings, "PRIVATE_ROOT", None)
    return Path(root) if root else Path(settings.VAR_DIR) / "private"


def _area_dir(area: str) -> Path:
    if not _AREA.match(area):
        raise ValueError(f"bad area {area!r}")
    root = private_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / area
    path.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(root, 0o700)
        os.chmod(path, 0o700)
    return path


def path_of(name: str) -> Path:
    """The file behind a stored name (``ValueError`` for anything that is not one of ours)."""
    match = _NAME.match(name or "")
    if not match:
        raise ValueError(f"not a private file name: {name!r}")
    return private_root() / match["area"] / f"{match['token']}{match['ext'] or ''}"


def store(area: str, source: bytes | IO[bytes] | Any, suffix: str = "") -> str:
    """Write ``source`` (bytes, or a file object read from its start) to a new private file; its name."""
    suffix = suffix.lower() if re.match(r"^\.[A-Za-z0-9]{1,5}$", suffix or "") else ""
    directory = _area_dir(area)
    token = secrets.token_urlsafe(24)
    path = directory / f"{token}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, bytes | bytearray):
                out.write(source)
            else:
                if hasattr(source, "seek"):
                    source.seek(0)
                if hasattr(source, "chunks"):
                    for chunk in source.chunks():
                        out.write(chunk)
                else:
                    shutil.copyfileobj(source, out, _BLOCK)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.chmod(path, 0o600)  # whatever the umask
    return f"{area}/{token}{suffix}"


@contextmanager
def opened(name: str) -> Iterator[IO[bytes]]:
    with path_of(name).open("rb") as stream:
        yield stream


def read(name: str) -> bytes:
    return path_of(name).read_bytes()


def delete(name: str) -> None:
    """Remove a private file (nothing when it is gone already or the name is empty)."""
    if not name:
        return
    with contextlib.suppress(OSError, ValueError):
        path_of(name).unlink()


def sweep(area: str, older_than_seconds: float, keep: set[str] | None = None) -> int:
    """Delete the files of ``area`` older than the given age, except the names in ``keep``; how many."""
    directory = _area_dir(area)
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory.iterdir():
        if keep and f"{area}/{path.name}" in keep:
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
