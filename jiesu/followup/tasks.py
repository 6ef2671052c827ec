"""Background work: the periodic sweep as a django-tasks task (``sweep_task.enqueue()``), for
deployments that schedule through the task queue. ``jiesu serve`` runs ``jiesu sweep --every``
in a child process instead (see ``jiesu.ops.management.commands.serve``)."""

from __future__ import annotations

from django_tasks import task

from jiesu.followup.services import sweep


@task()
def sweep_task() -> dict[str, int]:
    result = sweep()
    return {"overdue": result.overdue, "callbacks_queued": result.callbacks_queued}
