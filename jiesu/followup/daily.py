"""The scorecard's counts (``jiesu.followup.metrics``) per Asia/Shanghai day, rolled up (汇总),
and the counting itself.

Why: at 10 million orders a month's ranking counted ~830,000 orders and their assignments
eighteen ways on every request (2.5–3.5 s). Every count is a sum over the period's orders and
each order falls in one day, so a period's counts are the sum of its days' counts. A past day's
counts seldom change: each day keeps them per area (the orders' own area, rolled up to street or
district when read, so a moved area needs no recount) and per unit, in its ``DashboardDay`` row
(``jiesu.insight.rollup``, whose marks cover these counts too).

How they stay exact:

- any change to one of the day's orders or their assignments marks the row ``scores_dirty`` in
  the same transaction (``rollup.mark``, from its signals);
- a few counts depend on the moment of counting (``as_of``): a contact or handling deadline
  counts once it has passed. A day counted at ``scores_at`` keeps, in ``scores_until``, the first
  deadline still to come of its open assignments; its counts are exact for any ``as_of`` in
  ``[scores_at, scores_until)``, and the day is recounted from the orders for any other;
- ``period_counts`` reads the days that are clean and valid, and recounts the others from the
  raw orders (one query per run of consecutive days), so what it returns is always a recount;
- ``refresh`` (run by ``jiesu sweep``) recounts dirty and missing days under the row lock, and
  days whose ``scores_until`` has passed at most every ``RECHECK`` (the recent days' deadlines
  pass all the time; a ranking of the current month recounts those days anyway).

A ranking reads from the read replica when there is one (``jiesu.ops.replica``: the counting
helpers run their raw SQL and slices on ``replica.connection()``); ``refresh`` always reads the
primary, whose flags and counts it stores.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from django.db import transaction
from django.db.models import Min, Q

from jiesu import clock
from jiesu.followup import metrics, rates
from jiesu.followup.conf import knob
from jiesu.insight import rollup
from jiesu.insight.models import DashboardDay
from jiesu.ops import replica
from jiesu.orders.models import AssignmentRole, AssignmentState

WIDTH = len(rates.COUNT_NAMES)
ORDERS = rates.COUNT_NAMES.index("orders")
ASSIGNMENT_SLOTS = [rates.COUNT_NAMES.index(n) for n in metrics.METRICS if n != "orders"]
_DTYPE = np.dtype("<i4")
NO_AREA = -1  # an order without an area, in the stored id list
# A year's ranking, and the year before it for comparison, read from the roll-ups.
SCORE_DAYS = 400
# A clean day whose counts expired (a deadline passed) is recounted at most this often.
RECHECK = dt.timedelta(minutes=10)

Sums = dict[int | None, list[int]]  # area or unit id → counts in rates.COUNT_NAMES order


def period_days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


# ---------------------------------------------------------------------------------------------
# Counting from the raw orders


def _by_area(lo: dt.datetime, hi: dt.datetime, as_of: dt.datetime) -> list[tuple]:
    aggs = metrics.aggregates(as_of)
    return list(metrics.assignment_rows(lo, hi).values("order__area_id").annotate(**aggs)
                .values_list("order__area_id", *aggs))


def _by_unit(lo: dt.datetime, hi: dt.datetime, as_of: dt.datetime) -> list[tuple]:
    aggs = metrics.aggregates(as_of)
    return list(metrics.assignment_rows(lo, hi).values("unit_id")
                .annotate(orders=metrics.RawCount("order_id", distinct=True), **aggs)
                .values_list("unit_id", "orders", *aggs))


def _volume(lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
    with _tuned():  # without it PostgreSQL spent ~1 s of 2 compiling this count at 10M orders (JIT)
        return list(metrics.population(lo, hi).order_by().values("area_id")
                    .annotate(n=metrics.RawCount("pk")).values_list("area_id", "n"))


def _add(sums: Sums, rows: Iterable[tuple], slots: list[int]) -> None:
    """Add grouped rows (id, count, count, …) into ``sums[id] = [counts…]``."""
    for r in rows:
        acc = sums.get(r[0])
        if acc is None:
            acc = sums[r[0]] = [0] * WIDTH
        for i, v in zip(slots, r[1:], strict=True):
            acc[i] += v


def recount(kind: str, runs: Sequence[tuple[dt.datetime, dt.datetime]], as_of: dt.datetime) -> Sums:
    """The counts of the orders received in ``runs`` from the raw rows, per area (``kind``
    "area", with the orders' volume) or per unit ("unit")."""
    sums: Sums = {}
    for lo, hi in runs:
        if kind == "area":
            volume = _volume(lo, hi)
            _add(sums, volume, [ORDERS])
            _grouped(lambda a, b: _by_area(a, b, as_of), lo, hi, sum(n for _a, n in volume), ASSIGNMENT_SLOTS,
                     sums)
        else:
            n_orders = 0
            if _may_slice():  # the period's size decides the slicing
                with _tuned():
                    n_orders = metrics.population(lo, hi).count()
            _grouped(lambda a, b: _by_unit(a, b, as_of), lo, hi, n_orders, [ORDERS, *ASSIGNMENT_SLOTS], sums)
    return sums


def _grouped(query: Callable[[dt.datetime, dt.datetime], list[tuple]], start: dt.datetime, end: dt.datetime,
             n_orders: int, slots: list[int], sums: Sums) -> None:
    """Run the grouped count over [start, end) and add its rows into ``sums``. A big period is
    cut into time slices counted at once on their own connections (one per core, at most
    ``SLICES_MAX``; SQLite only): every count is a sum over the period's orders, and each order
    falls in exactly one slice, so the sum of the slices is exact. Inside a transaction (whose
    rows other connections cannot see) it runs as one query."""
    k = _slices(n_orders)
    if k <= 1:
        with _tuned():
            _add(sums, query(start, end), slots)
        return
    cuts = [start + (end - start) * i / k for i in range(k)] + [end]

    def run(lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
        try:
            with _tuned():
                return query(lo, hi)
        finally:
            replica.connection().close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=k) as pool:
        # carried: each slice reads where this thread reads (the replica for a page)
        parts = list(pool.map(replica.carried(run), cuts[:-1], cuts[1:]))
    for rows in parts:
        _add(sums, rows, slots)


SLICES_MAX = 4
WORK_MEM = re.compile(r"\d{1,6}(kB|MB|GB)")


@contextmanager
def _tuned() -> Iterator[None]:
    """PostgreSQL: read the period's orders by index and each one's assignments by index
    (a nested loop: its cost follows the period, where the planner's hash join scans every
    assignment ever made — 5 million in the benchmark — for each month); sort and hash in
    memory (``work_mem``; the default 4 MB spilled to disk at 400,000 orders); skip JIT, which
    costs more than it saves here; allow parallel workers (``pg_parallel_workers``), which the
    connections otherwise go without. Set for this transaction only; not inside an outer
    transaction, whose later statements would inherit it. On the connection the reads go to
    (``jiesu.ops.replica``): a page's transaction there, the sweep's on the primary."""
    connection = replica.connection()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=connection.alias):
        _tune()
        yield


