"""The dashboard's numbers: volumes by day, channel, type, category and district, the trend
against the previous period, and the time to dispatch, to first contact and to reply.

Everything is counted in SQL (GROUP BY) over the orders the user may see, and the percentiles
are read in SQL too (a count, then the row at each rank of the sorted durations), so that the
page costs the same fixed number of queries (16) whatever the number of orders.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Count, F, Func, Min, QuerySet, Value
from django.db.models.functions import TruncDate
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts import policy
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, Channel, RequestType
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.insight.tiles import Tile, layout
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
    if connection.vendor == "sqlite":
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC); %s truncates to whole seconds (written %%s: the cursor formats).
        def us(c: str) -> str:
            return f"(CAST(strftime('%%s', {c}) AS INTEGER) * 1000000 + CAST(substr({c}, 21) AS INTEGER))"

        return f"({us(end)} - {us(start)})"
    return f"({end} - {start})"


def percentiles(qs: QuerySet, ranks: tuple[float, ...] = (0.5, 0.9)) -> tuple[int, list]:
    """Nearest-rank percentiles of ``e - s`` over the rows of ``qs`` (a ``values()`` query with
    columns ``s`` and ``e``; rows with either null are left out), in one SQL query: the durations
    are numbered in order once (a window function) and only the rows at the ranks come back."""
    inner, params = qs.order_by().query.sql_with_params()
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


def timings(orders: QuerySet) -> list[Timing]:
    leads = Assignment.objects.filter(order__in=orders.values("pk"), role=AssignmentRole.LEAD).order_by()
    first = leads.values("order_id").annotate(s=Min("order__received_at"), e=Min("dispatched_at")).values("s", "e")
    contact = leads.values(s=F("dispatched_at"), e=F("contacted_at"))
    reply = leads.values(s=F("dispatched_at"), e=F("replied_at"))
    out = []
    for key, label, qs in (
        ("dispatch", _("Received → first dispatch"), first),
        ("contact", _("Dispatch → first contact (lead unit)"), contact),
        ("reply", _("Dispatch → reply (lead unit)"), reply),
    ):
        n, (median, p90) = percentiles(qs)
        out.append(Timing(key, str(label), n, _hours(median), _hours(p90)))
    return out


def day_of(field: str, period: Period):
    """The Asia/Shanghai day of ``field``. On SQLite, where ``TruncDate`` calls a Python
    function per row, SQLite's own ``date(…, '+480 minutes')`` when the zone's offset is the
    same over the period (Shanghai has had no daylight saving since 1991); it gives a string."""
    start, end = period.bounds()
    offset = start.utcoffset()
    if connection.vendor == "sqlite" and offset is not None and offset == end.utcoffset():
        minutes = int(offset.total_seconds() // 60)
        return Func(F(field), Value(f"{minutes:+d} minutes"), function="date", output_field=CharField())
    return TruncDate(field, tzinfo=SHANGHAI)


def _category_rollup(rows: list[tuple[int | None, int]]) -> list[Count_]:
    cats = {c.id: c for c in Category.objects.only("id", "code", "name", "name_en", "path")}
    english = (get_language() or "").startswith("en")
    by_code = {c.code: c for c in cats.values()}
    totals: dict[str, int] = defaultdict(int)
    for cat_id, n in rows:
        cat = cats.get(cat_id) if cat_id is not None else None
        totals[cat.path.split("/")[0] if cat else ""] += n
    out = []
    for code, n in totals.items():
        top = by_code.get(code)
        name = (top.name_en if english and top.name_en else top.name) if top else str(_("Not classified"))
        out.append(Count_(code, name, n))
    return sorted(out, key=lambda c: (-c.n, c.code))


def _district_rollup(rows: list[tuple[str | None, int]]) -> tuple[list[Count_], list[Tile], dict | None]:
    found = list(Area.objects.filter(level=AreaLevel.DISTRICT).values_list("code", "name", "boundary"))
    districts = {code: name for code, name, _b in found}
    # Real outlines only when every district has one (an admin loaded them); else the schematic.
    outlines = None
    if found and all(isinstance(b, dict) and b.get("type") in ("Polygon", "MultiPolygon") for _c, _n, b in found):
        outlines = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": name, "code": code}, "geometry": b} for code, name, b in found
        ]}
    totals: dict[str, int] = defaultdict(int)
    for path, n in rows:
        parts = (path or "").split("/")
        totals[parts[1] if len(parts) > 1 else ""] += n
    out = [Count_(code, districts.get(code, str(_("Area unknown"))), n) for code, n in totals.items()]
    out.sort(key=lambda c: (-c.n, c.code))
    tiles = layout([(code, name, totals.get(code, 0)) for code, name in sorted(districts.items())])
    return out, tiles, outlines


def dashboard(actor: Actor, period: Period) -> Dashboard:
    orders = orders_in(actor, period)
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    index = {d: i for i, d in enumerate(days)}
    by_day_type: dict[str, list[int]] = {}
    type_totals: dict[str, int] = defaultdict(int)
    rows = (
        orders.annotate(day=day_of("received_at", period))
        .values_list("day", "request_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    for day, rtype, n in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if day in index:
            by_day_type.setdefault(rtype, [0] * len(days))[index[day]] += n
            type_totals[rtype] += n
    total = sum(type_totals.values())
    by_type = sorted((Count_(t, _label(RequestType, t), n) for t, n in type_totals.items()),
                     key=lambda c: (-c.n, c.code))
    by_day_type = {t: by_day_type[t] for t in (c.code for c in by_type)}
    previous = orders_in(actor, period.previous()).count()
    by_channel = sorted(
        (Count_(ch, _label(Channel, ch), n) for ch, n in orders.values_list("channel").annotate(n=Count("id"))
         .order_by()),
        key=lambda c: (-c.n, c.code),
    )
    by_category = _category_rollup(list(orders.values_list("category_id").annotate(n=Count("id")).order_by()))
    by_district, tiles, outlines = _district_rollup(list(orders.values_list("area__path").annotate(n=Count("id")).order_by()))
    return Dashboard(
        period=period, total=total, previous_total=previous, days=days, by_day_type=by_day_type,
        by_channel=by_channel, by_type=by_type, by_category=by_category, by_district=by_district,
        timings=timings(orders), tiles=tiles, outlines=outlines,
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
            "grid": {"left": 8, "right": 24, "top": 8, "bottom": 40, "containLabel": True},
            "xAxis": {"type": "value", "name": str(_("hours"))},
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
        "yAxis": {"type": "category", "data": [c.label for c in counts], "inverse": True},
        "series": [{"type": "bar", "data": [c.n for c in counts], "label": {"show": True, "position": "right"}}],
    }
