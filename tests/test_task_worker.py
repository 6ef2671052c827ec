"""Jiesu's task worker (jiesu.ops.worker): it claims a batch of tasks in one statement, runs
them in priority order, records their outcomes in one statement, and gives back what it claimed
but did not start (asked to stop, or held too long)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiesu.ops import worker as worker_module
from jiesu.ops.worker import ClaimingWorker
from tests.task_fixtures import echo, urgent_echo

# Autocommit, as the worker runs in production (a claim is its own transaction).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "other"]}}


def _worker(*, claim_size: int = 8, queues: tuple[str, ...] = ("default",), max_tasks: int | None = None,
            excluded: tuple[str, ...] = ()) -> ClaimingWorker:
    return ClaimingWorker(queue_names=list(queues), interval=0, batch=True, backend_name="default",
                          startup_delay=False, max_tasks=max_tasks, worker_id="box:1",
                          excluded_queue_names=list(excluded), claim_size=claim_size)


def _status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


def test_a_batch_is_claimed_in_one_statement_run_in_priority_order_and_each_outcome_is_one_update():
    results = [echo.enqueue(f"v{i}") for i in range(5)]
    first = urgent_echo.enqueue("urgent")  # queued last, runs first
    worker = _worker()
    ran: list[str] = []
    real_run = worker.run_task
    worker.run_task = lambda row: (ran.append(row.args_kwargs["args"][0]), real_run(row))[1]  # type: ignore[method-assign]
    with CaptureQueriesContext(connection) as ctx:
        worker.run()
    # One claim of the six, their six outcomes in one statement, and the claim that finds the queue empty.
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("UPDATE", "WITH"))]
    assert len(ctx.captured_queries) == len(writes) == 1 + 1 + 1
    assert ran == ["urgent", "v0", "v1", "v2", "v3", "v4"]
    for result in [first, *results]:
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids == ["box:1"]
        assert row.started_at <= row.finished_at and row.return_value == row.args_kwargs["args"][0]


def test_a_failure_is_recorded_with_its_exception_and_the_batch_goes_on():
    failing, fine = echo.enqueue("fail"), echo.enqueue("fine")
    _worker().run()
    row = DBTaskResult.objects.get(pk=failing.id)
    assert row.status == TaskResultStatus.FAILED and row.exception_class_path == "builtins.ValueError"
    assert "asked to fail" in row.traceback and row.finished_at is not None
    assert _status(fine) == TaskResultStatus.SUCCESSFUL


def test_only_ready_tasks_of_the_workers_queues_are_claimed():
    later = echo.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue("later")
    other = echo.using(queue_name="other").enqueue("other")
    done = DBTaskResult.objects.get(pk=echo.enqueue("done").id)
    done.status = TaskResultStatus.SUCCESSFUL
    done.save()
    now = echo.enqueue("now")
    _worker().run()
    assert _status(now) == TaskResultStatus.SUCCESSFUL
    assert (_status(later), _status(other)) == (TaskResultStatus.READY, TaskResultStatus.READY)
    assert DBTaskResult.objects.get(pk=done.pk).worker_ids == []  # not claimed again
    _worker(queues=("*",), excluded=("other",)).run()
    assert _status(other) == TaskResultStatus.READY
    _worker(queues=("*",)).run()
    assert _status(other) == TaskResultStatus.SUCCESSFUL


def test_claimed_tasks_not_started_go_back_when_the_worker_stops():
    results = [echo.enqueue(f"v{i}") for i in range(4)]
    worker = _worker()
    real_run = worker.run_task

    def run_then_stop(row):
        real_run(row)
        worker.running = False  # SIGTERM during the first task

    worker.run_task = run_then_stop  # type: ignore[method-assign]
    worker.run()
    assert [_status(r) for r in results] == [TaskResultStatus.SUCCESSFUL] + [TaskResultStatus.READY] * 3
    assert all(DBTaskResult.objects.get(pk=r.id).started_at is None for r in results[1:])


def test_claimed_tasks_go_back_when_a_signal_ends_the_worker_between_tasks():
    results = [echo.enqueue(f"v{i}") for i in range(3)]
    worker = _worker()
    real_run = worker.run_task

    def run_then_exit(row):
        real_run(row)
        raise SystemExit(0)  # what django-tasks' SIGTERM handler does when no task is running

    worker.run_task = run_then_exit  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        worker.run()
    assert [_status(r) for r in results] == [TaskResultStatus.SUCCESSFUL] + [TaskResultStatus.READY] * 2


def test_a_batch_held_too_long_is_given_back_and_claimed_again(monkeypatch):
    monkeypatch.setattr(worker_module, "HOLD_SECONDS", -1.0)  # every batch has been held too long
    results = [echo.enqueue(f"v{i}") for i in range(3)]
    worker = _worker()
    claims: list[int] = []
    real_claim = worker.claim
    worker.claim = lambda limit: (rows := real_claim(limit), claims.append(len(rows)))[0]  # type: ignore[method-assign]
    worker.run()
    # Each batch runs one task and gives the others back, which the next claim takes again.
    assert claims == [3, 2, 1, 0]
    assert all(_status(r) == TaskResultStatus.SUCCESSFUL for r in results)
    assert all(len(DBTaskResult.objects.get(pk=r.id).worker_ids) == i + 1 for i, r in enumerate(results))


def test_max_tasks_bounds_the_claim():
    results = [echo.enqueue(f"v{i}") for i in range(3)]
    _worker(max_tasks=2).run()
    assert [_status(r) for r in results] == [TaskResultStatus.SUCCESSFUL] * 2 + [TaskResultStatus.READY]


def test_outcomes_are_stored_when_the_batch_ends_before_task_finished_is_sent():
    from django_tasks.signals import task_finished

    from tests.task_fixtures import returns

    first, nothing, unstorable = echo.enqueue("v0"), returns.enqueue("none"), returns.enqueue("unstorable")
    seen_during: list[str] = []
    seen_after: dict[str, str] = {}
    worker = _worker()
    real_run = worker.run_task
    worker.run_task = lambda row: (seen_during.append(_status(first)), real_run(row))[1]  # type: ignore[method-assign]

    def listener(sender, task_result, **kw):
        seen_after[task_result.id] = _status(task_result)

    task_finished.connect(listener, dispatch_uid="test-outcomes")
    try:
        worker.run()
    finally:
        task_finished.disconnect(dispatch_uid="test-outcomes")
    # The first task's outcome is not stored while its batch runs; every outcome is when the
    # listeners hear of it.
    assert seen_during == [TaskResultStatus.RUNNING] * 3
    assert seen_after == {first.id: TaskResultStatus.SUCCESSFUL, nothing.id: TaskResultStatus.SUCCESSFUL,
                          unstorable.id: TaskResultStatus.FAILED}
    row = DBTaskResult.objects.get(pk=nothing.id)
    assert row.return_value is None and row.finished_at is not None and row.worker_ids == ["box:1"]
    row = DBTaskResult.objects.get(pk=unstorable.id)
    assert row.exception_class_path == "builtins.TypeError" and "JSON serializable" in row.traceback
