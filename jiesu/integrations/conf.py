"""The integrations' settings (``settings.JIESU``), with their defaults in one place."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings

from jiesu.integrations.retry import Backoff

DEFAULT_TRANSPORTS = {
    "sms": "jiesu.integrations.transports.ConsoleTransport",
    "email": "jiesu.integrations.transports.ConsoleTransport",
}


def knob(name: str, default: Any = None) -> Any:
    return cast(dict[str, Any], settings.JIESU).get(name, default)


def transports() -> dict[str, str]:
    return {**DEFAULT_TRANSPORTS, **(knob("NOTIFY_TRANSPORTS") or {})}


def notify_backoff() -> Backoff:
    return Backoff.from_settings(knob("NOTIFY_RETRY") or {"base_seconds": 60, "max_attempts": 6})


def webhook_backoff() -> Backoff:
    return Backoff.from_settings(knob("WEBHOOK_RETRY") or {"base_seconds": 30, "max_attempts": 10})


def http_timeout() -> float:
    return float(knob("INTEGRATIONS_HTTP_TIMEOUT", 10))


def deadline_soon_hours() -> int:
    return int(knob("DEADLINE_SOON_HOURS", 24))


def subscription_ttl() -> float:
    """How long a process trusts its answer to "is any webhook subscription active?": a
    subscription saved in another process serves the events committed from at most this many
    seconds later (``JIESU["WEBHOOK_SUBSCRIPTION_TTL"]``)."""
    return float(knob("WEBHOOK_SUBSCRIPTION_TTL", 1.0))
