"""Messages translated where they are raised.

Services raise their refusals with ``gettext_lazy`` msgids (``_("No case with id %(id)s.")``); a message with
values is built with :func:`fmt`, which stays lazy too: the text is put together in the language active when it is
shown — the page's or the API request's (``LocaleMiddleware``: Chinese by default, English with
``Accept-Language: en``), never the language active when the error was raised.

    raise NotFound(fmt(_("No building %(name)s in your area."), name=name))
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import Text


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


def stored(message: str) -> str:
    """A message kept on a job's row (an import's or an export's): it was rendered in the language active when it was
    stored, or it is a msgid stored as a code (``gettext_noop``, e.g. "the worker died"); shown translated."""
    return gettext(message) if message else message


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
