"""The ``jiesu`` console command: Django's manage.py with Jiesu's settings.

    jiesu serve [--port N]       serve with gunicorn plus a background worker
    jiesu setup                  migrate, load the demo city into an empty database, print logins
    jiesu demo [--orders N] [--seed S]
    jiesu token --user NAME      print a new API token
    jiesu apikey create NAME     print a new Open311 API key
    jiesu check                  configuration and calendar sanity
    jiesu worker                 run background tasks
    jiesu sweep [--every N]      flag overdue orders for callback, queue lost callbacks
    jiesu scorecard --period 2026-03 --level unit|district|street [--json]
    jiesu <any Django command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "worker":
        args[1] = "jiesu_worker"  # db_worker that also requeues the tasks of crashed workers
    if len(args) > 1 and args[1] == "check" and "--deploy" not in args:
        args[1] = "jiesu_check"
    try:
        execute_from_command_line(args)
    except BrokenPipeError:
        # `jiesu classify … | head`: the reader has gone, which is not an error of ours. Point
        # stdout at /dev/null so that the interpreter's final flush does not fail again
        # (the recipe of Python's `signal` documentation), and exit as a killed-by-SIGPIPE pipe would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


if __name__ == "__main__":
    main()
