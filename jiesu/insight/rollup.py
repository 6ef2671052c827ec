"""Exact daily roll-ups of the dashboard (汇总表), one ``DashboardDay`` per Asia/Shanghai day.

Why: with 5 million orders a 30-day dashboard counted ~400,000 orders five ways and sorted three
times ~350,000 durations on every request. A past day's numbers seldom change, so each day keeps,
per district, its order counts by request type, channel and category, and the sorted durations
(exact microseconds) behind the timing percentiles. Merging 30 such days is a few milliseconds;
the percentiles stay exact because the durations themselves are kept, not a histogram.

How they stay exact:

- every save of an order or a lead assignment that can change a day's numbers marks the day
  dirty *in the same transaction* (``mark``, from the signals at the bottom; the row lock it
  takes makes a concurrent recomputation wait for the change to commit);
- the dashboard reads the clean days from here and the dirty or missing ones from the raw orders
  (two queries for all of them together), so what it shows is always a recount;
- ``refresh`` (run by ``jiesu sweep``) recomputes dirty days under the row lock.

Queryset ``update()`` calls send no signals: a bulk change to the fields below must call
``mark`` itself. The two in ``jiesu.orders.actions`` cancel assignments, which moves no dashboard
number and only the scorecards' counts, and both save their order's new state in the same
transaction, which marks the day for the scorecards.

The same rows carry the day's scorecard counts (``jiesu.followup.daily``); ``mark`` flags them too.

With a read replica (``jiesu.ops.replica``) the dashboard reads rows and orders there: a replica
is a consistent past state of the primary, so the numbers are exact as of a moment ago.
``refresh`` and the signals read the primary, since what they read decides what they write.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import CharField, Count, F, Func, Max, Min, Q, Value
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete, post_save

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.insight.models import DashboardDay
from jiesu.ops import replica
from jiesu.orders.models import Assignment, AssignmentRole, WorkOrder
from jiesu.orders.states import State

TIMING_KEYS = ("dispatch", "contact", "reply")
# The dashboard offers windows up to 90 days and compares with the 90 before: the sweep keeps
# that much rolled up (older days are recounted from the orders when asked for).
REFRESH_DAYS = 180
# Fields whose change can move a day's numbers. The state counts only as "draft or not", and the
# one way out of a draft (submitting it) also sets ``received_at``: the state itself is left out,
# so the many state changes of an order's life leave its day clean.
ORDER_FIELDS = frozenset({"received_at", "request_type", "channel", "category", "category_id", "area", "area_id"})
ASSIGNMENT_FIELDS = frozenset({"order", "order_id", "role", "dispatched_at", "contacted_at", "replied_at"})
# Fields whose change can move the day's scorecard counts (jiesu.followup.metrics): the order's
# population (state: drafts and merged orders are left out), area and callback answers, and
# everything the counts read on an assignment.
SCORE_ORDER_FIELDS = ORDER_FIELDS | {"state", "reopen_count", "satisfaction", "resolution"}
SCORE_ASSIGNMENT_FIELDS = ASSIGNMENT_FIELDS | {
    "unit", "unit_id", "state", "contact_due_at", "due_at", "extended"}
_DTYPE = np.dtype("<i8")


def day_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Beijing: where the day's orders begin."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)


def day_runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as runs of consecutive days: (first, the day after the last)."""
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + dt.timedelta(days=1))
        else:
            out.append((d, d + dt.timedelta(days=1)))
    return out


def _received_in(days: Iterable[dt.date], prefix: str = "") -> Q:
    cond = Q(pk__in=[])
    for first, after in day_runs(days):
        cond |= Q(**{f"{prefix}received_at__gte": day_start(first), f"{prefix}received_at__lt": day_start(after)})
    return cond


def sql_day(field: str, start: dt.datetime, end: dt.datetime):
    """The Asia/Shanghai day of ``field`` in SQL. On SQLite, where ``TruncDate`` calls a Python
    function per row, SQLite's own ``date(…, '+480 minutes')`` when the zone's offset is the
    same from ``start`` to ``end`` (Shanghai has had no daylight saving since 1991); it gives a
    string there."""
    offset = start.utcoffset()
    if replica.connection().vendor == "sqlite" and offset is not None and offset == end.utcoffset():
        minutes = int(offset.total_seconds() // 60)
        return Func(F(field), Value(f"{minutes:+d} minutes"), function="date", output_field=CharField())
    return TruncDate(field, tzinfo=SHANGHAI)


def us_between(start: str, end: str) -> str:
    """``end - start`` in SQL as exact integer microseconds (NULL when either is NULL): on
    SQLite by integer arithmetic on the stored text (no per-row Python function), on PostgreSQL
    from the interval's epoch (a numeric, exact)."""
    if replica.connection().vendor == "sqlite":
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC); %s truncates to whole seconds (written %%s: the cursor formats).
        def us(c: str) -> str:
            return f"(CAST(strftime('%%s', {c}) AS INTEGER) * 1000000 + CAST(substr({c}, 21) AS INTEGER))"

        return f"({us(end)} - {us(start)})"
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"


