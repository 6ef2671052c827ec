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
        pages show the primary as of that long ago)."""
        conn = connections[replica.ALIAS]
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())")
                standby, lag = cursor.fetchone()
        except DatabaseError as err:
            problems.append(f"the read replica (JIESU_REPLICA_URL) does not answer: {err}".strip())
            return
        if not standby:
            warnings.append("the read replica (JIESU_REPLICA_URL) is not a standby: is it the primary?")
        # No replay yet, or an idle primary (nothing to replay), gives no timestamp.
        behind = "unknown" if lag is None else f"{float(lag):.1f} s behind"
        self.stdout.write(f"replica: {conn.vendor} ({conn.settings_dict['NAME']}), last replay {behind}")
