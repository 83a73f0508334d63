"""What every API input shares: unknown fields are refused, and numbers are bounded before they reach a database.

* :class:`InputSchema` is the base of every request body and query schema: a field it does not know — a typo, a
  read-only field such as ``id``, or ``lead_body_id`` on a PATCH that cannot change it — is a 400 naming that field,
  never silently ignored.
* :data:`Int64` is an integer a database can hold (a 64-bit signed integer): ``2**63`` in a path, a query or a body is
  a 400 naming the parameter, not a 500 from SQLite's or PostgreSQL's driver. Booleans are not integers.
* :data:`Date` and :data:`DateTime` lie between 1900-01-01 and 2100-12-31.
* Text with a NUL character (``\\x00``), which PostgreSQL cannot store, is a 400 naming the field (bodies here; query
  parameters in ``core.middleware``).
* :data:`Float` is a finite number: ``inf``, ``nan`` and ``1e400`` (which parses as infinity) are refused, and so are
  ``true``/``false`` (which pydantic would otherwise read as 1.0 and 0.0).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.utils.translation import gettext, gettext_lazy
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_bool", str(gettext("a number is expected, not true or false")))
    return value


Int64 = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=INT64_MIN, le=INT64_MAX)]
Float = Annotated[float, BeforeValidator(_not_a_bool), Field(allow_inf_nan=False)]


def contains_nul(value: Any) -> bool:
    """Whether a value (a string, or a list or dict holding strings) contains a NUL character, which PostgreSQL
    cannot store in text or JSON (its driver raises: a 500)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_nul(v) for v in value)
    return False


def nul_message() -> str:
    return str(gettext("text may not contain NUL (\\x00) characters"))


# The days an input date may fall on. Dates at the calendar's ends (0001-01-01, 9999-12-31) overflow the date
# arithmetic behind them (a deadline, a period's end, a local midnight): a 500 before these bounds.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


def _within_calendar(value: Any) -> Any:
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "date_out_of_range",
            str(gettext("a date from %(first)s to %(last)s"))
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return value


Date = Annotated[datetime.date, AfterValidator(_within_calendar)]
DateTime = Annotated[datetime.datetime, AfterValidator(_within_calendar)]


class InputSchema(Schema):
    """The base of every input schema: extra (unknown or read-only) fields are a validation error, and so is text
    with a NUL character."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise PydanticCustomError("nul_character", nul_message())
        return value


# --- Validation messages in the request's language --------------------------------------------------------------
# pydantic words its errors in English; the API's error details name the field and say what is wrong in the user's
# language. Types not listed keep pydantic's text (our own PydanticCustomErrors are translated where raised).
_VALIDATION_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("this field is required"),
    "extra_forbidden": gettext_lazy("unknown or read-only field: not accepted here"),
    "int_parsing": gettext_lazy("expected a whole number"),
    "int_type": gettext_lazy("expected a whole number"),
    "int_from_float": gettext_lazy("expected a whole number"),
    "float_parsing": gettext_lazy("expected a number"),
    "float_type": gettext_lazy("expected a number"),
    "finite_number": gettext_lazy("expected a finite number"),
    "bool_parsing": gettext_lazy("expected true or false"),
    "bool_type": gettext_lazy("expected true or false"),
    "string_type": gettext_lazy("expected text"),
    "string_too_long": gettext_lazy("at most %(max_length)s characters"),
    "string_too_short": gettext_lazy("at least %(min_length)s characters"),
    "less_than_equal": gettext_lazy("at most %(le)s"),
    "greater_than_equal": gettext_lazy("at least %(ge)s"),
    "less_than": gettext_lazy("less than %(lt)s"),
    "greater_than": gettext_lazy("more than %(gt)s"),
    "date_parsing": gettext_lazy("expected a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": gettext_lazy("expected a date (YYYY-MM-DD)"),
    "date_type": gettext_lazy("expected a date (YYYY-MM-DD)"),
    "datetime_parsing": gettext_lazy("expected a date and time (YYYY-MM-DDTHH:MM)"),
    "datetime_from_date_parsing": gettext_lazy("expected a date and time (YYYY-MM-DDTHH:MM)"),
    "datetime_type": gettext_lazy("expected a date and time (YYYY-MM-DDTHH:MM)"),
    "time_parsing": gettext_lazy("expected a time (HH:MM)"),
    "time_type": gettext_lazy("expected a time (HH:MM)"),
    "list_type": gettext_lazy("expected a list"),
    "dict_type": gettext_lazy("expected an object"),
    "model_type": gettext_lazy("expected an object"),
    "model_attributes_type": gettext_lazy("expected an object"),
    "json_invalid": gettext_lazy("the body is not valid JSON"),
    "enum": gettext_lazy("expected one of: %(expected)s"),
    "literal_error": gettext_lazy("expected one of: %(expected)s"),
}


def validation_message(error: dict[str, Any]) -> str:
    """What is wrong with one field, from a pydantic error, in the active language."""
    template = _VALIDATION_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        message = str(error.get("msg", "")) or str(gettext("not valid"))
        return message.removeprefix("Value error, ")
    ctx = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    text = str(template)
    try:
        return text % ctx if "%(" in text else text
    except (KeyError, ValueError):
        return str(error.get("msg", text))
