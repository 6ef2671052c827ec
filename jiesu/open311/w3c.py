"""W3C datetimes as Open311 wants them (an ISO-8601 subset whose time zone must be present).
Pure Python: no Django, tested without a database."""

from __future__ import annotations

import datetime as dt
import re

# 2010-01-01T00:00:00Z, 2010-01-01T00:00:00.123+08:00, 2010-01-01T00:00-0800. A "+" sent
# unescaped in a query string arrives as a space: accept " 08:00" as "+08:00".
_W3C = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?P<tz>Z|z|[+\- ]\d{2}:?\d{2})$"
)


class BadDatetime(ValueError):
    pass


def parse(text: str) -> dt.datetime:
    """An aware datetime from a W3C string; ``BadDatetime`` when there is no time zone or the
    value is not a real date and time."""
    match = _W3C.match((text or "").strip())
    if not match:
        raise BadDatetime(text)
    tz = match["tz"]
    if tz in ("Z", "z"):
        tz = "+00:00"
    else:
        sign = "+" if tz[0] == " " else tz[0]
        digits = tz[1:].replace(":", "")
        tz = f"{sign}{digits[:2]}:{digits[2:]}"
    try:
        return dt.datetime.fromisoformat(f"{match['date']}T{match['time']}{tz}")
    except ValueError:
        raise BadDatetime(text) from None


def render(value: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    """``2026-11-27T10:00:00+08:00``: seconds precision, with the offset of ``tz``."""
    if value is None:
        return None
    return value.astimezone(tz).replace(microsecond=0).isoformat()
