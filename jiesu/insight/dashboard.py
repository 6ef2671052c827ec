"""The dashboard's numbers: volumes by day, channel, type, category and district, the trend
against the previous period, and the time to dispatch, to first contact and to reply.

For viewers who see the whole city or whole districts the numbers come from the exact daily
roll-ups of ``jiesu.insight.rollup`` (a month is 30 rows, not 400,000 orders, at Beijing's
volume); for the others everything is counted in SQL (GROUP BY) over the orders they may see,
and the percentiles are read in SQL too (the row at each rank of the sorted durations). Either
way the page costs a fixed number of queries whatever the number of orders. All of it is read
from the read replica when one is configured (``jiesu.ops.replica``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Min, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, Channel, RequestType
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.insight import rollup
from jiesu.insight.tiles import Tile, layout
from jiesu.ops import replica
from jiesu.orders.models import Assignment, AssignmentRole, WorkOrder
from jiesu.orders.states import State
from jiesu.org.models import Area, AreaLevel

PERIODS = (7, 30, 60, 90)
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day (Asia/Shanghai)
    end: dt.date  # the day after the last

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        def at(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI)

        return at(self.start), at(self.end)

    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=self.days), self.start)

    @classmethod
    def last_days(cls, days: int, today: dt.date | None = None) -> Period:
        today = today or clock.now().astimezone(SHANGHAI).date()
        end = today + dt.timedelta(days=1)
        return cls(end - dt.timedelta(days=days), end)


@dataclass(frozen=True)
class Count_:
    code: str
    label: str
    n: int


@dataclass(frozen=True)
class Timing:
    key: str
    label: str
    n: int
    median_hours: float | None
    p90_hours: float | None


@dataclass
class Dashboard:
    period: Period
    total: int
    previous_total: int
    days: list[dt.date]
    by_day_type: dict[str, list[int]]  # request type → counts per day
    by_channel: list[Count_]
    by_type: list[Count_]
    by_category: list[Count_]
    by_district: list[Count_]
    timings: list[Timing]
    tiles: list[Tile] = field(default_factory=list)
    outlines: dict | None = None  # GeoJSON of the districts, when every one has a boundary

    @property
    def per_day(self) -> list[int]:
        return [sum(col) for col in zip(*self.by_day_type.values(), strict=True)] if self.by_day_type else \
            [0] * len(self.days)

    @property
    def moving_average(self) -> list[float]:
        """7-day trailing mean of the daily volume."""
        values = self.per_day
        out = []
        for i in range(len(values)):
            window = values[max(0, i - 6) : i + 1]
            out.append(round(sum(window) / len(window), 1))
        return out

    @property
    def change(self) -> float | None:
        """Change of the volume against the previous period of the same length, in percent."""
        if not self.previous_total:
            return None
        return round(100 * (self.total - self.previous_total) / self.previous_total, 1)


def orders_in(actor: Actor, period: Period) -> QuerySet:
    start, end = period.bounds()
    qs = policy.visible_orders(actor, WorkOrder.objects.all())
    return qs.filter(received_at__gte=start, received_at__lt=end).exclude(state=State.DRAFT)


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def _hours(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


def _diff_sql(end: str, start: str) -> str:
    """``end - start`` in SQL, as microseconds on SQLite (integer arithmetic in C: exact, no
    per-row Python function) and as an interval on PostgreSQL."""
    if replica.connection().vendor == "sqlite":
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC); %s truncates to whole seconds (written %%s: the cursor formats).
        def us(c: str) -> str:
            return f"(CAST(strftime('%%s', {c}) AS INTEGER) * 1000000 + CAST(substr({c}, 21) AS INTEGER))"

        return f"({us(end)} - {us(start)})"
    return f"({end} - {start})"


def percentiles(qs: QuerySet, ranks: tuple[float, ...] = (0.5, 0.9)) -> tuple[int, list]:
    """Nearest-rank percentiles of ``e - s`` over the rows of ``qs`` (a ``values()`` query with
    columns ``s`` and ``e``; rows with either null are left out), in one SQL query: the durations
    are numbered in order once (a window function) and only the rows at the ranks come back.
    On the connection of the selector's other reads (``jiesu.ops.replica``)."""
    connection = replica.connection()
    inner, params = qs.order_by().query.get_compiler(connection=connection).as_sql()
    diff = _diff_sql("t.e", "t.s")
    wanted = " OR ".join(f"w.rn = (w.n * {round(r * 1000)} + 999) / 1000" for r in ranks)
    # The inner query and its parameters come from the ORM; the ranks are numbers.
    sql = (
        f"SELECT w.rn, w.n, w.d FROM (SELECT {diff} AS d, ROW_NUMBER() OVER (ORDER BY {diff}) AS rn, "  # noqa: S608
        f"COUNT(*) OVER () AS n FROM ({inner}) t WHERE t.s IS NOT NULL AND t.e IS NOT NULL) w WHERE {wanted}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return 0, [None for _ in ranks]
    n = rows[0][1]
    at = {rn: d if isinstance(d, dt.timedelta) else dt.timedelta(microseconds=int(d)) for rn, _n, d in rows}
    return n, [at[max(1, math.ceil(round(r * 1000) * n / 1000))] for r in ranks]


TIMINGS = (
    ("dispatch", _("Received → first dispatch")),
    ("contact", _("Dispatch → first contact (lead unit)")),
    ("reply", _("Dispatch → reply (lead unit)")),
)


def timings(orders: QuerySet) -> list[Timing]:
    leads = Assignment.objects.filter(order__in=orders.values("pk"), role=AssignmentRole.LEAD).order_by()
    first = leads.values("order_id").annotate(s=Min("order__received_at"), e=Min("dispatched_at")).values("s", "e")
    contact = leads.values(s=F("dispatched_at"), e=F("contacted_at"))
    reply = leads.values(s=F("dispatched_at"), e=F("replied_at"))
    out = []
    for (key, label), qs in zip(TIMINGS, (first, contact, reply), strict=True):
        n, (median, p90) = percentiles(qs)
        out.append(Timing(key, str(label), n, _hours(median), _hours(p90)))
    return out


def day_of(field: str, period: Period):
    """The Asia/Shanghai day of ``field`` in SQL (see ``rollup.sql_day``)."""
    start, end = period.bounds()
    return rollup.sql_day(field, start, end)


def _category_rollup(totals: dict[int | None, int]) -> list[Count_]:
    cats = {c.id: c for c in Category.objects.only("id", "code", "name", "name_en", "path")}
    english = (get_language() or "").startswith("en")
    by_code = {c.code: c for c in cats.values()}
    tops: dict[str, int] = defaultdict(int)
    for cat_id, n in totals.items():
        cat = cats.get(cat_id) if cat_id is not None else None
        tops[cat.path.split("/")[0] if cat else ""] += n
    out = []
    for code, n in tops.items():
        top = by_code.get(code)
        name = (top.name_en if english and top.name_en else top.name) if top else str(_("Not classified"))
        out.append(Count_(code, name, n))
    return sorted(out, key=lambda c: (-c.n, c.code))


def _district_rollup(totals: dict[str, int]) -> tuple[list[Count_], list[Tile], dict | None]:
    """``totals``: orders per district code ("" for orders with no district)."""
    found = list(Area.objects.filter(level=AreaLevel.DISTRICT).values_list("code", "name", "boundary"))
    districts = {code: name for code, name, _b in found}
    # Real outlines only when every district has one (an admin loaded them); else the schematic.
    outlines = None
    if found and all(isinstance(b, dict) and b.get("type") in ("Polygon", "MultiPolygon") for _c, _n, b in found):
        outlines = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": name, "code": code}, "geometry": b} for code, name, b in found
        ]}
    out = [Count_(code, districts.get(code, str(_("Area unknown"))), n) for code, n in totals.items() if n]
    out.sort(key=lambda c: (-c.n, c.code))
    tiles = layout([(code, name, totals.get(code, 0)) for code, name in sorted(districts.items())])
    return out, tiles, outlines


