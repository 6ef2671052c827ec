"""Statistics of the legal services: booked against served per point and week, weekend service,
each special week against the normal week before it (the "+200 %"), and the outreach results.
Reads only; a fixed number of queries whatever the number of bookings (one pass in Python over
the bookings of the period, which are few next to the orders)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.services import opening
from jiesu.services.models import OUTCOMES, Booking, BookingStatus, OpeningRule, OutreachEvent, ServicePoint
from jiesu.services.selectors import OutreachStats, outreach_stats

DONE = frozenset(OUTCOMES)  # came and were attended to: served, sent for documents, referred


@dataclass
class Count:
    booked: int = 0  # not cancelled
    served: int = 0
    no_show: int = 0

    def add(self, status: str) -> None:
        if status == BookingStatus.CANCELLED:
            return
        self.booked += 1
        self.served += status in DONE
        self.no_show += status == BookingStatus.NO_SHOW


@dataclass
class WeekRow:
    point: str
    week: str  # ISO week, e.g. 2026-W50
    monday: dt.date
    count: Count


@dataclass
class SpecialRow:
    point: str
    label: str
    start: dt.date
    end: dt.date
    special: Count
    normal: Count  # the same matters at the same point in the week before

    @property
    def growth(self) -> float | None:
        return opening.growth(self.special.booked, self.normal.booked)

    @property
    def served_growth(self) -> float | None:
        return opening.growth(self.special.served, self.normal.served)


@dataclass
class Report:
    first: dt.date
    last: dt.date
    weeks: list[WeekRow] = field(default_factory=list)
    weekend: list[tuple[str, Count, Count]] = field(default_factory=list)  # point, Saturdays, Sundays
    specials: list[SpecialRow] = field(default_factory=list)
    outreach: list[tuple[OutreachEvent, OutreachStats]] = field(default_factory=list)


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(first, dt.time.min, tzinfo=SHANGHAI),
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI))


def report(*, first: dt.date, last: dt.date, point_ids: list[int] | None = None) -> Report:
    points = ServicePoint.objects.all()
    if point_ids is not None:
        points = points.filter(pk__in=point_ids)
    names = dict(points.values_list("pk", "name"))
    specials = list(OpeningRule.objects.filter(point_id__in=names, special=True, start__isnull=False,
                                               end__isnull=False, start__lte=last, end__gte=first)
                    .prefetch_related("matters"))
    # One read covers the period and the normal weeks before the special weeks in it.
    earliest = min([first, *(r.start - dt.timedelta(days=(r.end - r.start).days + 1)
                              for r in specials if r.start and r.end)])
    lo, hi = _bounds(earliest, last)
    rows = list(Booking.objects.filter(point_id__in=names, start__gte=lo, start__lt=hi)
                .values_list("point_id", "start", "status", "matter_id", "rule_id"))
    out = Report(first=first, last=last)
    weeks: dict[tuple[int, dt.date], Count] = defaultdict(Count)
    weekend: dict[int, tuple[Count, Count]] = defaultdict(lambda: (Count(), Count()))
    p_lo, _p = _bounds(first, last)
    for point_id, start, status, _matter, _rule in rows:
        if start < p_lo:
            continue
        day = start.astimezone(SHANGHAI).date()
        weeks[(point_id, day - dt.timedelta(days=day.weekday()))].add(status)
        if day.weekday() >= 5:
            weekend[point_id][day.weekday() - 5].add(status)
    for (point_id, monday), count in sorted(weeks.items(), key=lambda kv: (names[kv[0][0]], kv[0][1])):
        iso = monday.isocalendar()
        out.weeks.append(WeekRow(names[point_id], f"{iso.year}-W{iso.week:02d}", monday, count))
    out.weekend = [(names[p], sat, sun) for p, (sat, sun) in sorted(weekend.items(), key=lambda kv: names[kv[0]])]
    for rule in specials:
        assert rule.start is not None and rule.end is not None
        length = (rule.end - rule.start).days + 1
        matters = {m.pk for m in rule.matters.all()}
        special, normal = Count(), Count()
        for point_id, start, status, matter_id, _rule in rows:
            if point_id != rule.point_id or (matters and matter_id not in matters):
                continue
            day = start.astimezone(SHANGHAI).date()
            if rule.start <= day <= rule.end:
                special.add(status)
            elif rule.start - dt.timedelta(days=length) <= day < rule.start:
                normal.add(status)
        out.specials.append(SpecialRow(names[rule.point_id], rule.label, rule.start, rule.end, special, normal))
    events = list(OutreachEvent.objects.filter(date__gte=first, date__lte=last).order_by("date", "id"))
    figures = outreach_stats([e.pk for e in events])
    out.outreach = [(e, figures[e.pk]) for e in events]
    return out
