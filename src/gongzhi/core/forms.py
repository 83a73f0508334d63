"""Putting a service's refusal on a Django form: the one way every page does it."""

from __future__ import annotations

from collections.abc import Mapping

from django.forms import Form
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError


def add_service_errors(form: Form, exc: DomainError, field_map: Mapping[str, str | None] | None = None) -> None:
    """The message on top of the form; each detail next to the form field it names (``field_map`` maps a service's
    field name to the form's: ``{"handler_body_id": "handler"}``; ``features[3].geometry`` names ``features``), else
    on top too. A detail with a row says so. Messages are translated where they were raised (lazily), so they are
    shown here in the page's language."""
    field_map = field_map or {}
    if exc.message:
        form.add_error(None, str(exc.message))
    for detail in exc.details:
        name = detail.field or ""
        base = name.split("[", 1)[0].split(".", 1)[0]
        target = field_map.get(name, field_map.get(base, base))
        message = str(detail.message)
        if detail.row is not None:
            message = _("Row %(row)s: %(message)s") % {"row": detail.row, "message": message}
        form.add_error(target if target and target in form.fields else None, message)
