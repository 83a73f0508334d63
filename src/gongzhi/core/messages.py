"""Messages translated where they are raised.

Services raise their refusals with ``gettext_lazy`` msgids (``_("No case with id %(id)s.")``); a message with
values is built with :func:`fmt`, which stays lazy too: the text is put together in the language active when it is
shown — the page's or the API request's (``LocaleMiddleware``: Chinese by default, English with
``Accept-Language: en``), never the language active when the error was raised.

    raise NotFound(fmt(_("No building %(name)s in your area."), name=name))
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ErrorDetail, Text


def _interpolate(message: Text, params: dict[str, Any]) -> str:
    return str(message) % {name: str(value) if isinstance(value, Promise) else value for name, value in params.items()}


_lazy_interpolate = lazy(_interpolate, str)


def fmt(message: Text, /, **params: Any) -> Text:
    """``message % params``, evaluated when shown (a lazy message and lazy values are translated then)."""
    result: Text = _lazy_interpolate(message, params)
    return result


def join(values: Any, separator: str = ", ") -> Text:
    """Values (some of them lazy) joined when shown."""
    items = list(values)
    result: Text = lazy(lambda: separator.join(str(v) for v in items), str)()
    return result


_GETTEXT_PROXY = type(_("x"))
_FMT_PROXY = type(_lazy_interpolate("", {}))
_CODE_PREFIX = '{"msgid"'


def portable(message: Any) -> Any:
    """A message as it can be kept in a JSON column and shown later in the reader's language: a ``gettext_lazy``
    msgid becomes the msgid (a code), a :func:`fmt` message ``{"msgid": …, "params": {…}}`` (its values portable
    too); anything else its text."""
    if isinstance(message, _GETTEXT_PROXY):
        return str(_lazy_args(message)[0])
    if isinstance(message, _FMT_PROXY):
        template, params = _lazy_args(message)
        return {
            "msgid": portable(template),
            "params": {name: _param(value) for name, value in params.items()},
        }
    return str(message)


def _lazy_args(message: Any) -> tuple[Any, ...]:
    """The arguments a lazy message was made with (``lazy``'s proxy pickles as ``(func, args, kwargs, ...)``)."""
    reduced: Any = message.__reduce__()
    return tuple(reduced[1][1])


def _param(value: Any) -> Any:
    """A message's value: a translatable one as a code (``{"msgid": …}``), a plain one as it is."""
    if isinstance(value, Promise):
        kept = portable(value)
        return kept if isinstance(kept, dict) else {"msgid": kept}
    return value if isinstance(value, int | float | str) and not isinstance(value, bool) else str(value)


def portable_text(message: Any) -> str:
    """:func:`portable` for a text column (a job's "why it failed"): a message with values as its JSON."""
    kept = portable(message)
    return json.dumps(kept, ensure_ascii=False) if isinstance(kept, dict) else kept


def portable_detail(detail: ErrorDetail) -> dict[str, Any]:
    """An ``ErrorDetail`` kept on a job's row (``row``, ``field``, ``message``: its code and values)."""
    return {**detail.as_dict(), "message": portable(detail.message)}


def stored(message: Any) -> str:
    """A message kept on a job's row (an import's or an export's), shown in the active language: a code (a msgid,
    e.g. ``gettext_noop`` "the worker died"), a code with values (:func:`portable`, as a dict or its JSON in a text
    column), or text rendered when it was stored (older rows), which is translated when it is a known msgid."""
    if isinstance(message, str) and message.startswith(_CODE_PREFIX):
        try:
            message = json.loads(message)
        except ValueError:
            return str(message)
    if isinstance(message, dict):
        template = stored(message.get("msgid") or "")
        params = {name: stored(value) if isinstance(value, dict) else value
                  for name, value in (message.get("params") or {}).items()}  # fmt: skip
        try:
            return str(template % params)
        except (KeyError, TypeError, ValueError):
            return template
    if not message:
        return ""
    if isinstance(message, Promise):
        return str(message)
    return gettext(str(message))


def system_note(message: Text, /, **params: Any) -> str:
    """A note the system writes on a record that everyone reads later (a timeline's "escalated automatically", "held
    by the desk"): rendered once, in the site's language (``LANGUAGE_CODE``), not in the language of whoever's
    request or background job happened to write it."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
        return text % params if params else text


ACTIONS = {
    "view": _("view"),
    "add": _("add"),
    "change": _("change"),
    "delete": _("delete"),
    "reveal": _("reveal"),
}


def action_word(action: str) -> Text:
    """A policy action (``view add change delete reveal``) as a word of the message it goes into."""
    return ACTIONS.get(action, action)