def district_of(path: str | None) -> str:
    parts = (path or "").split("/")
    return parts[1] if len(parts) > 1 else ""


# ---------------------------------------------------------------------------------------------
# One day's numbers


@dataclass
class DistrictDay:
    types: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    channels: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    categories: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # category id ("" none)
    durations: dict[str, np.ndarray] = field(default_factory=dict)  # timing → int64 µs

    @property
    def total(self) -> int:
        return sum(self.types.values())


Digest = dict[str, DistrictDay]  # district code ("" no district) → its numbers


def recount(days: Sequence[dt.date], *, durations: bool = True) -> dict[dt.date, Digest]:
    """The days' numbers from the raw orders: two queries, whatever the number of days."""
    out: dict[dt.date, Digest] = {d: {} for d in days}
    if not days:
        return out
    orders = WorkOrder.objects.filter(_received_in(days)).exclude(state=State.DRAFT).order_by()
    start, end = day_start(min(days)), day_start(max(days) + dt.timedelta(days=1))
    rows = orders.annotate(day=sql_day("received_at", start, end)).values_list(
        "day", "area__path", "request_type", "channel", "category_id")
    ids: dict[dt.date, tuple[int, int]] = {}
    for day, path, rtype, channel, cat, n, lo, hi in rows.annotate(n=Count("id"), lo=Min("id"), hi=Max("id")):
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if day not in out:
            continue
        seen = ids.get(day)
        ids[day] = (lo, hi) if seen is None else (min(seen[0], lo), max(seen[1], hi))
        dd = out[day].setdefault(district_of(path), DistrictDay())
        dd.types[rtype] += n
        dd.channels[channel] += n
        dd.categories["" if cat is None else str(cat)] += n
    if not durations or not ids:
        return out
    # The orders' id range per run of days, beside their time range: it lets the database read
    # the assignments by their order index (PostgreSQL's planner otherwise hashes every
    # assignment ever made to find one day's); it only narrows, the time range still decides.
    cond = Q(pk__in=[])
    for first, after in day_runs(ids):
        span = [ids[first + dt.timedelta(days=i)] for i in range((after - first).days)]
        start, end = day_start(first), day_start(after)
        cond |= Q(order_id__gte=min(lo for lo, _h in span), order_id__lte=max(hi for _l, hi in span),
                  order__received_at__gte=start, order__received_at__lt=end)
    lo_day, hi_day = min(days), max(days) + dt.timedelta(days=1)
    leads = (
        Assignment.objects.filter(cond, role=AssignmentRole.LEAD)
        .exclude(order__state=State.DRAFT).order_by()
        .values(o=F("order_id"), day=sql_day("order__received_at", day_start(lo_day), day_start(hi_day)),
                path=F("order__area__path"), s=F("order__received_at"), d=F("dispatched_at"), c=F("contacted_at"),
                r=F("replied_at"))
    )
    connection = replica.connection()  # where the ORM's reads of this call go (a page's: maybe the replica)
    inner, params = leads.query.get_compiler(connection=connection).as_sql()
    # The durations as exact integer microseconds computed by the database: reading 40,000
    # timestamps a day into Python datetimes cost seconds (the driver parses text).
    sql = (f"SELECT t.o, t.day, t.path, {us_between('t.s', 't.d')}, {us_between('t.d', 't.c')}, "  # noqa: S608
           f"{us_between('t.d', 't.r')} FROM ({inner}) t")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    earliest: dict[int, tuple[dt.date, str, int]] = {}  # order → its first dispatch
    spans: dict[tuple[dt.date, str], dict[str, list[int]]] = defaultdict(lambda: {k: [] for k in TIMING_KEYS})
    for order_id, day, path, to_dispatch, to_contact, to_reply in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if day not in out:
            continue
        district = district_of(path)
        lists = spans[(day, district)]
        if to_dispatch is not None:
            known = earliest.get(order_id)
            if known is None or to_dispatch < known[2]:
                earliest[order_id] = (day, district, int(to_dispatch))
        if to_contact is not None:
            lists["contact"].append(int(to_contact))
        if to_reply is not None:
            lists["reply"].append(int(to_reply))
    for day, district, to_dispatch in earliest.values():
        spans[(day, district)]["dispatch"].append(to_dispatch)
    for (day, district), lists in spans.items():
        dd = out[day].setdefault(district, DistrictDay())
        dd.durations = {k: np.sort(np.asarray(v, dtype=_DTYPE)) for k, v in lists.items()}
    return out


