"""One HTTP call for the HTTP channels (SMS providers, WeCom robots), with the standard library and a timeout, and the
classification every channel shares: a network error, a timeout or a 5xx is worth another try, a 4xx is not."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

ANSWER_LIMIT = 500  # characters of a provider's answer kept on the delivery


def timeout() -> float:
    """Seconds an HTTP channel waits for a provider (``GONGZHI_MESSAGING_TIMEOUT``, 10 by default)."""
    return float(getattr(settings, "GONGZHI_MESSAGING_TIMEOUT", 10))


def cut(text: str, limit: int = ANSWER_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Reply:
    """What came back: ``status`` 0 when nothing came back (``error`` says why)."""

    status: int
    body: str
    error: str = ""

    @property
    def transient(self) -> bool:
        """No answer, a 5xx or a 429: another try may go through."""
        return self.status == 0 or self.status >= 500 or self.status == 429

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def describe(self) -> str:
        return cut(self.error if self.status == 0 else f"HTTP {self.status} {self.body}")


def request(url: str, *, data: bytes, headers: dict[str, str]) -> Reply:
    """POST ``data`` to ``url``; never raises for a network problem or an HTTP error status."""
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout()) as response:
            return Reply(status=response.status, body=response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace") if exc.fp is not None else ""
        return Reply(status=exc.code, body=body)
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, refused, reset
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Reply(status=0, body="", error=f"{type(reason).__name__}: {reason}")
