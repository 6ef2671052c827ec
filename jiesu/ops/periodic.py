"""The loop of the periodic commands (``jiesu sweep``, ``deliver``, ``open311_sync``), which
``jiesu serve`` runs with ``--every N``: once without it, and errors then propagate."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.db import close_old_connections

log = logging.getLogger("jiesu.periodic")


def repeat(*, every: int, name: str, run: Callable[[], None]) -> None:
    """Call ``run`` once, or every ``every`` seconds until SIGTERM/SIGINT. A long-running loop
    outlives one bad round (the database restarting, a unit's system down): it logs and waits
    for the next round; it drops stale connections before each round."""
    stop = threading.Event()
    if every > 0:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
    while True:
        if every > 0:
            close_old_connections()
        try:
            run()
        except Exception:
            if every <= 0:
                raise
            log.exception("%s: round failed", name)
        if every <= 0 or stop.wait(every):
            return
