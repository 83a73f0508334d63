"""The one error vocabulary of Gongzhi.

Services raise these; the API turns every one of them (and ninja's own validation errors) into the same JSON shape::

    {"error": {"code": "validation_failed", "message": "...",
               "details": [{"field": "features[3].geometry", "row": 4, "message": "..."}]}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A message is a lazy translation (``gettext_lazy``, ``core.messages.fmt``) shown in the language of the page or the
# API request; ``as_dict`` renders it.
Text = str | Promise
NOT_FOUND = _("Not found.")
MAY_NOT = _("You may not do this.")


@dataclass
class ErrorDetail:
    message: Text
    field: str | None = None
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": str(self.message)}
        if self.field is not None:
            out["field"] = self.field
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class DomainError(Exception):
    """A refusal the user can act on. ``status`` is the HTTP status the API answers with."""

    message: Text
    code: str = "invalid"
    status: int = 400
    details: list[ErrorDetail] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": str(self.message),
                "details": [detail.as_dict() for detail in self.details],
            }
        }


class ValidationFailed(DomainError):
    def __init__(self, message: Text, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message=message, code="validation_failed", status=400, details=details or [])


class NotFound(DomainError):
    def __init__(self, message: Text = NOT_FOUND) -> None:
        super().__init__(message=message, code="not_found", status=404)


class Forbidden(DomainError):
    """In scope (the user may see the object) but not allowed to do this to it."""

    def __init__(self, message: Text = MAY_NOT) -> None:
        super().__init__(message=message, code="forbidden", status=403)


class Conflict(DomainError):
    def __init__(self, message: Text, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message=message, code="conflict", status=409, details=details or [])
