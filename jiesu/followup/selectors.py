"""Reads: the supervisor's callback list, and the scorecards per unit, district and street.

A scorecard costs a fixed number of queries whatever the number of orders: one grouped query
over the period's assignments (conditional counts, ``jiesu.followup.metrics``), one over its
orders (the areas' volume, or the period's size for units), one for the names. Areas are grouped
by their own id in SQL and rolled up to district or street by their materialised path in Python
(a few thousand rows at most), which is exact and needs no fixed-width codes. A period of more
than ``JIESU["SCORECARD"]["parallel_min_orders"]`` (100,000) orders is counted on SQLite in time
slices on one connection per core, at once (``_grouped``); PostgreSQL parallelises by itself.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from jiesu import clock
from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.followup import metrics, rates
from jiesu.followup.conf import knob
from jiesu.followup.models import Overdue
from jiesu.followup.periods import Period
from jiesu.orders.models import Assignment, AssignmentRole, AssignmentState
from jiesu.orders.selectors import LIST_RELATED, visible
from jiesu.orders.states import IN_HANDLING, State
from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

LEVELS = ("unit", "district", "street")
AREA_LEVELS = {"district": AreaLevel.DISTRICT, "street": AreaLevel.STREET}


# ---------------------------------------------------------------------------------------------
# The callback list


def _open_overdue(now: dt.datetime) -> QuerySet:
    return Overdue.objects.filter(
        order=OuterRef("pk"), done_at__isnull=True, assignment__role=AssignmentRole.LEAD,
        assignment__state__in=[AssignmentState.DISPATCHED, AssignmentState.ACCEPTED],
        assignment__due_at__lte=now)


def callback_queue(actor: Actor) -> QuerySet:
    """Orders waiting for a callback: replied (``callback_due``), and past their deadline
    without a reply (flagged by the sweep, until a callback is recorded)."""
    now = clock.now()
    flagged = Exists(_open_overdue(now))
    qs = visible(actor).filter(Q(state=State.CALLBACK_DUE) | (Q(state__in=list(IN_HANDLING)) & flagged))
    return qs.annotate(overdue_open=flagged).select_related(*LIST_RELATED).prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("unit").order_by("-role", "id")),
        "replies",
    ).order_by("updated_at", "id")


def waits_for_overdue_callback(order_id: int) -> bool:
    return Overdue.objects.filter(
        order_id=order_id, done_at__isnull=True, assignment__role=AssignmentRole.LEAD,
        assignment__state__in=[AssignmentState.DISPATCHED, AssignmentState.ACCEPTED],
        assignment__due_at__lte=clock.now()).exists()


# ---------------------------------------------------------------------------------------------
# Scorecards


def config() -> rates.Config:
    return rates.Config.from_mapping(knob("SCORECARD"))


@dataclass
class Scorecard:
    level: str
    period: Period
    as_of: dt.datetime
    config: rates.Config
    cards: list[rates.Card]
    total: rates.Card | None = None
    ids: dict[str, int] = field(default_factory=dict)  # unit code → id (drill-down)

    @property
    def flagged(self) -> list[rates.Card]:
        return [c for c in self.cards if c.flagged]


def scorecard(level: str, period: Period, *, as_of: dt.datetime | None = None,
              conf: rates.Config | None = None) -> Scorecard:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    conf = conf or config()
    as_of = as_of or clock.now()
    start, end = period.bounds()
    aggs = metrics.aggregates(as_of)
    names = rates.COUNT_NAMES
    if level == "unit":
        fields = ("orders", *aggs)
        with _tuned():
            n_orders = metrics.population(start, end).count()

        def by_unit(lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
            return list(metrics.assignment_rows(lo, hi).values("unit_id")
                        .annotate(orders=metrics.RawCount("order_id", distinct=True), **aggs)
                        .values_list("unit_id", *fields))

        sums = _grouped(by_unit, start, end, n_orders, [names.index(f) for f in fields], lambda k: k)
        units = Unit.objects.filter(Q(pk__in=list(sums)) | (Q(is_active=True) & ~Q(
            kind__in=[UnitKind.HOTLINE_CENTRE, UnitKind.DISTRICT_CENTRE]))).values_list("pk", "code", "name")
        empty = rates.Counts()
        table = [(code, name, rates.Counts(*sums[pk]) if pk in sums else empty) for pk, code, name in units]
        ids = {code: pk for pk, code, _n in units}
        return Scorecard(level, period, as_of, conf, rates.table(table, conf), ids=ids)
    with _tuned():  # without it PostgreSQL spent ~1 s of 2 compiling this count at 10M orders (JIT)
        volume = list(metrics.population(start, end).order_by().values("area_id")
                      .annotate(n=metrics.RawCount("pk")).values_list("area_id", "n"))
    target = AREA_LEVELS[level]
    areas = list(Area.objects.values_list("pk", "code", "name", "path", "level"))
    level_of = {code: lvl for _pk, code, _n, _p, lvl in areas}
    ancestor: dict[int | None, str | None] = {}
    for pk, _code, _name, path, _lvl in areas:
        ancestor[pk] = next((c for c in path.split("/") if level_of.get(c) == target), None)

    def by_area(lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
        return list(metrics.assignment_rows(lo, hi).values("order__area_id").annotate(**aggs)
                    .values_list("order__area_id", *aggs))

    n_orders = sum(n for _a, n in volume)
    sums = _grouped(by_area, start, end, n_orders, [names.index(f) for f in aggs], ancestor.get)
    _add(sums, volume, [0], ancestor.get)
    empty = rates.Counts()
    table = [(code, name, rates.Counts(*sums[code]) if code in sums else empty)
             for _pk, code, name, _p, lvl in areas if lvl == target]
    cards = rates.table(table, conf, flags=level == "street")
    return Scorecard(level, period, as_of, conf, cards, total=rates.total(cards, conf, key="", name=""))


def _add(sums: dict, rows: list[tuple], slots: list[int], key_of: Callable[[Any], Any]) -> None:
    """Add grouped rows (group id, count, count, …) into ``sums[key] = [counts…]``."""
    width = len(rates.COUNT_NAMES)
    for r in rows:
        key = key_of(r[0])
        if key is None:
            continue
        acc = sums.get(key)
        if acc is None:
            acc = sums[key] = [0] * width
        for i, v in zip(slots, r[1:], strict=True):
            acc[i] += v


def _grouped(query: Callable[[dt.datetime, dt.datetime], list[tuple]], start: dt.datetime, end: dt.datetime,
             n_orders: int, slots: list[int], key_of: Callable[[Any], Any]) -> dict:
    """Run the grouped count over [start, end) and sum its rows per key. A big period is cut
    into time slices counted at once on their own connections (one per core, at most
    ``SLICES_MAX``; SQLite only): every count is a sum over the period's orders, and each order falls in
    exactly one slice, so the sum of the slices is exact. Inside a transaction (whose rows
    other connections cannot see) it runs as one query."""
    k = _slices(n_orders)
    sums: dict = {}
    if k <= 1:
        with _tuned():
            _add(sums, query(start, end), slots, key_of)
        return sums
    cuts = [start + (end - start) * i / k for i in range(k)] + [end]

    def run(lo: dt.datetime, hi: dt.datetime) -> list[tuple]:
        try:
            with _tuned():
                return query(lo, hi)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=k) as pool:
        parts = list(pool.map(run, cuts[:-1], cuts[1:]))
    for rows in parts:
        _add(sums, rows, slots, key_of)
    return sums


SLICES_MAX = 4
WORK_MEM = re.compile(r"\d{1,6}(kB|MB|GB)")


@contextmanager
def _tuned() -> Iterator[None]:
    """PostgreSQL: read the period's orders by index and each one's assignments by index
    (a nested loop: its cost follows the period, where the planner's hash join scans every
    assignment ever made — 5 million in the benchmark — for each month); sort and hash in
    memory (``work_mem``; the default 4 MB spilled to disk at 400,000 orders); skip JIT, which
    costs more than it saves here. Set for this transaction only; not inside an outer
    transaction, whose later statements would inherit it."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    mem = str((knob("SCORECARD") or {}).get("pg_work_mem", "64MB"))
    with transaction.atomic(), connection.cursor() as cursor:
        if WORK_MEM.fullmatch(mem):
            cursor.execute(f"SET LOCAL work_mem = '{mem}'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        yield


def _slices(n_orders: int) -> int:
    threshold = int((knob("SCORECARD") or {}).get("parallel_min_orders", 100_000))
    # PostgreSQL runs a big aggregate on parallel workers of its own (max_parallel_workers_per_gather).
    if n_orders < threshold or connection.in_atomic_block or connection.vendor != "sqlite":
        return 1
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and (name in ("", ":memory:") or "mode=memory" in name):
        return 1  # an in-memory database is not shared between connections
    return max(1, min(os.cpu_count() or 1, SLICES_MAX))


# ---------------------------------------------------------------------------------------------
# Who sees which rows


@dataclass(frozen=True)
class Scope:
    """What a user may see of the scorecards: every row (``all``), the rows of some areas
    (a district centre's staff), or their own units' cards only (a unit lead)."""

    all: bool = False
    area_paths: tuple[str, ...] = ()
    unit_ids: frozenset[int] = frozenset()

    @property
    def levels(self) -> tuple[str, ...]:
        if self.all or self.area_paths:
            return LEVELS
        return ("unit",) if self.unit_ids else ()


CENTRE_VIEWERS = frozenset({Role.ANALYST, Role.SUPERVISOR})


def scope_of(actor: Actor) -> Scope:
    if actor.is_admin:
        return Scope(all=True)
    paths = []
    for g in actor._centre_grants(CENTRE_VIEWERS):
        if not g.area_path:
            return Scope(all=True)
        paths.append(g.area_path)
    units = frozenset(g.unit_id for g in actor.grants if g.role == Role.UNIT_LEAD)
    return Scope(area_paths=tuple(paths), unit_ids=units)


def visible_cards(card: Scorecard, scope: Scope) -> list[rates.Card]:
    if scope.all:
        return card.cards
    if card.level == "unit":
        ids = card.ids
        if scope.area_paths:
            inside = set(Unit.objects.filter(_under(scope.area_paths, "area__path")).values_list("code", flat=True))
            return [c for c in card.cards if c.key in inside or ids.get(c.key) in scope.unit_ids]
        return [c for c in card.cards if ids.get(c.key) in scope.unit_ids]
    inside = set(Area.objects.filter(_under(scope.area_paths, "path")).values_list("code", flat=True))
    return [c for c in card.cards if c.key in inside]


def _under(paths: tuple[str, ...], field_name: str) -> Q:
    cond = Q(pk__in=[])
    for p in paths:
        cond |= Q(**{field_name: p}) | Q(**{f"{field_name}__startswith": p + "/"})
    return cond
