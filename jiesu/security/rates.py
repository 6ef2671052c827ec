"""Rate strings ("10/10m") and fixed windows: pure arithmetic, no Django (tested without a database)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    def window(self, now: float) -> tuple[int, int]:
        """The current window's number and the seconds left in it (at least 1)."""
        index = int(now // self.seconds)
        left = (index + 1) * self.seconds - now
        return index, max(1, int(left + 0.999))


def parse_rate(text: str) -> Rate:
    """"N/Ts" with T seconds, minutes, hours or days ("10/10m": ten per ten minutes; "60/m")."""
    match = _RATE.match(text or "")
    if not match:
        raise ValueError(f"not a rate: {text!r} (expected e.g. '10/10m')")
    limit, count, unit = int(match[1]), int(match[2] or 1), match[3]
    if limit < 1 or count < 1:
        raise ValueError(f"not a rate: {text!r} (limit and period must be positive)")
    return Rate(limit=limit, seconds=count * _UNIT[unit])
