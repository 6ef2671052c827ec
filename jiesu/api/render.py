"""JSON out: UTF-8 (Chinese readable as such), and ``<``, ``>``, ``&`` and the JavaScript line
separators escaped as ``\\uXXXX``, so that a stored ``<script>`` stays inert data even if a
client pastes the raw body into a page. The decoded values are unchanged."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.renderers import JSONRenderer

_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class SafeJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        # Outside string literals JSON never contains these characters, so escaping them
        # anywhere in the text only changes strings, and only their encoding.
        return super().render(request, data, response_status=response_status).translate(_ESCAPES)
