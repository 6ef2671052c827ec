"""Drill-down: the order list behind a scorecard number. ``/desk/orders/`` reads these query
parameters (every one optional):

- ``from``, ``to``: received between these dates (Beijing time, both days included);
- ``unit``: a unit's code (its assignments), or ``area``: an area's code (it and below);
- ``metric``: a count of ``jiesu.followup.metrics`` (needs ``from`` and ``to``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict

from jiesu import clock
from jiesu.followup import metrics
from jiesu.followup.periods import SHANGHAI
from jiesu.followup.present import COUNT_LABELS
from jiesu.org.models import Area, Unit


@dataclass(frozen=True)
class Drill:
    metric: str = ""
    unit: str = ""
    area: str = ""
    first: dt.date | None = None
    last: dt.date | None = None

    @property
    def start(self) -> dt.datetime | None:
        return dt.datetime.combine(self.first, dt.time(0), tzinfo=SHANGHAI) if self.first else None

    @property
    def end(self) -> dt.datetime | None:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI) if self.last else None

    @property
    def metric_label(self) -> str:
        return str(COUNT_LABELS.get(self.metric, ""))

    def group_name(self) -> str:
        if self.unit:
            return Unit.objects.filter(code=self.unit).values_list("name", flat=True).first() or self.unit
        if self.area:
            return Area.objects.filter(code=self.area).values_list("name", flat=True).first() or self.area
        return ""

    def narrow(self, qs: QuerySet) -> QuerySet:
        """``qs`` (orders, already filtered by area, dates and — without a metric — unit) to the
        orders behind the metric."""
        if not self.metric or self.start is None or self.end is None:
            return qs
        unit_id = None
        if self.unit:
            unit_id = Unit.objects.filter(code=self.unit).values_list("pk", flat=True).first() or -1
        return metrics.drill(qs, self.metric, as_of=clock.now(), start=self.start, end=self.end, unit_id=unit_id)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "")[:10]) if value else None
    except ValueError:
        return None


def drill_from(params: QueryDict) -> Drill | None:
    metric = params.get("metric", "")
    drill = Drill(
        metric=metric if metric in metrics.METRICS else "",
        unit=params.get("unit", "")[:32],
        area=params.get("area", "")[:32],
        first=_date(params.get("from")),
        last=_date(params.get("to")),
    )
    if drill.metric and (drill.first is None or drill.last is None):
        drill = Drill(unit=drill.unit, area=drill.area, first=drill.first, last=drill.last)
    return drill if (drill.metric or drill.unit or drill.area or drill.first or drill.last) else None
