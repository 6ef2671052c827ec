"""A process's memory of the API tokens it has just accepted (issue 8). Pure Python.

Why: every API call authenticates, and a client under load sends the same token hundreds of
times a second. Looking it up is one statement (``policy.Actor.of_token``), but a statement is a
round trip: on the acknowledged intake request it was a tenth of the web worker's CPU plus the
database's share (docs/benchmarks.md, session 14). So the rows a token was accepted with — its
user and grants — are kept for a few seconds (``TOKEN_CACHE_SECONDS``, 5 by default; 0: off),
and the actor is built afresh from them for every request (no object is shared between requests).

What that costs: a token revoked, a user deactivated, a membership, unit or area changed takes
effect at once in the process that saved the change (``jiesu.accounts.apps`` makes every save or
delete of those forget everything here, again after the commit), and in every other process
within those seconds — the trade Kubernetes makes for its webhook token authenticator, which
keeps an accepted token for 2 minutes by default. Only accepted tokens are kept, so an unknown
token always reaches the database and cannot fill this memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

Rows = Sequence[tuple[Any, ...]]


class TokenMemory:
    """Rows by token hash, each until its own deadline, at most ``max_entries`` of them (past
    that everything is forgotten: the live tokens of a deployment are few)."""

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._rows: dict[str, tuple[float, Rows]] = {}
        self._lock = threading.Lock()
        # Bumped by forget_all: rows read from the database before a forget_all must not be
        # remembered after it (the change that caused it may have made them stale).
        self.generation = 0

    def recall(self, key: str) -> Rows | None:
        hit = self._rows.get(key)
        if hit is None:
            return None
        until, rows = hit
        if self.clock() >= until:
            self._rows.pop(key, None)
            return None
        return rows

    def remember(self, key: str, rows: Rows, *, seconds: float, read_at_generation: int) -> None:
        """Keeps ``rows`` for ``seconds`` unless something was forgotten since they were read."""
        if seconds <= 0:
            return
        with self._lock:
            if read_at_generation != self.generation:
                return
            if len(self._rows) >= self.max_entries:
                self._rows.clear()
            self._rows[key] = (self.clock() + seconds, tuple(rows))

    def forget_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


TOKENS = TokenMemory()