def _tune() -> None:
    """The settings of ``_tuned`` for the rest of the current transaction (PostgreSQL)."""
    connection = replica.connection()
    if connection.vendor != "postgresql":
        return
    mem = str((knob("SCORECARD") or {}).get("pg_work_mem", "64MB"))
    with connection.cursor() as cursor:
        if WORK_MEM.fullmatch(mem):
            cursor.execute(f"SET LOCAL work_mem = '{mem}'")
        cursor.execute("SET LOCAL jit = off")
        # Connections start without parallel workers (jiesu.settings); a recount reads many rows.
        workers = int((knob("SCORECARD") or {}).get("pg_parallel_workers", 2))
        cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = {max(0, min(workers, 8))}")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")


def _may_slice() -> bool:
    # PostgreSQL runs a big aggregate on parallel workers of its own (max_parallel_workers_per_gather).
    connection = replica.connection()
    if connection.in_atomic_block or connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict.get("NAME") or "")
    return name not in ("", ":memory:") and "mode=memory" not in name  # in memory: not shared


def _slices(n_orders: int) -> int:
    threshold = int((knob("SCORECARD") or {}).get("parallel_min_orders", 100_000))
    if n_orders < threshold or not _may_slice():
        return 1
    return max(1, min(os.cpu_count() or 1, SLICES_MAX))


# ---------------------------------------------------------------------------------------------
# A period's counts: stored days and recounted ones


def _stored(days: Sequence[dt.date], as_of: dt.datetime, kind: str) -> tuple[set[dt.date], Sums]:
    """The clean days whose counts hold at ``as_of``, and their sum per id (one query)."""
    rows = DashboardDay.objects.filter(day__in=list(days), scores_dirty=False, scores_at__lte=as_of).filter(
        Q(scores_until__isnull=True) | Q(scores_until__gt=as_of)).values_list("day", "scores", "scores_counts")
    found: set[dt.date] = set()
    ids: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    for day, index, blob in rows:
        found.add(day)
        areas, units = index.get("a", []), index.get("u", [])
        matrix = np.frombuffer(bytes(blob or b""), dtype=_DTYPE).reshape(-1, WIDTH)
        if kind == "area":
            ids.append(np.asarray(areas, dtype=np.int64))
            blocks.append(matrix[: len(areas)])
        else:
            ids.append(np.asarray(units, dtype=np.int64))
            blocks.append(matrix[len(areas) : len(areas) + len(units)])
    if not ids:
        return found, {}
    keys, where = np.unique(np.concatenate(ids), return_inverse=True)
    summed = np.zeros((len(keys), WIDTH), dtype=np.int64)
    np.add.at(summed, where, np.concatenate(blocks))
    return found, {(None if k == NO_AREA else int(k)): row for k, row in zip(keys.tolist(), summed.tolist(),
                                                                              strict=True)}