@dataclass
class _Volumes:
    """What both ways of counting produce; ``_assemble`` turns it into the page's numbers."""

    by_day_type: dict[str, dict[dt.date, int]]
    channels: dict[str, int]
    categories: dict[int | None, int]
    districts: dict[str, int]
    previous_total: int
    timings: list[Timing]


def _assemble(period: Period, v: _Volumes) -> Dashboard:
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    index = {d: i for i, d in enumerate(days)}
    by_day_type: dict[str, list[int]] = {}
    type_totals: dict[str, int] = defaultdict(int)
    for rtype, per_day in v.by_day_type.items():
        for day, n in per_day.items():
            if day in index and n:
                by_day_type.setdefault(rtype, [0] * len(days))[index[day]] += n
                type_totals[rtype] += n
    by_type = sorted((Count_(t, _label(RequestType, t), n) for t, n in type_totals.items()),
                     key=lambda c: (-c.n, c.code))
    by_channel = sorted((Count_(ch, _label(Channel, ch), n) for ch, n in v.channels.items() if n),
                        key=lambda c: (-c.n, c.code))
    by_district, tiles, outlines = _district_rollup(v.districts)
    return Dashboard(
        period=period, total=sum(type_totals.values()), previous_total=v.previous_total, days=days,
        by_day_type={t: by_day_type[t] for t in (c.code for c in by_type)}, by_channel=by_channel, by_type=by_type,
        by_category=_category_rollup({k: n for k, n in v.categories.items() if n}), by_district=by_district,
        timings=v.timings, tiles=tiles, outlines=outlines,
    )


