"""Reads: the supervisor's callback list, and the scorecards per unit, district and street.

A scorecard's counts come from ``jiesu.followup.daily``: the period's days rolled up per area and
per unit, with the days not (validly) stored recounted from the raw orders in a fixed number of
queries per run of days. Areas are counted by their own id and rolled up to district or street by
their materialised path here (a few thousand rows at most), which is exact and needs no
fixed-width codes.

The scorecards are read from the read replica when one is configured (``jiesu.ops.replica``);
the callback list is a desk and reads the primary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from jiesu import clock
from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.followup import daily, rates
from jiesu.followup.conf import knob
from jiesu.followup.models import Overdue
from jiesu.followup.periods import Period
from jiesu.ops import replica
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


@replica.reading()  # the page, its exports, the monthly report and the CLI tolerate seconds of lag
def scorecard(level: str, period: Period, *, as_of: dt.datetime | None = None,
              conf: rates.Config | None = None) -> Scorecard:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    conf = conf or config()
    as_of = as_of or clock.now()
    if level == "unit":
        sums = daily.period_counts("unit", period.start, period.end, as_of)
        units = Unit.objects.filter(Q(pk__in=list(sums)) | (Q(is_active=True) & ~Q(
            kind__in=[UnitKind.HOTLINE_CENTRE, UnitKind.DISTRICT_CENTRE]))).values_list("pk", "code", "name")
        empty = rates.Counts()
        table = [(code, name, rates.Counts(*sums[pk]) if pk in sums else empty) for pk, code, name in units]
        ids = {code: pk for pk, code, _n in units}
        return Scorecard(level, period, as_of, conf, rates.table(table, conf), ids=ids)
    by_area = daily.period_counts("area", period.start, period.end, as_of)
    target = AREA_LEVELS[level]
    areas = list(Area.objects.values_list("pk", "code", "name", "path", "level"))
    level_of = {code: lvl for _pk, code, _n, _p, lvl in areas}
    rolled: dict[str, list[int]] = {}
    for pk, _code, _name, path, _lvl in areas:
        counts = by_area.get(pk)
        key = next((c for c in path.split("/") if level_of.get(c) == target), None) if counts else None
        if key is None or counts is None:
            continue
        acc = rolled.get(key)
        rolled[key] = list(counts) if acc is None else [a + b for a, b in zip(acc, counts, strict=True)]
    empty = rates.Counts()
    table = [(code, name, rates.Counts(*rolled[code]) if code in rolled else empty)
             for _pk, code, name, _p, lvl in areas if lvl == target]
    cards = rates.table(table, conf, flags=level == "street")
    return Scorecard(level, period, as_of, conf, cards, total=rates.total(cards, conf, key="", name=""))


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


@replica.reading()
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