def period_counts(kind: str, start: dt.date, end: dt.date, as_of: dt.datetime) -> Sums:
    """The counts of the orders received from ``start`` to the day before ``end`` (Asia/Shanghai
    days) as of ``as_of``, per area (``kind`` "area") or per unit ("unit"): the stored days
    that hold at ``as_of``, the others recounted. Exact either way."""
    days = period_days(start, end)
    found, sums = _stored(days, as_of, kind)
    missing = [(rollup.day_start(first), rollup.day_start(after))
               for first, after in rollup.day_runs(d for d in days if d not in found)]
    for key, counts in recount(kind, missing, as_of).items():
        acc = sums.get(key)
        if acc is None:
            sums[key] = counts
        else:
            sums[key] = [a + b for a, b in zip(acc, counts, strict=True)]
    return sums


# ---------------------------------------------------------------------------------------------
# Keeping the rows


def _until(lo: dt.datetime, hi: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The first deadline after ``now`` that would move one of the day's counts when it passes:
    an open assignment's contact deadline before contact, a lead's handling deadline before its
    reply (returned and withdrawn assignments count the same whenever it is)."""
    open_rows = metrics.assignment_rows(lo, hi).exclude(
        state__in=[AssignmentState.RETURNED, AssignmentState.CANCELLED])
    with _tuned():
        found = open_rows.aggregate(
            contact=Min("contact_due_at", filter=Q(contacted_at__isnull=True, contact_due_at__gt=now)),
            handling=Min("due_at", filter=Q(role=AssignmentRole.LEAD, replied_at__isnull=True, due_at__gt=now)))
    moments = [m for m in found.values() if m is not None]
    return min(moments) if moments else None


def _encode(areas: Sums, units: Sums) -> tuple[dict, bytes]:
    area_ids = sorted(areas, key=lambda k: NO_AREA if k is None else k)
    unit_ids = sorted(k for k in units if k is not None)
    rows = [areas[k] for k in area_ids] + [units[k] for k in unit_ids]
    matrix = np.asarray(rows, dtype=_DTYPE).reshape(-1, WIDTH)
    return ({"a": [NO_AREA if k is None else k for k in area_ids], "u": unit_ids}, matrix.tobytes())


def count_day(day: dt.date, now: dt.datetime) -> tuple[dict, bytes, dt.datetime | None]:
    lo, hi = rollup.day_start(day), rollup.day_start(day + dt.timedelta(days=1))
    index, blob = _encode(recount("area", [(lo, hi)], now), recount("unit", [(lo, hi)], now))
    return index, blob, _until(lo, hi, now)


@replica.primary()  # the flags and counts it stores: never a replica's stale ones
def refresh(days: Iterable[dt.date] | None = None, *, now: dt.datetime | None = None) -> int:
    """Recount the given days, or the dirty ones, the missing ones of the last ``SCORE_DAYS``
    and the expired ones last counted more than ``RECHECK`` ago; answers how many were written.
    Each day under its row's lock."""
    now = now or clock.now()
    if days is None:
        today = rollup.day_of(now)
        recent = {today - dt.timedelta(days=i) for i in range(SCORE_DAYS)}
        kept = DashboardDay.objects.filter(scores_dirty=False, scores_at__isnull=False)
        have = set(kept.filter(day__in=recent).values_list("day", flat=True))
        stale = kept.filter(scores_until__lte=now, scores_at__lte=now - RECHECK)
        wanted = (recent - have) | set(DashboardDay.objects.filter(scores_dirty=True).values_list("day", flat=True)) \
            | set(stale.values_list("day", flat=True))
        forced = False
    else:
        wanted, forced = set(days), True
    DashboardDay.objects.bulk_create([DashboardDay(day=d) for d in wanted], ignore_conflicts=True)
    written = 0
    outer = transaction.get_connection().in_atomic_block
    for day in sorted(wanted, reverse=True):  # the newest first: the likeliest to be asked for
        with transaction.atomic():
            row = DashboardDay.objects.select_for_update(of=("self",)).get(day=day)
            expired = row.scores_until is not None and row.scores_until <= now
            if not (forced or row.scores_dirty or row.scores_at is None or expired):
                continue
            if not outer:
                _tune()  # this day's transaction is ours: only its counts and the save follow
            row.scores, row.scores_counts, row.scores_until = count_day(day, now)
            row.scores_dirty, row.scores_at = False, now
            row.save(update_fields=["scores", "scores_counts", "scores_until", "scores_dirty", "scores_at"])
            written += 1
    rollup.forget_marks(wanted, scores=True)
    return written
