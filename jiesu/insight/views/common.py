"""What the insight screens share: the role gate, the sub-navigation and reading the period."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiesu.desk.views.common import page

TABS = [
    ("dashboard", "insight:dashboard", _("Dashboard")),
    ("hotspots", "insight:hotspots", _("Hotspots")),
    ("topics", "insight:topics", _("Monthly topics")),
    ("proactive", "insight:proactive", _("Proactive items")),
    ("measures", "insight:measures", _("Measures")),
]


def insight_page(request: HttpRequest, template: str, context: dict[str, Any], *, tab: str,
                 status: int = 200, show_tabs: bool = True) -> HttpResponse:
    tabs = [(name, reverse(url), label) for name, url, label in TABS] if show_tabs else []
    return page(request, template, {**context, "tabs": tabs, "tab": tab}, screen="insight", status=status)


def int_param(request: HttpRequest, name: str, default: int, allowed: tuple[int, ...] | None = None,
              low: int = 1, high: int = 366) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    if allowed is not None and value not in allowed:
        return default
    return min(max(value, low), high)