def _encode(digest: Digest) -> tuple[dict, bytes]:
    counts: dict[str, dict] = {}
    chunks: list[bytes] = []
    offset = 0
    for district, dd in sorted(digest.items()):
        segs = {}
        for key in TIMING_KEYS:
            values = dd.durations.get(key)
            n = 0
            if values is not None and len(values):
                n = len(values)
                chunks.append(values.astype(_DTYPE).tobytes())
            segs[key] = [offset, n]
            offset += n
        counts[district] = {"t": dict(dd.types), "c": dict(dd.channels), "k": dict(dd.categories), "d": segs}
    return counts, b"".join(chunks)


def _decode(counts: dict, blob: bytes | memoryview | None, *, durations: bool = True) -> Digest:
    values = np.frombuffer(bytes(blob or b""), dtype=_DTYPE) if durations else None
    out: Digest = {}
    for district, c in counts.items():
        dd = DistrictDay()
        dd.types.update(c.get("t", {}))
        dd.channels.update(c.get("c", {}))
        dd.categories.update(c.get("k", {}))
        if values is not None:
            dd.durations = {k: values[off : off + n] for k, (off, n) in c.get("d", {}).items()}
        out[district] = dd
    return out


def digests(days: Sequence[dt.date], *, durations: bool = True) -> dict[dt.date, Digest]:
    """The days' numbers: clean days from their rows, the others recounted (exact either way)."""
    fields = ["day", "counts"] + (["durations"] if durations else [])
    stored = {day: (counts, blob) for day, counts, *blob in
              DashboardDay.objects.filter(day__in=list(days), dirty=False).values_list(*fields)}
    out = {day: _decode(c, b[0] if b else None, durations=durations) for day, (c, b) in stored.items()}
    out.update(recount([d for d in days if d not in stored], durations=durations))
    return out


# ---------------------------------------------------------------------------------------------
# Merging days into the dashboard's numbers


@dataclass
class Merged:
    by_day_type: dict[str, dict[dt.date, int]]
    channels: dict[str, int]
    categories: dict[int | None, int]
    districts: dict[str, int]
    durations: dict[str, np.ndarray]


def merge(days: dict[dt.date, Digest], districts: frozenset[str] | None) -> Merged:
    """Sum the days over the districts (None: all of them, and orders without one)."""
    by_day_type: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    channels: dict[str, int] = defaultdict(int)
    categories: dict[int | None, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in TIMING_KEYS}
    for day, digest in days.items():
        for district, dd in digest.items():
            if districts is not None and district not in districts:
                continue
            for t, n in dd.types.items():
                by_day_type[t][day] += n
            for ch, n in dd.channels.items():
                channels[ch] += n
            for cat, n in dd.categories.items():
                categories[int(cat) if cat else None] += n
            totals[district] += dd.total
            for k, v in dd.durations.items():
                if len(v):
                    parts[k].append(v)
    joined = {k: np.concatenate(v) if v else np.empty(0, dtype=_DTYPE) for k, v in parts.items()}
    return Merged(by_day_type, channels, categories, totals, joined)


def nearest_rank(values: np.ndarray, ranks: Sequence[float]) -> list[int | None]:
    """Nearest-rank percentiles (the same ranks as ``dashboard.percentiles`` in SQL)."""
    n = len(values)
    if not n:
        return [None for _ in ranks]
    ks = [max(1, math.ceil(round(r * 1000) * n / 1000)) - 1 for r in ranks]
    part = np.partition(values, ks)
    return [int(part[k]) for k in ks]


# ---------------------------------------------------------------------------------------------
# Keeping the rows


class _Marked:
    """Registered with ``on_commit`` when days are marked inside a transaction; it does nothing
    on commit. Django drops it when that transaction (or the savepoint it was made in) rolls
    back, so while it is still registered its days' marks are part of the pending changes.
    ``days`` were marked for both the dashboard and the scorecards, ``scores`` for the
    scorecards only."""

    def __init__(self, days: list[dt.date], scores: list[dt.date]) -> None:
        self.days = days
        self.scores = scores

    def __call__(self) -> None:
        pass


def _marked_in_this_transaction() -> tuple[set[dt.date], set[dt.date]]:
    both: set[dt.date] = set()
    scores: set[dt.date] = set()
    for _sids, func, *_rest in transaction.get_connection().run_on_commit:
        if isinstance(func, _Marked):
            both.update(func.days)
            scores.update(func.scores)
    return both, scores | both


