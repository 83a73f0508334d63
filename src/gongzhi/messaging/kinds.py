"""What each kind of message is called in the inbox's filter. An app that notifies names its kinds here once
(``register("case.dispatched", _("Dispatched to me"))``, at import of its module); an unnamed kind shows its code."""

from __future__ import annotations

from typing import Any

LABELS: dict[str, Any] = {}


def register(code: str, label: Any) -> None:
    LABELS[code] = label


def label(code: str) -> str:
    return str(LABELS.get(code, code))
