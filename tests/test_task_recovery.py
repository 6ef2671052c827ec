"""Background work survives a worker crash and runs once: a task claimed by a worker that is
SIGKILLed mid-way is put back and finished by the next worker (real worker processes)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiesu.ops.tasks_recovery import orphaned, requeue_orphans

ROOT = Path(__file__).resolve().parent.parent


def _db_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker() -> subprocess.Popen:
    env = {**os.environ, "JIESU_DATABASE_URL": _db_url(), "JIESU_TASK_BACKEND": "django_tasks_db.DatabaseBackend"}
    return subprocess.Popen([sys.executable, "-m", "jiesu", "worker", "--interval", "0.1", "--recover-every", "0.5",  # noqa: S603
                             "--no-startup-delay", "--verbosity", "0"], env=env, cwd=ROOT, start_new_session=True)


def _until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_task_of_a_killed_worker_is_rerun_and_its_effect_happens_once(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from tests.task_fixtures import gated_mark

    marker = tmp_path / "mark.txt"
    result = gated_mark.enqueue(str(marker))
    first = _worker()
    try:
        _until(lambda: marker.exists() and "start" in marker.read_text(), "the first worker starts the task")
        os.killpg(first.pid, signal.SIGKILL)  # mid-way: the task is claimed and not finished
        first.wait(30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING  # what django-tasks alone would leave for ever
    marker.with_suffix(".release").touch()
    second = _worker()
    try:
        _until(lambda: DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL,
               "the next worker finishes the task")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    row = DBTaskResult.objects.get(pk=result.id)
    assert len(row.worker_ids) == 2 and row.worker_ids[0] != row.worker_ids[1]
    assert marker.read_text().splitlines() == ["start", "start", "done"]


class _Row:
    def __init__(self, worker: str, started_at):
        self.worker_ids, self.started_at = [worker], started_at


def test_which_claims_are_orphaned():
    now = timezone.now()
    stale_before = now - dt.timedelta(hours=1)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    dead.wait()
    assert orphaned(_Row(f"box:{dead.pid}", now), host="box", stale_before=stale_before)
    assert not orphaned(_Row(f"box:{os.getppid()}", now), host="box", stale_before=stale_before)  # alive
    # Another host: only after the stale period.
    assert not orphaned(_Row("other:1", now), host="box", stale_before=stale_before)
    assert orphaned(_Row("other:1", now - dt.timedelta(hours=2)), host="box", stale_before=stale_before)


@pytest.mark.django_db
def test_a_finished_task_is_never_requeued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from tests.task_fixtures import gated_mark

    result = gated_mark.enqueue("/nonexistent/mark")
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.SUCCESSFUL, worker_ids=["x:1"],
                                                     started_at=timezone.now() - dt.timedelta(days=1))
    assert requeue_orphans(stale_seconds=1) == 0
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL
