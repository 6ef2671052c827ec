"""``jiesu worker``: django-tasks' database worker that also recovers the tasks of crashed
workers (jiesu.ops.tasks_recovery) at start and then every ``--recover-every`` seconds."""

from __future__ import annotations

import threading

from django.db import connection
from django_tasks_db.management.commands import db_worker

from jiesu.ops.tasks_recovery import requeue_orphans, this_worker_id


class Command(db_worker.Command):
    help = "Run background tasks; requeue the tasks of workers that died mid-way."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)
        parser.add_argument("--recover-every", type=float, default=60.0)

    def handle(self, *args, **options):  # type: ignore[override]  # adds --recover-every
        worker_id = options.pop("worker_id", None)
        recover_every = float(options.pop("recover_every", 60.0))
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
        try:
            return super().handle(*args, worker_id=worker_id or this_worker_id(), **options)  # type: ignore[misc]
        finally:
            stop.set()
