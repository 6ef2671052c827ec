"""``jiesu worker``: django-tasks' database worker that claims tasks in one statement each
(jiesu.ops.worker) and recovers the tasks of crashed workers (jiesu.ops.tasks_recovery) at
start and then every ``--recover-every`` seconds. A thread of its own makes the orders
acknowledged with ``Prefer: respond-async``, in batches (jiesu.orders.actions.receipts)."""

from __future__ import annotations

import threading

from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.management.commands import db_worker

from jiesu.ops import heap
from jiesu.ops.tasks_recovery import requeue_orphans, this_worker_id
from jiesu.ops.worker import CLAIM_SIZE, ClaimingWorker
from jiesu.orders.actions import receipts


class Command(db_worker.Command):
    help = "Run background tasks; requeue the tasks of workers that died mid-way."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)
        parser.add_argument("--recover-every", type=float, default=60.0)
        parser.add_argument("--claim", type=int, default=CLAIM_SIZE,
                            help="tasks claimed at once (one statement; default: %(default)s)")
        parser.add_argument("--intake-every", type=float, default=0.1,
                            help="seconds between looks for orders acknowledged with Prefer: respond-async "
                                 "(jiesu.orders.actions.receipts; 0: not in this worker; default: %(default)s)")

    def handle(self, *args, **options):  # type: ignore[override]  # adds --recover-every, --claim, --intake-every
        recover_every = float(options["recover_every"])
        requeue_orphans()
        stop = threading.Event()

        def recover() -> None:
            while not stop.wait(recover_every):
                try:
                    requeue_orphans()
                finally:
                    connection.close()

        if recover_every > 0:
            threading.Thread(target=recover, daemon=True, name="jiesu-task-recovery").start()
        intake_every = float(options["intake_every"])
        # What every batch uses, loaded before the heap is settled (jiesu.ops.heap).
        heap.settle(warm=_load_triage)
        if intake_every > 0:
            threading.Thread(target=receipts.drain, args=(stop,), kwargs={"idle": intake_every}, daemon=True,
                             name="jiesu-batch-intake").start()
        try:
            self.run_worker(**options)
        finally:
            stop.set()

    def run_worker(self, *, verbosity: int, queue_name: str, interval: float, batch: bool, backend_name: str,
                   startup_delay: bool, reload: bool, max_tasks: int | None, worker_id: str | None,
                   exclude_queues: str, claim: int, **_options) -> None:
        """db_worker's ``handle`` with Jiesu's worker (its claims) and worker id (its recovery);
        no autoreload: a worker restarted under a claim would leave it to the recovery."""
        if claim < 1:
            raise CommandError("--claim must be at least 1")
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ClaimingWorker(queue_names=queue_names, interval=interval, batch=batch, backend_name=backend_name,
                                startup_delay=startup_delay, max_tasks=max_tasks,
                                worker_id=worker_id or this_worker_id(), excluded_queue_names=excluded,
                                claim_size=claim)
        worker.configure_signals()
        worker.run()


def _load_triage() -> None:
    from jiesu.dispatch import runtime

    runtime.engine()
