"""What participation tells people (through ``messaging.services.notify``), and the inbox's names for it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gongzhi.messaging import kinds

KINDS = {
    "participation.claimed": _("A unit took on a need"),
    "participation.matched": _("A need was matched to my unit"),
    "participation.completed": _("A project reported completion"),
    "participation.accepted": _("A project's completion was confirmed"),
}
for _code, _label in KINDS.items():
    kinds.register(_code, _label)

WISH_KINDS = {
    "participation.wish_claimed": _("A wish I recorded was claimed"),
    "participation.wish_fulfilled": _("A wish I recorded was fulfilled"),
    "participation.wish_confirmed": _("A wish I claimed was confirmed"),
}
for _code, _label in WISH_KINDS.items():
    kinds.register(_code, _label)
