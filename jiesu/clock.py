"""The clock, behind one function so that tests and the demo generator can set the time.

Production reads the system clock; ``frozen`` pins it for the block (thread-local, so the
concurrent test server is unaffected by another thread's block).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_local = threading.local()


def now() -> dt.datetime:
    pinned = getattr(_local, "now", None)
    return pinned if pinned is not None else timezone.now()


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = getattr(_local, "now", None)
    _local.now = at
    try:
        yield
    finally:
        _local.now = previous
