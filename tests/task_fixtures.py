"""A task for tests/test_task_recovery.py: it notes each start, waits until released, notes the
end. Running it again after a crash is harmless (idempotent), like every Jiesu task."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task


@task()
def gated_mark(marker: str) -> str:
    path = Path(marker)
    with path.open("a") as f:
        f.write("start\n")
    release = path.with_suffix(".release")
    for _ in range(600):  # at most a minute, then give up (the test has failed by then)
        if release.exists():
            break
        time.sleep(0.1)
    done = path.read_text().count("done")
    if not done:  # idempotent: the effect happens once, however often the task runs
        with path.open("a") as f:
            f.write("done\n")
    return "done"


@task()
def echo(value: str) -> str:
    """A task that only answers (tests/test_task_worker.py)."""
    if value == "fail":
        raise ValueError("asked to fail")
    return value


@task(priority=10)
def urgent_echo(value: str) -> str:
    return value


@task()
def returns(kind: str) -> object:
    """Nothing, or something JSON cannot store (tests/test_task_worker.py)."""
    return object() if kind == "unstorable" else None
