"""gunicorn's settings for ``jiesu serve`` (``-c python:jiesu.ops.gunicorn_conf``).

One hook, run in each worker once it has loaded the application. It loads what the first
request would (every view, through the URL conf) and settles the heap (``jiesu.ops.heap``:
the cycle collector no longer walks what the worker keeps for its life).

And a worker quits once. Ctrl-C in a terminal (and a service manager that signals the whole group) sends SIGINT
to every process of ``jiesu serve``: the gunicorn master, which then sends each worker SIGQUIT,
and the workers themselves. A threaded worker (gunicorn 27's ``gthread``) quits by shutting its
thread pool down under a lock; the second signal, arriving while the first holds that lock,
runs the same shutdown again from its handler and waits for the lock forever. The master exits
anyway, and the worker stays behind, holding the port and its database connections (seen after
the benchmarks of session 8). So a worker quits once: a quit signal during its quitting is
ignored.
"""

from __future__ import annotations

import signal
from typing import Any


def post_worker_init(worker: Any) -> None:
    from jiesu.ops import heap

    heap.settle(warm=_load_views)
    quit_now = worker.handle_quit

    def quit_once(sig: int, frame: Any) -> None:
        if getattr(worker, "_jiesu_quitting", False):
            return  # the first quit signal is being handled: it ends the process
        worker._jiesu_quitting = True
        quit_now(sig, frame)

    signal.signal(signal.SIGINT, quit_once)
    signal.signal(signal.SIGQUIT, quit_once)


def _load_views() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module