def mark(days: Iterable[dt.date], *, dashboard: bool = True) -> None:
    """Mark days dirty, creating their rows: the UPDATE takes the rows' lock, so a ``refresh``
    running now finishes first and this change then marks the day again. Every mark makes the
    day's scorecard counts dirty; ``dashboard`` its dashboard numbers too. Once per day and
    transaction: intake saves the order and its assignment several times in one transaction."""
    wanted = sorted(set(days))
    in_transaction = transaction.get_connection().in_atomic_block
    if in_transaction and wanted:
        both, scores = _marked_in_this_transaction()
        done = both if dashboard else scores
        wanted = [d for d in wanted if d not in done]
    if not wanted:
        return
    flags = {"dirty": True, "scores_dirty": True} if dashboard else {"scores_dirty": True}
    if DashboardDay.objects.filter(day__in=wanted).update(**flags) != len(wanted):
        DashboardDay.objects.bulk_create([DashboardDay(day=d, dirty=True) for d in wanted], ignore_conflicts=True)
        DashboardDay.objects.filter(day__in=wanted).update(**flags)  # rows another process just made
    if in_transaction:
        transaction.on_commit(_Marked(wanted, []) if dashboard else _Marked([], wanted))


def forget_marks(days: set[dt.date], *, scores: bool = False) -> None:
    """A ``refresh`` inside the marking transaction made the days clean: the next change marks
    them again. The scorecards' refresh (``scores``) forgets both kinds of mark, since a
    dashboard mark also stands for the scores one."""
    for _sids, func, *_rest in transaction.get_connection().run_on_commit:
        if isinstance(func, _Marked):
            func.days = [d for d in func.days if d not in days]
            if scores:
                func.scores = [d for d in func.scores if d not in days]


@replica.primary()  # the dirty flags and the recount it stores: never a replica's stale ones
def refresh(days: Iterable[dt.date] | None = None, *, now: dt.datetime | None = None) -> int:
    """Recompute the given days, or the dirty ones and any missing day of the last
    ``REFRESH_DAYS``; answers how many were written. Each day under its row's lock."""
    if days is None:
        today = day_of(now or clock.now())
        recent = {today - dt.timedelta(days=i) for i in range(REFRESH_DAYS)}
        have = set(DashboardDay.objects.filter(day__in=recent, dirty=False).values_list("day", flat=True))
        wanted = (recent - have) | set(DashboardDay.objects.filter(dirty=True).values_list("day", flat=True))
    else:
        wanted = set(days)
    DashboardDay.objects.bulk_create([DashboardDay(day=d, dirty=True) for d in wanted], ignore_conflicts=True)
    written = 0
    for day in sorted(wanted):
        with transaction.atomic():
            row = DashboardDay.objects.select_for_update(of=("self",)).get(day=day)
            if not row.dirty and days is None:
                continue
            row.counts, row.durations = _encode(recount([day])[day])
            row.dirty, row.computed_at = False, clock.now()
            row.save(update_fields=["counts", "durations", "dirty", "computed_at"])
            written += 1
    forget_marks(wanted)
    return written


# ---------------------------------------------------------------------------------------------
# Signals: what marks a day


def _touches(update_fields: Iterable[str] | None, relevant: frozenset[str]) -> bool:
    return update_fields is None or not relevant.isdisjoint(update_fields)


def order_saved(sender, instance: WorkOrder, created: bool = False, update_fields=None, **kwargs) -> None:
    if instance.received_at is None:
        return
    if created or _touches(update_fields, ORDER_FIELDS):
        mark([day_of(instance.received_at)])
    elif _touches(update_fields, SCORE_ORDER_FIELDS):
        mark([day_of(instance.received_at)], dashboard=False)


def order_deleted(sender, instance: WorkOrder, **kwargs) -> None:
    if instance.received_at is not None:
        mark([day_of(instance.received_at)])


@replica.primary()  # the order's day it reads decides which day it marks
def assignment_changed(sender, instance: Assignment, created: bool = False, update_fields=None, **kwargs) -> None:
    if not (created or update_fields is None or _touches(update_fields, SCORE_ASSIGNMENT_FIELDS)):
        return
    dashboard = (created or update_fields is None or _touches(update_fields, ASSIGNMENT_FIELDS)) and (
        instance.role == AssignmentRole.LEAD or _touches(update_fields, frozenset({"role"})))
    received = WorkOrder.objects.filter(pk=instance.order_id).values_list("received_at", flat=True).first() \
        if "order" not in instance._state.fields_cache else instance.order.received_at
    if received is not None:
        mark([day_of(received)], dashboard=bool(dashboard))


def connect() -> None:
    post_save.connect(order_saved, sender=WorkOrder, dispatch_uid="rollup-order-save")
    post_delete.connect(order_deleted, sender=WorkOrder, dispatch_uid="rollup-order-delete")
    post_save.connect(assignment_changed, sender=Assignment, dispatch_uid="rollup-assignment-save")
    post_delete.connect(assignment_changed, sender=Assignment, dispatch_uid="rollup-assignment-delete")
