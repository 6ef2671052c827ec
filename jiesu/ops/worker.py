"""The task worker's claims in one statement each (issue 8).

django-tasks' database worker spends five round trips on every task besides the task's own:
``BEGIN``, ``SELECT … FOR UPDATE SKIP LOCKED``, an ``UPDATE`` that marks it RUNNING,
``COMMIT``, and the ``UPDATE`` that records the outcome. Here a worker claims up to
``claim_size`` ready tasks with one autocommitted statement

    UPDATE task SET status = 'RUNNING', started_at = now, worker_ids = worker_ids + [me]
    WHERE id IN (SELECT id … READY … ORDER BY priority … LIMIT n [FOR UPDATE SKIP LOCKED])
    RETURNING *

and records the outcomes of the batch (each with the instant its task really started) with one
plain-SQL ``UPDATE`` when the batch ends, so a task costs a fraction of two statements (a second
of an idle queue: one statement per poll, as before).

What stays as it was:

- A claim names this worker (``<host>:<pid>``), so that ``jiesu.ops.tasks_recovery`` puts the
  tasks of a killed worker back in the queue: the claimed tasks it had not started, the one it
  was running, and those of its batch it had finished but not yet recorded (they run again).
  A task may run twice after a crash, never zero times (every Jiesu task is idempotent).
- On PostgreSQL concurrent workers skip each other's rows (``SKIP LOCKED``); on SQLite the
  statement holds the database's write lock, so two claims never overlap.
- Priority: a batch is claimed in priority order and run in that order. So that a task of
  higher priority queued meanwhile (or a second worker) does not wait behind a long batch, a
  worker holds its claimed tasks for at most ``HOLD_SECONDS``: what it has not started by then
  goes back to READY in one statement, as it does when the worker is asked to stop. The same
  bound keeps a finished task's outcome unrecorded for at most about ``HOLD_SECONDS`` (plus the
  task that crossed it); ``task_finished`` is sent once the outcome is stored.

Other databases (MySQL) keep django-tasks' own loop.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from traceback import format_exception
from typing import Any, cast

from django.core.exceptions import SuspiciousOperation
from django.db import OperationalError, close_old_connections, connection, models
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import is_locked_database_exception, retry

log = logging.getLogger("django_tasks_db")

# A claimed batch is given back after this long (see the module's docstring): long enough that a
# backlog of quick tasks is claimed a batch at a time, short enough for priorities to matter.
HOLD_SECONDS = 1.0
CLAIM_SIZE = 8


class ClaimingWorker(Worker):
    def __init__(self, *, claim_size: int = CLAIM_SIZE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.claim_size = claim_size
        self._finished: list[DBTaskResult] = []  # run, outcome not yet stored (record_outcomes)

    def run(self) -> None:
        if connection.vendor not in ("postgresql", "sqlite"):
            return super().run()
        log.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 - spread the start of many workers
        while self.running:
            close_old_connections()
            want = self.claim_size
            if self.max_tasks is not None:
                want = min(want, self.max_tasks - self._run_tasks)
            try:
                batch = self.claim(want)
            except OperationalError as e:
                if not is_locked_database_exception(e):
                    raise
                batch, retrieved = [], False  # SQLite busy: try again after the interval
            else:
                retrieved = True
            self.run_batch(batch)
            if self.batch and retrieved and not batch:
                log.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return None
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                log.info("Run maximum tasks (%d) on worker=%s - exiting gracefully.", self._run_tasks,
                         self.worker_id)
                return None
            close_old_connections()
            if self.running and not batch:
                time.sleep(self.interval)
        return None

    def run_batch(self, batch: list[DBTaskResult]) -> None:
        held_since = time.monotonic()
        done = 0
        try:
            for task_result in batch:
                if not self.running or (done and time.monotonic() - held_since > HOLD_SECONDS):
                    break
                self.run_task(task_result)
                done += 1
        finally:
            # Also when a signal ends the process between tasks (django-tasks' handler exits at
            # once when no task runs): the outcomes are recorded, and what was claimed and not
            # finished goes back now, rather than when the recovery notices the dead worker.
            try:
                self.record_outcomes()
            finally:
                if done < len(batch):
                    self.release(batch[done:])

    def record_outcomes(self) -> None:
        """Store the outcomes of the tasks run since the last call, in one statement, then tell
        ``task_finished``'s listeners, as django-tasks' worker does after each task."""
        finished, self._finished = self._finished, []
        if not finished:
            return
        _store_outcomes(finished)
        for row in finished:
            try:
                sender = type(row.task.get_backend())
                task_result = row.task_result
            except (ImportError, SuspiciousOperation):
                log.exception("Task id=%s failed unexpectedly", row.id)
            else:
                task_finished.send(sender=sender, task_result=task_result)

    def claim(self, limit: int) -> list[DBTaskResult]:
        """Mark up to ``limit`` ready tasks RUNNING for this worker; them, in priority order."""
        if limit <= 0:
            return []
        q = connection.ops.quote_name
        table = q(DBTaskResult._meta.db_table)
        now = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        where = [f"{q('status')} = %s", f"{q('backend_name')} = %s",
                 f"({q('run_after')} = %s OR {q('run_after')} <= %s)"]
        params: list[Any] = [TaskResultStatus.READY, self.backend_name, adapt(get_date_max()), adapt(now)]
        if not self.process_all_queues:
            where.append(f"{q('queue_name')} IN ({', '.join(['%s'] * len(self.queue_names))})")
            params += self.queue_names
        if self.excluded_queue_names:
            where.append(f"{q('queue_name')} NOT IN ({', '.join(['%s'] * len(self.excluded_queue_names))})")
            params += self.excluded_queue_names
        postgres = connection.vendor == "postgresql"
        append = (f"{q('worker_ids')} || jsonb_build_array(%s::text)" if postgres
                  else f"json_insert({q('worker_ids')}, '$[#]', %s)")
        # Our own table and column names; every value is a parameter.
        sql = (f"UPDATE {table} SET {q('status')} = %s, {q('started_at')} = %s, {q('worker_ids')} = {append} "  # noqa: S608
               f"WHERE {q('id')} IN (SELECT {q('id')} FROM {table} WHERE {' AND '.join(where)} "
               f"ORDER BY {q('priority')} DESC, {q('run_after')}, {q('enqueued_at')} LIMIT %s"
               f"{' FOR UPDATE SKIP LOCKED' if postgres else ''}) RETURNING *")
        rows = list(DBTaskResult.objects.raw(sql, [TaskResultStatus.RUNNING, adapt(now), self.worker_id,
                                                   *params, limit]))
        # RETURNING comes in no particular order: run them in the queue's.
        rows.sort(key=lambda r: (-r.priority, r.run_after, r.enqueued_at))
        return rows

    def release(self, tasks: list[DBTaskResult]) -> None:
        """Give claimed tasks that were not started back to the queue (stopping, or held too long)."""
        DBTaskResult.objects.filter(pk__in=[t.pk for t in tasks], status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """django-tasks' ``run_task`` (signals, context, outcome), with the outcome kept on the
        row until the batch ends (``record_outcomes``), with when this task really began."""
        started = timezone.now()
        try:
            self.running_task = True
            task = db_task_result.task
            task_result = db_task_result.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs)
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            # Inside the error handling: a return value that cannot be stored (JSON) is a failure.
            json.dumps(value, cls=_RETURN_VALUE.encoder)
            _finish(db_task_result, started, TaskResultStatus.SUCCESSFUL, return_value=value)
        except BaseException as e:
            _finish(db_task_result, started, TaskResultStatus.FAILED,
                    exception_class_path=f"{type(e).__module__}.{type(e).__qualname__}",
                    traceback="".join(format_exception(e)))
        finally:
            self._finished.append(db_task_result)
            self.running_task = False
            self._run_tasks += 1


_OUTCOME_FIELDS = ("status", "started_at", "finished_at", "return_value", "exception_class_path", "traceback")
_RETURN_VALUE = cast(models.JSONField, DBTaskResult._meta.get_field("return_value"))


def _finish(row: DBTaskResult, started: dt.datetime, status: str, *, return_value: Any = None,
            exception_class_path: str = "", traceback: str = "") -> None:
    row.status, row.started_at, row.finished_at = status, started, timezone.now()
    row.return_value, row.exception_class_path, row.traceback = return_value, exception_class_path, traceback


@retry()
def _store_outcomes(rows: list[DBTaskResult]) -> None:
    """``UPDATE task SET <outcome> = v.<outcome> … FROM (the rows' values) v WHERE id = v.id``:
    one plain statement for the batch (PostgreSQL, and SQLite ≥ 3.33). Saving each row cost
    a statement and ~0.7 ms of ORM per task; Django's ``bulk_update`` (CASE per column and row)
    costs even more to build."""
    opts = DBTaskResult._meta
    fields = [cast(models.Field, opts.pk), *(cast(models.Field, opts.get_field(name)) for name in _OUTCOME_FIELDS)]
    q = connection.ops.quote_name
    # PostgreSQL types a VALUES list from its first row's literals: each value is cast to its
    # column's type there (a NULL return value would be text). SQLite takes the values as they are.
    if connection.vendor == "postgresql":
        one = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields) + ")"
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = [q(str(field.column)) for field in fields]
    sets = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    sql = (f"WITH v({', '.join(columns)}) AS (VALUES {', '.join([one] * len(rows))}) "  # noqa: S608 (our names)
           f"UPDATE {q(opts.db_table)} SET {sets} FROM v WHERE {q(opts.db_table)}.{columns[0]} = v.{columns[0]}")
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
