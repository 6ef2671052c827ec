"""The two wire formats of Open311 GeoReport v2, from one Python structure (pure Python).

XML has exactly the spec's element names, no namespace, and starts with the UTF-8
declaration. JSON follows the Spark convention the spec uses: the root container is dropped,
so a list response becomes a JSON array and a repeated child is always an array, even of one.
Codes and ids are strings (keeping leading zeros); booleans are ``true``/``false`` in both.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - we only build XML here, never parse it

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# Root container → the element of each item in a list response.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
}
# A list-valued field → the element of each of its entries.
ENTRIES = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(node, key, child)
    elif isinstance(value, list):
        entry = ENTRIES.get(name, "item")
        for child in value:
            _fill(node, entry, child)
    else:
        node.text = _text(value)


def to_xml(root: str, body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """``to_xml("services", [{…}])`` → ``<services><service>…</service></services>``;
    a dict body becomes the children of the root (``service_definition``, ``discovery``)."""
    element = ET.Element(root)
    if isinstance(body, list):
        for item in body:
            _fill(element, ITEMS[root], item)
    else:
        for key, child in body.items():
            _fill(element, key, child)
    return (DECLARATION + ET.tostring(element, encoding="unicode")).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, default=_json_default).encode()


def render(fmt: str, root: str, body: list[dict[str, Any]] | dict[str, Any]) -> tuple[bytes, str]:
    """(content, content type) for ``fmt`` "xml" or "json"."""
    if fmt == "json":
        return to_json(body), JSON_TYPE
    return to_xml(root, body), XML_TYPE


def error_body(errors: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """The spec's error list: ``[{"code": 403, "description": "…"}]``."""
    return [{"code": code, "description": description} for code, description in errors]
