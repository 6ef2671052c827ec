"""Background work survives a worker crash (django-tasks, database backend).

A worker claims a task by marking it RUNNING with its worker id, then runs it. If the worker
dies mid-way (SIGKILL, OOM, power), django-tasks leaves the row RUNNING for ever: the task would
be neither finished nor retried. Jiesu's worker (``jiesu worker``) therefore

- names itself ``<host>:<pid>`` so that a claim says which process holds it, and
- puts back to READY every RUNNING task whose process is gone (same host, pid not alive) or that
  has run longer than ``JIESU["TASK_STALE_SECONDS"]`` (a worker on another host that vanished),
  when it starts and then every minute.

A task may so run a second time after a crash, never zero times: every Jiesu task is
idempotent (the order's state guard turns a repeat into "skipped").
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

log = logging.getLogger(__name__)


def this_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def orphaned(task: DBTaskResult, *, host: str, stale_before: dt.datetime) -> bool:
    claim = (task.worker_ids or [""])[-1]
    name, _sep, pid = claim.rpartition(":")
    if name == host and pid.isdigit() and int(pid) != os.getpid():
        return not _alive(int(pid))
    return task.started_at is not None and task.started_at < stale_before


def requeue_orphans(*, stale_seconds: float | None = None) -> int:
    """Put the tasks of dead workers back in the queue; how many."""
    if stale_seconds is None:
        stale_seconds = float(cast(dict[str, Any], settings.JIESU).get("TASK_STALE_SECONDS", 3600))
    host = socket.gethostname()[:40]
    stale_before = timezone.now() - dt.timedelta(seconds=stale_seconds)
    count = 0
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        if orphaned(task, host=host, stale_before=stale_before):
            # Conditional: if the task finished meanwhile, leave it alone.
            count += DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING,
                                                 started_at=task.started_at).update(
                status=TaskResultStatus.READY, started_at=None)
            log.warning("requeued task %s (%s) of a dead worker %s", task.pk, task.task_path, task.worker_ids[-1:])
    return count
