"""Serve Jiesu: gunicorn (2 workers of 4 threads each, keeping connections open) plus one
background-task worker, the periodic sweep (``jiesu sweep --every JIESU_SWEEP_SECONDS``) and
the Open311 sync with units' systems (``jiesu open311_sync --every JIESU_OPEN311_POLL_SECONDS``)
in child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Jiesu on http://127.0.0.1:PORT with a background worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("JIESU_HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("JIESU_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("JIESU_THREADS", "4")),
                            help="threads per web worker (1: gunicorn's sync workers)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument("--access-log", default=os.environ.get("JIESU_ACCESS_LOG", "-"),
                            help="where gunicorn writes a line per request ('-': standard output; "
                                 "'' or '0': none)")

    def handle(self, *args, port: int, host: str, workers: int, threads: int, no_worker: bool, access_log: str,
               **options):
        # A service manager stops us with SIGTERM: treat it as Ctrl-C, so that the ``finally``
        # below stops the worker, the sweeps and gunicorn instead of leaving them orphaned.
        signal.signal(signal.SIGTERM, _interrupt)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "jiesu.settings")}
        worker = sweeper = deliverer = poller = None
        if not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "jiesu", "worker"], env=env)  # noqa: S603
            # The periodic sweep (overdue orders onto the callback list, lost callback tasks).
            every = int(cast(Any, settings.JIESU).get("SWEEP_SECONDS", 300))
            if every > 0:
                sweeper = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "jiesu", "sweep", "--every", str(every)], env=env)
                # Deadline reminders and the retries of notifications and webhooks that are due.
                deliverer = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "jiesu", "deliver", "--every", "60"], env=env)
            # Units' own Open311 systems: due retries of sends, and polling for their replies.
            poll = int(cast(Any, settings.JIESU).get("OPEN311", {}).get("POLL_SECONDS", 300))
            if poll > 0:
                poller = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "jiesu", "open311_sync", "--every", str(poll)], env=env)
        self.stdout.write(f"Jiesu: http://{host}:{port}/  (staff desk: /desk/, admin: /admin/)")
        try:
            subprocess.run(  # noqa: S603
                gunicorn_command(host=host, port=port, workers=workers, threads=threads, access_log=access_log),
                env=env, check=False,
            )
        except KeyboardInterrupt:
            pass
        finally:
            for child in (worker, sweeper, deliverer, poller):
                if child is not None:
                    child.send_signal(signal.SIGTERM)
                    child.wait(timeout=15)


def gunicorn_command(*, host: str, port: int, workers: int, threads: int, access_log: str = "-") -> list[str]:
    """gunicorn's command line, with Jiesu's hook (``jiesu.ops.gunicorn_conf``: a threaded
    worker quits once). The access log is on by default (a line per request on standard
    output); a site whose reverse proxy (nginx) logs every request already turns it off
    (``JIESU_ACCESS_LOG=0``): formatting and writing the line was 6 % of a web worker's CPU on
    intake (py-spy, docs/benchmarks.md, session 12)."""
    log = [] if access_log in ("", "0") else ["--access-logfile", access_log]
    return [sys.executable, "-m", "gunicorn", "jiesu.wsgi:application", "-c", "python:jiesu.ops.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers), *server_threads(threads),
            *log, "--graceful-timeout", "10"]


def server_threads(threads: int) -> list[str]:
    """gunicorn's options for ``threads`` per worker. Why threads: a sync worker answers one
    request per connection and closes it, so every request of a desk's browser, an app or a
    partner's system pays a new TCP connection, and a worker waiting on the database serves
    nobody. A threaded worker keeps connections open (``--keep-alive``) and serves the next
    request while one waits. Measured on intake (``bench/intake_http.py``, 2 workers, 8
    connections, PostgreSQL): acknowledgements 149–166/s with sync workers, 220–270/s with 4
    threads each, p50 43–51 → 28–33 ms (docs/benchmarks.md, session 8). Each thread has its own
    database connection; everything a request shares in the process is read-only or locked
    (``jiesu.dispatch.runtime``)."""
    if threads <= 1:
        return []
    return ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5"]


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
