"""When to try again: exponential backoff, pure (no Django), so it is tested without a database.

Attempt 1 failed → wait ``base``; attempt 2 → ``2 × base``; … capped at ``cap``. A little
jitter is left out on purpose: deliveries are spread by the events themselves, and a fixed
schedule is what an operator can read off the delivery log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 10

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed try (attempts ≥ 1)."""
        seconds = self.base_seconds * (2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=min(seconds, self.cap_seconds))

    def next_at(self, attempts: int, now: dt.datetime) -> dt.datetime | None:
        """When to try again, or None when ``attempts`` tries are all that is allowed."""
        if attempts >= self.max_attempts:
            return None
        return now + self.delay(attempts)

    @classmethod
    def from_settings(cls, values: dict | None) -> Backoff:
        values = values or {}
        return cls(base_seconds=float(values.get("base_seconds", cls.base_seconds)),
                   cap_seconds=float(values.get("cap_seconds", cls.cap_seconds)),
                   max_attempts=int(values.get("max_attempts", cls.max_attempts)))