@replica.reading()
def dashboard(actor: Actor, period: Period) -> Dashboard:
    """The page's numbers. For viewers who see whole districts (the city or some districts) from
    the daily roll-ups (exact; dirty days recounted), for the others from their orders. Read
    from the replica when there is one (``jiesu.ops.replica``)."""
    districts = policy.visible_districts(actor)
    if districts is None:
        return _assemble(period, _from_orders(actor, period))
    return _assemble(period, _from_rollup(None if districts == policy.ALL_DISTRICTS else districts, period))


def _days(period: Period) -> list[dt.date]:
    return [period.start + dt.timedelta(days=i) for i in range(period.days)]


def _from_rollup(districts: frozenset[str] | None, period: Period) -> _Volumes:
    m = rollup.merge(rollup.digests(_days(period)), districts)
    before = rollup.merge(rollup.digests(_days(period.previous()), durations=False), districts)
    out = []
    for key, label in TIMINGS:
        values = m.durations[key]
        median, p90 = (None if us is None else dt.timedelta(microseconds=us)
                       for us in rollup.nearest_rank(values, (0.5, 0.9)))
        out.append(Timing(key, str(label), len(values), _hours(median), _hours(p90)))
    return _Volumes(m.by_day_type, m.channels, m.categories, m.districts, sum(before.districts.values()), out)


def _from_orders(actor: Actor, period: Period) -> _Volumes:
    orders = orders_in(actor, period)
    by_day_type: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        orders.annotate(day=day_of("received_at", period))
        .values_list("day", "request_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    for day, rtype, n in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        by_day_type[rtype][day] += n
    districts: dict[str, int] = defaultdict(int)
    for path, n in orders.values_list("area__path").annotate(n=Count("id")).order_by():
        districts[rollup.district_of(path)] += n
    return _Volumes(
        by_day_type=by_day_type,
        channels=dict(orders.values_list("channel").annotate(n=Count("id")).order_by()),
        categories=dict(orders.values_list("category_id").annotate(n=Count("id")).order_by()),
        districts=districts,
        previous_total=orders_in(actor, period.previous()).count(),
        timings=timings(orders),
    )


# ---------------------------------------------------------------------------------------------
# ECharts options (plain JSON; the tile map's drawing function lives in insight.js)


def chart_options(d: Dashboard) -> dict[str, dict]:
    days = [f"{x:%m-%d}" for x in d.days]
    types = {c.code: c.label for c in d.by_type}
    return {
        "trend": {
            "tooltip": {"trigger": "axis"},
            "legend": {"type": "scroll", "bottom": 0},
            "grid": {"left": 40, "right": 16, "top": 16, "bottom": 48},
            "xAxis": {"type": "category", "data": days},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": types[t], "type": "bar", "stack": "types", "data": values, "emphasis": {"focus": "series"}}
                for t, values in d.by_day_type.items()
            ] + [{"name": str(_("7-day average")), "type": "line", "data": d.moving_average, "smooth": True,
                  "symbol": "none", "lineStyle": {"width": 3, "color": "#1b1f24"}, "itemStyle": {"color": "#1b1f24"}}],
        },
        "channel": _pie(d.by_channel),
        "type": _pie(d.by_type),
        "category": _bars(d.by_category[:12]),
        "district": _bars(d.by_district),
        "timing": {
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            # containLabel leaves out the axis name: at the axis' end it ran past the edge ("小"),
            # so it sits under the middle of the axis, between the numbers and the legend.
            "grid": {"left": 8, "right": 24, "top": 8, "bottom": 56, "containLabel": True},
            "xAxis": {"type": "value", "name": str(_("hours")), "nameLocation": "middle", "nameGap": 26},
            "yAxis": {"type": "category", "data": [t.label for t in d.timings], "inverse": True},
            "series": [
                {"name": str(_("Median")), "type": "bar", "data": [t.median_hours for t in d.timings]},
                {"name": str(_("90th percentile")), "type": "bar", "data": [t.p90_hours for t in d.timings]},
            ],
        },
        "tiles": {
            "tiles": [{"code": t.code, "name": t.name, "col": t.col, "row": t.row, "value": t.value} for t in d.tiles],
            "max": max([t.value for t in d.tiles] + [1]),
            "geojson": d.outlines,
        },
    }


def _pie(counts: list[Count_]) -> dict:
    return {
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "series": [{"type": "pie", "radius": ["35%", "65%"], "data": [{"name": c.label, "value": c.n} for c in counts],
                    "label": {"formatter": "{b}\n{c}"}}],
    }


def _bars(counts: list[Count_]) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 40, "top": 8, "bottom": 24, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        # Every name (ECharts would otherwise skip labels that crowd, e.g. every other of 17
        # districts); a smaller font so that 17 rows fit the taller district card.
        "yAxis": {"type": "category", "data": [c.label for c in counts], "inverse": True,
                  "axisLabel": {"interval": 0, "fontSize": 11}},
        "series": [{"type": "bar", "data": [c.n for c in counts], "label": {"show": True, "position": "right",
                                                                           "fontSize": 11}}],
    }
