"""Follow-up's settings (``settings.JIESU``), typed loosely: the dict's values are of several
types, which django-stubs would type as ``object``."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings


def knob(name: str, default: Any = None) -> Any:
    return cast(dict[str, Any], settings.JIESU).get(name, default)


def max_attempts() -> int:
    return int(knob("CALLBACK_MAX_ATTEMPTS", 3))
