"""Private files: uploads waiting for a background job hold personal data (reporters' phones, ID numbers).

:class:`PrivateStorage` keeps them outside ``MEDIA_ROOT`` (which a web server may serve) in ``PRIVATE_ROOT``
(default ``VAR_DIR/private``, the same root as ``core.uploads``, which keeps jobs' files by name), directories
mode 0700 and files mode 0600 whatever the umask, and gives them no URL.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import FileSystemStorage

from gongzhi.core.uploads import private_root


class PrivateStorage(FileSystemStorage):
    """A file-system storage under :func:`private_root` (read when used, so a test can point it elsewhere)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    @property
    def base_location(self) -> str:
        return str(private_root())

    @property
    def location(self) -> str:
        return str(private_root().resolve())

    @property
    def base_url(self) -> None:  # type: ignore[override]  # no URL at all (the storage's base_url is a str)
        return None

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL.")
