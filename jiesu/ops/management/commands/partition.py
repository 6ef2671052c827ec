"""``jiesu partition``: monthly partitions of orders and events on PostgreSQL (jiesu.ops.partitioning).

    jiesu partition --first 2026-01 --months 24        # convert both tables (rows are copied)
    jiesu partition --first 2027-01 --months 12 --add  # create next year's partitions ahead
    jiesu partition --first 2026-01 --months 24 --events-only   # the events alone
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from jiesu.ops import partitioning


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--first takes a month as YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = "Partition the order and event tables by month (PostgreSQL only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--first", required=True, type=_month, help="first month, YYYY-MM")
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--add", action="store_true", help="only create missing months")
        parser.add_argument("--events-only", action="store_true",
                            help="partition the events alone; orders stay one table (docs/scaling.md)")

    def handle(self, *args, first: dt.date, months: int, add: bool, events_only: bool, **options) -> None:
        if not 1 <= months <= 240:
            raise CommandError("--months must be between 1 and 240.")
        try:
            if add:
                for table in (partitioning.ORDERS, partitioning.EVENTS):
                    if not partitioning.is_partitioned(table) and table == partitioning.EVENTS:
                        raise CommandError(f"{table} is not partitioned yet: run without --add first.")
                    if not partitioning.is_partitioned(table):
                        continue  # orders left whole (--events-only)
                    made = partitioning.add_months(table, first, months)
                    self.stdout.write(f"{table}: {len(made)} new partitions")
                return
            if events_only:
                partitioning.partition_table(partitioning.EVENTS, first=first, months=months)
            else:
                partitioning.partition_orders_and_events(first=first, months=months)
        except partitioning.PartitioningError as e:
            raise CommandError(str(e)) from None
        for table in (partitioning.ORDERS, partitioning.EVENTS):
            if partitioning.is_partitioned(table):
                self.stdout.write(f"{table}: {len(partitioning.partitions(table))} partitions")
