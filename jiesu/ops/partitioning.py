"""Monthly partitions of the order and event tables on PostgreSQL (issue 8; docs/scaling.md).

Why: at 25 million orders a year the two biggest tables are the orders and their append-only
events. Range partitions by month keep each month's rows and indexes together: a month's
scorecard reads one partition (pruning), old months can be moved to cheaper storage or detached
to an archive without a long DELETE, and vacuum and index builds work on one month at a time.

The layout (made by ``partition_orders_and_events``, ``jiesu partition``):

- ``orders_event``: ``PARTITION BY RANGE (at)``, primary key ``(id, at)``. Nothing refers to an
  event, so nothing else changes; its foreign keys to orders (when those are not partitioned),
  assignments and users stay.
- ``orders_workorder``: ``PARTITION BY RANGE (received_at)``, primary key ``(id, received_at)``.
  PostgreSQL requires the partition key in every unique constraint, so ``id`` alone cannot be
  referenced any more: the foreign keys *into* orders (assignments, requesters, events, replies,
  callbacks, …) are dropped, and ``number`` keeps an ordinary index instead of a unique one.
  Integrity stays with the services, which is where it already lives: ids come from the
  identity sequence, numbers from the per-day counter taken under a row lock
  (jiesu.orders.actions), orders are never deleted, and children are written in the same
  transaction as, or after, their order. Django keeps seeing ``id`` as the primary key (it is
  unique in practice), so no model, query or migration changes; SQLite is not affected at all.
  (Django 5.2's ``CompositePrimaryKey`` could declare ``(id, received_at)``, but foreign keys to
  a model with a composite key are not supported yet; every related model would change.)
- One partition per Beijing month (midnight UTC+8) from ``first`` for ``months`` months, plus a ``DEFAULT`` partition that
  catches anything outside them; ``add_months`` creates next months ahead of time (a monthly job).

Existing rows are copied into the new layout, so it can be applied to a filled database, but it
rewrites both tables under an exclusive lock: do it before loading, or in a maintenance window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ORDERS = "orders_workorder"
EVENTS = "orders_event"
KEYS = {ORDERS: "received_at", EVENTS: "at"}


class PartitioningError(Exception):
    pass


# --- pure rules ---------------------------------------------------------------------------------


def month_starts(first: dt.date, months: int) -> list[dt.date]:
    """The first days of ``months`` consecutive months from ``first``'s month, and the one after
    (the upper bound of the last partition)."""
    y, m = first.year, first.month
    out = []
    for _ in range(months + 1):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def bound(day: dt.date) -> str:
    """Midnight in Beijing (UTC+8, no daylight saving): partitions hold the months that the
    scorecards and reports count, so that a month's figures read exactly one partition."""
    return f"{day.isoformat()} 00:00:00+08"


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y%m}"


def non_unique(indexdef: str) -> str:
    """An index definition without UNIQUE (for unique indexes that lack the partition key)."""
    return re.sub(r"^CREATE UNIQUE INDEX", "CREATE INDEX", indexdef)


@dataclass(frozen=True)
class Bounds:
    name: str
    start: dt.date
    end: dt.date


def monthly(table: str, first: dt.date, months: int) -> list[Bounds]:
    starts = month_starts(first, months)
    return [Bounds(partition_name(table, a), a, b) for a, b in zip(starts, starts[1:], strict=False)]


# --- on PostgreSQL ------------------------------------------------------------------------------


def _cursor():
    from django.db import connection

    if connection.vendor != "postgresql":
        raise PartitioningError("Monthly partitions exist on PostgreSQL only; SQLite keeps plain tables.")
    return connection.cursor()


def is_partitioned(table: str) -> bool:
    from django.db import connection

    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s AND relkind IN ('r', 'p')", [table])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions(table: str) -> list[str]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [table],
        )
        return [r[0] for r in cursor.fetchall()]


def add_months(table: str, first: dt.date, months: int) -> list[str]:
    """Create the monthly partitions that do not exist yet (a monthly job runs this ahead)."""
    have = set(partitions(table))
    made = []
    with _cursor() as cursor:
        for b in monthly(table, first, months):
            if b.name in have:
                continue
            # Names are made here from the table's name and a date; bounds are dates.
            cursor.execute(
                f'CREATE TABLE "{b.name}" PARTITION OF "{table}" '  # noqa: S608
                f"FOR VALUES FROM ('{bound(b.start)}') TO ('{bound(b.end)}')"
            )
            made.append(b.name)
    return made


def partition_table(table: str, *, first: dt.date, months: int) -> None:
    """Turn ``table`` into a table partitioned by month on its key column, rows included."""
    from django.db import transaction

    key = KEYS[table]
    old = f"{table}_unpartitioned"
    with transaction.atomic(), _cursor() as cursor:
        if is_partitioned(table):
            return
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p')",
            [table, table],
        )
        indexes = cursor.fetchall()
        # Foreign keys out of the table come back; those into it cannot (see the module docstring).
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        outbound = cursor.fetchall()
        cursor.execute(
            "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE confrelid = %s::regclass "
            "AND contype = 'f' AND conrelid <> %s::regclass",
            [table, table],
        )
        for name, child in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cursor.execute(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS '
            f'INCLUDING STORAGE) PARTITION BY RANGE ("{key}")'
        )
        cursor.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (id, "{key}")')
        for b in monthly(table, first, months):
            cursor.execute(
                f'CREATE TABLE "{b.name}" PARTITION OF "{table}" '  # noqa: S608
                f"FOR VALUES FROM ('{bound(b.start)}') TO ('{bound(b.end)}')"
            )
        cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        cursor.execute(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{old}"')  # noqa: S608
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)'
        )
        cursor.execute(f'DROP TABLE "{old}" CASCADE')
        for _name, indexdef in indexes:
            has_key = re.search(rf"\(.*\b{key}\b.*\)", indexdef) is not None
            cursor.execute(indexdef if has_key else non_unique(indexdef))
        for name, definition, target in outbound:
            if is_partitioned(target):
                continue  # a partitioned target has no unique key on id alone
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def partition_orders_and_events(*, first: dt.date, months: int) -> None:
    """Both tables, orders first (the events' foreign key to orders goes with it)."""
    partition_table(ORDERS, first=first, months=months)
    partition_table(EVENTS, first=first, months=months)
