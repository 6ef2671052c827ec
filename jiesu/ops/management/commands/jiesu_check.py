"""`jiesu check`: Django's system checks, the database (and its read replica, if any), the
working-day calendar, and acknowledged orders not yet recorded."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.deadlines.models import CalendarYear
from jiesu.ops import replica


class Command(BaseCommand):
    help = "Check configuration, database and the holiday calendar."

    def handle(self, *args, **options):
        call_command("check")
        problems, warnings = [], []
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            problems.append("unapplied migrations: run `jiesu migrate`")
        else:
            today = clock.now().astimezone(SHANGHAI).date()
            known = set(CalendarYear.objects.values_list("year", flat=True))
            if today.year not in known:
                problems.append(
                    f"no official holiday schedule for {today.year}: working-day deadlines fall back to "
                    "Monday–Friday; enter the State Council's dates in the admin (Calendar days)"
                )
            # Deadlines of up to 30 working days reach into next year from mid-November on.
            if today >= dt.date(today.year, 11, 15) and today.year + 1 not in known:
                warnings.append(
                    f"the {today.year + 1} holiday schedule is not entered yet; deadlines past "
                    f"{today.year}-12-31 count Monday–Friday only until it is"
                )
            self._receipts(problems, warnings)
        self.stdout.write(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        if replica.configured():
            self._replica(problems, warnings)
        for w in warnings:
            self.stdout.write(self.style.WARNING(f"warning: {w}"))
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("ok"))

    def _receipts(self, problems: list[str], warnings: list[str]) -> None:
        """Orders acknowledged with ``Prefer: respond-async`` that are not made: failed ones wait
        for an administrator (admin: Intake receipts, "make again"); pending ones older than a
        minute mean no ``jiesu worker`` is making them."""
        from jiesu.orders.models import IntakeReceipt, ReceiptState

        failed = IntakeReceipt.objects.filter(state=ReceiptState.FAILED).count()
        if failed:
            problems.append(f"{failed} acknowledged order(s) could not be recorded: see the admin, Intake receipts")
        stuck = IntakeReceipt.objects.filter(state=ReceiptState.PENDING,
                                             received_at__lt=clock.now() - dt.timedelta(minutes=1)).count()
        if stuck:
            warnings.append(f"{stuck} acknowledged order(s) waiting over a minute: is `jiesu worker` running?")

    def _replica(self, problems: list[str], warnings: list[str]) -> None:
        """The replica answers, is a standby, and how far its replay is behind (the insight
        pages show the primary as of that long ago). One that does not answer is a problem
        although the pages then read the primary (``jiesu.ops.replica``): the load it was for is
        back on the primary until it is fixed."""
        conn = connections[replica.ALIAS]
        try:
            status = replica.status()
        except replica.DOWN as err:
            problems.append(f"the read replica (JIESU_REPLICA_URL) does not answer, the insight pages read the "
                            f"primary meanwhile: {err}".strip())
            return
        except DatabaseError as err:
            problems.append(f"the read replica (JIESU_REPLICA_URL) answers, but not whether it is a standby: {err}")
            return
        if status.standby is None:
            problems.append("the read replica (JIESU_REPLICA_URL) is not PostgreSQL")
            return
        if not status.standby:
            warnings.append("the read replica (JIESU_REPLICA_URL) is not a standby: is it the primary?")
        limit = replica.max_lag()
        if status.lag is not None and limit and status.lag > limit:
            warnings.append(f"the read replica is {status.lag:.0f} s behind (JIESU_REPLICA_MAX_LAG: {limit:.0f} s): "
                            "the insight pages read the primary until it catches up")
        # No replay yet, or a primary (nothing to replay), gives no lag.
        behind = "lag unknown" if status.lag is None else f"{status.lag:.1f} s behind"
        self.stdout.write(f"replica: {conn.vendor} ({conn.settings_dict['NAME']}), {behind}")
