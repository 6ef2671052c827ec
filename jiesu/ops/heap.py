"""Python's cycle collector in Jiesu's long-running processes (web workers, the task worker).

Why: a full collection walks every object the process holds, and most of those were loaded at
start and live as long as the process (Django's models and URL patterns, the gazetteer, the
triage rules and templates). Measured in process on PostgreSQL (docs/benchmarks.md, "Session
10"): while the batch intake made 2,000 orders the collector ran 384 times for 0.85 s, 0.63 s
of it in three full collections: about 0.43 ms an order, a sixth of the worker's CPU. In a
web worker it took 0.14 ms of an acknowledgement's ~3 ms.

``settle`` is called once a process has loaded what it keeps:

- ``gc.freeze()`` moves every object alive now into a permanent generation that collections do
  not walk. Reference counting still frees them; only a reference cycle among them would never
  be collected, and they are meant to live as long as the process anyway.
- The youngest generation is collected after 10,000 new container objects instead of 700. A
  batch of 200 orders allocates tens of thousands that live until the batch ends, and at 700
  they were walked and promoted again and again. The garbage waiting for a collection stays a
  few megabytes (worker RSS is measured against its 250 MB target in ``bench.intake_http``).

With both the collector took 0.10 s for the same 2,000 orders (10 collections).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

log = logging.getLogger("jiesu.ops")

YOUNG_THRESHOLD = 10_000


def settle(*, warm: Callable[[], object] | None = None) -> None:
    """Load what the process keeps (``warm``: what its first request or task would load; a
    failure there is logged and changes nothing), then freeze it and widen the youngest
    generation. Calling it again freezes what was loaded since."""
    if warm is not None:
        try:
            warm()
        except Exception:  # noqa: BLE001 - warming is an optimisation; the process works without it
            log.warning("warming the process up before freezing its heap failed", exc_info=True)
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(max(_young, YOUNG_THRESHOLD), middle, old)
