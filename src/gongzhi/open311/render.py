"""GeoReport v2 answers in JSON and XML (``xml.etree``), and its error format: ``[{"code": 400, "description": "…"}]``
in JSON, ``<errors><error><code>400</code><description>…</description></error></errors>`` in XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# A list's element names in XML: the list's own tag and each item's.
ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _add(element, key, inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _add(element, ITEM_TAGS.get(tag, "item"), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    """``data`` a list (each a ``<item>`` under ``<root>``) or a mapping (the children of ``<root>``)."""
    element = ET.Element(root)
    if isinstance(data, Mapping):
        for key, value in data.items():
            _add(element, key, value)
    else:
        assert item is not None
        for row in data:
            _add(element, item, row)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def respond(fmt: str, data: Any, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    body = to_xml(root, item, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(fmt: str, status: int, descriptions: str | Sequence[str]) -> HttpResponse:
    if isinstance(descriptions, str):
        descriptions = [descriptions]
    rows = [{"code": status, "description": str(d)} for d in descriptions]
    return respond(fmt, rows, root="errors", item="error", status=status)
