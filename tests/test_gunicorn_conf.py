"""``jiesu serve``'s gunicorn hook: a worker quits once, whatever signals follow the first."""

from __future__ import annotations

import gc
import os
import signal
import subprocess

from jiesu.ops import gunicorn_conf


class Worker:
    """What the hook uses of a gunicorn worker: its quit handler, which here receives a second
    quit signal while it handles the first (the master's SIGQUIT after the group's SIGINT)."""

    def __init__(self) -> None:
        self.quits: list[int] = []

    def handle_quit(self, sig, frame) -> None:
        self.quits.append(sig)
        if len(self.quits) == 1:
            signal.getsignal(signal.SIGQUIT)(signal.SIGQUIT, None)


def test_a_second_quit_signal_during_the_first_is_ignored(monkeypatch):
    loaded = []
    real_load = gunicorn_conf._load_views
    monkeypatch.setattr(gunicorn_conf, "_load_views", lambda: loaded.append(real_load()))
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGQUIT)
    threshold = gc.get_threshold()
    try:
        worker = Worker()
        gunicorn_conf.post_worker_init(worker)
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
        signal.getsignal(signal.SIGQUIT)(signal.SIGQUIT, None)
        assert worker.quits == [signal.SIGINT]
        # The hook also settled the worker's heap (jiesu.ops.heap) after loading every view.
        assert loaded == [None] and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGQUIT, before[1])


def test_serve_runs_gunicorn_with_the_hook_and_gunicorn_loads_it():
    from jiesu.ops.management.commands import serve

    command = serve.gunicorn_command(host="127.0.0.1", port=8000, workers=2, threads=4)
    assert command[command.index("-c") + 1] == "python:jiesu.ops.gunicorn_conf"
    assert command[command.index("--worker-class"):command.index("--worker-class") + 4] == [
        "--worker-class", "gthread", "--threads", "4"]
    assert "--worker-class" not in serve.gunicorn_command(host="127.0.0.1", port=8000, workers=2, threads=1)
    assert command[command.index("--access-logfile") + 1] == "-"  # a line per request, by default
    for off in ("0", ""):
        assert "--access-logfile" not in serve.gunicorn_command(host="127.0.0.1", port=8000, workers=2, threads=4,
                                                                access_log=off)
    checked = subprocess.run([*command, "--check-config"], capture_output=True, text=True, timeout=60,  # noqa: S603
                             env={**os.environ, "DJANGO_SETTINGS_MODULE": "jiesu.settings"})
    assert checked.returncode == 0, checked.stderr
