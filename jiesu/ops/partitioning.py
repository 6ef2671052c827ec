"""Monthly partitions of the order and event tables on PostgreSQL (issue 8; docs/scaling.md).

Why: at 25 million orders a year the two biggest tables are the orders and their append-only
events. Range partitions by month keep each month's rows and indexes together: a month's
scorecard reads one partition (pruning), old months can be moved to cheaper storage or detached
to an archive without a long DELETE, and vacuum and index builds work on one month at a time.

The layout (made by ``partition_orders_and_events``, ``jiesu partition``):

- ``orders_workorder``: ``PARTITION BY RANGE (id)``. An order's id is its number read as an
  integer (``jiesu.orders.numbering``: ``YYYYMMDD`` + the day's sequence), so a Beijing month is
  the id range ``[YYYYMM01000000, next month's)``: the month of the order's number. The primary
  key stays ``id`` alone, so every foreign key *into* orders (assignments, requesters, events,
  replies, callbacks, …) stays, and a lookup by id — a primary-key fetch, the join from an
  assignment, an event or the search index — reads one partition. Only ``number`` loses its
  UNIQUE index for a plain one (PostgreSQL wants the partition key in every unique index); the
  id, which is the number, is unique.
  A query by ``received_at`` has no id bounds (a draft submitted days later keeps its number),
  so it looks into every month's ``received_at`` index: one index probe per month, cheap next
  to the by-id reads that happen many times per page.
  Orders stored before ids carried their numbers (small "legacy" ids) land in the ``DEFAULT``
  partition.
- ``orders_event``: ``PARTITION BY RANGE (at)``, primary key ``(id, at)``. Nothing refers to an
  event, so nothing else changes; its foreign keys to orders, assignments and users stay.
- One partition per Beijing month (midnight UTC+8) from ``first`` for ``months`` months, plus a
  ``DEFAULT`` partition that catches anything outside them; ``add_months`` creates next months
  ahead of time (a monthly job).

(Orders were first partitioned by ``received_at``, primary key ``(id, received_at)``: that
dropped the foreign keys into orders and made every by-id lookup probe every month's primary
key, 17 ms instead of under 1 ms at 1M orders; docs/scaling.md.)

Existing rows are copied into the new layout, so it can be applied to a filled database, but it
rewrites both tables under an exclusive lock: do it before loading, or in a maintenance window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jiesu.orders import numbering

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

ORDERS = "orders_workorder"
EVENTS = "orders_event"
KEYS = {ORDERS: "id", EVENTS: "at"}


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


def bounds_sql(table: str, start: dt.date, end: dt.date) -> str:
    """``FOR VALUES`` of one month of ``table``: order ids (numbers) of those days, or event times."""
    if KEYS[table] == "id":
        return f"FOR VALUES FROM ({numbering.first_id(start)}) TO ({numbering.first_id(end)})"
    return f"FOR VALUES FROM ('{bound(start)}') TO ('{bound(end)}')"


def referable(table: str) -> bool:
    """Whether foreign keys can point at ``table``'s ``id``: a plain table, or one partitioned on
    ``id`` itself (its primary key is still ``id`` alone)."""
    return not is_partitioned(table) or KEYS.get(table) == "id"


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


def _default_connection() -> BaseDatabaseWrapper:
    from django.db import connection

    return connection


def _cursor(connection: BaseDatabaseWrapper | None = None):
    connection = connection or _default_connection()
    if connection.vendor != "postgresql":
        raise PartitioningError("Monthly partitions exist on PostgreSQL only; SQLite keeps plain tables.")
    return connection.cursor()


def is_partitioned(table: str, connection: BaseDatabaseWrapper | None = None) -> bool:
    """Whether ``table`` is partitioned, on ``connection`` (default: the default database's; a
    migration operation passes its schema editor's)."""
    connection = connection or _default_connection()
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s AND relkind IN ('r', 'p')", [table])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions(table: str, connection: BaseDatabaseWrapper | None = None) -> list[str]:
    """The names of ``table``'s partitions, in name order (so by month)."""
    with _cursor(connection) as cursor:
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
            # Names are made here from the table's name and a date; bounds are dates or integers.
            cursor.execute(f'CREATE TABLE "{b.name}" PARTITION OF "{table}" {bounds_sql(table, b.start, b.end)}')
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
        # Foreign keys out of the table come back (a self-reference too, see ``referable``); a key
        # into a partitioned table has a clone per partition (conparentid), made with it.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0",
            [table],
        )
        outbound = cursor.fetchall()
        # Those into it come back when the new table keeps ``id`` as its key (orders, by id).
        cursor.execute(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conrelid <> %s::regclass AND conparentid = 0",
            [table, table],
        )
        inbound = cursor.fetchall()
        for name, child, _definition in inbound:
            cursor.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        # The new primary key keeps the usual name (<table>_pkey: CLUSTER … USING and the tools use it).
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [old])
        for (pkey,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{old}" RENAME CONSTRAINT "{pkey}" TO "{old}_pkey"')
        cursor.execute(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS '
            f'INCLUDING STORAGE) PARTITION BY RANGE ("{key}")'
        )
        primary = "id" if key == "id" else f'id, "{key}"'
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({primary})')
        for b in monthly(table, first, months):
            cursor.execute(f'CREATE TABLE "{b.name}" PARTITION OF "{table}" {bounds_sql(table, b.start, b.end)}')
        cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        cursor.execute(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{old}"')  # noqa: S608
        # The identity goes on after the copied rows. Orders take their ids from their numbers;
        # the identity only ever matters below them (legacy ids), so it goes on after those.
        below = f" WHERE id < {numbering.FIRST_NUMBERED_ID}" if key == "id" else ""
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT max(id) FROM "{table}"{below}), 0) + 1, false)'
        )
        cursor.execute(f'DROP TABLE "{old}" CASCADE')
        for _name, indexdef in indexes:
            has_key = re.search(rf"\(.*\b{key}\b.*\)", indexdef) is not None
            cursor.execute(indexdef if has_key else non_unique(indexdef))
        for name, definition, target in outbound:
            if not referable(target.strip('"')):
                continue  # orders partitioned otherwise than by id have no unique key on id alone
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        if referable(table):
            for name, child, definition in inbound:
                cursor.execute(f'ALTER TABLE {child} ADD CONSTRAINT "{name}" {definition}')


def partition_orders_and_events(*, first: dt.date, months: int) -> None:
    """Both tables, orders first (the events' foreign key to orders goes with it)."""
    partition_table(ORDERS, first=first, months=months)
    partition_table(EVENTS, first=first, months=months)
