"""`jiesu check`: Django's system checks, the database, and the working-day calendar."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.deadlines.models import CalendarYear


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
        self.stdout.write(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        for w in warnings:
            self.stdout.write(self.style.WARNING(f"warning: {w}"))
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("ok"))
