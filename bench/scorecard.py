"""Scorecard benchmark: a month's 三率 ranking of every street/township, on many generated orders.

    .venv/bin/python -m bench.scorecard                         # 200,000 orders, fresh SQLite
    BENCH_ORDERS=5000000 .venv/bin/python -m bench.scorecard    # the issue's 5 million
    JIESU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> .venv/bin/python -m bench.scorecard
    JIESU_DATA_DIR=<dir of an earlier run> BENCH_REUSE=1 .venv/bin/python -m bench.scorecard   # measure again
    BENCH_SEQUENTIAL=1 …                     # SQLite: one query, without the parallel time slices

The orders are written with bulk inserts straight into the tables (not through the services:
millions of orders would take hours that way), spread over ``BENCH_MONTHS`` (12) months, with
their assignments in every state the scorecards count: returned, contacted in time or late,
replied on time or late, extended, overdue, reopened, called back with every answer. The city
is the demo's: Beijing's 16 districts, 339 streets/townships and their communities and units.

Measured in the same run, median of ``BENCH_ROUNDS`` (5) after one warm-up:

- baseline: ``COUNT(*) … GROUP BY area`` over the month's orders (the cheapest grouped read);
- join baseline: ``COUNT(*)`` over the month's assignments joined to their orders, by area;
- street ranking: ``jiesu.followup.selectors.scorecard("street", month)``, complete (SQL, roll-up
  to streets, rates, ranks and flags); also the district and unit tables.

Prints times and ratios to the baseline; writes ``bench/results/scorecard.json`` (one entry per
database and size). The PostgreSQL database must be empty and dedicated: it is migrated and
filled.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time

from bench.report import keep, print_figures

N = int(os.environ.get("BENCH_ORDERS", "200000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SEED = int(os.environ.get("BENCH_SEED", "5"))
BATCH = 10_000
END = dt.date(2026, 10, 1)  # the generated orders end here; the measured month is in the middle


def _setup():
    os.environ.setdefault("JIESU_DATA_DIR", tempfile.mkdtemp(prefix="jiesu-bench-scorecard-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Inserter:
    """Raw ``executemany`` of rows given as dicts; missing columns take the field's default."""

    def __init__(self, model) -> None:
        from django.db import connection
        from django.db.models import DateTimeField

        self.connection = connection
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.defaults = [None if f.null and not f.has_default() else f.get_default() for f in self.fields]
        self.dates = {i for i, f in enumerate(self.fields) if isinstance(f, DateTimeField)}
        qn = connection.ops.quote_name
        cols = ", ".join(qn(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        # Table and column names come from the models, quoted; the values are parameters.
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"  # noqa: S608
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: dict) -> None:
        adapt = self.connection.ops.adapt_datetimefield_value
        values = []
        for i, name in enumerate(self.names):
            v = row.get(name, self.defaults[i])
            if i in self.dates and v is not None:
                v = adapt(v)
            values.append(v)
        self.rows.append(tuple(values))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, self.rows)
            self.count += len(self.rows)
            self.rows = []


def generate(n: int) -> dict:
    """The demo city's areas and units, then ``n`` orders with their assignments."""
    from django.db import connection, transaction

    from jiesu.demo import org
    from jiesu.orders.models import Assignment, WorkOrder
    from jiesu.org.models import Area, Unit

    if WorkOrder.objects.exists():
        sys.exit("The database already has orders: give the benchmark an empty, dedicated database.")
    started = time.perf_counter()
    with transaction.atomic():
        streets = org.load_areas()
        org.build_units(streets)
    area_ids = dict(Area.objects.values_list("code", "pk"))
    unit_ids = dict(Unit.objects.values_list("code", "pk"))
    bureaus = [pk for code, pk in unit_ids.items() if code.startswith(("CB-", "UT-"))]
    rng = random.Random(SEED)
    # Streets get different loads (a few busy ones, a long tail), as real cities do.
    places = []
    for s in streets:
        inside = [area_ids[c] for c, _name in s.communities] or [area_ids[s.code]]
        places.append((inside, unit_ids[f"SO{s.code}"]))
    weights = [rng.paretovariate(1.2) for _ in places]
    start = dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=round(MONTHS * 30.44))
    span = (dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC) - start).total_seconds()
    moments = sorted(rng.random() * span for _ in range(n))
    chosen = rng.choices(range(len(places)), weights=weights, k=n)
    orders, assignments = Inserter(WorkOrder), Inserter(Assignment)
    seq: dict[str, int] = {}
    aid = 0
    H = dt.timedelta(hours=1)
    with transaction.atomic():
        for i, offset in enumerate(moments):
            received = start + dt.timedelta(seconds=offset)
            day = received.strftime("%Y%m%d")
            seq[day] = seq.get(day, 0) + 1
            inside, office = places[chosen[i]]
            r = rng.random()
            state = ("closed" if r < 0.70 else "callback_due" if r < 0.74 else "accepted" if r < 0.82
                     else "dispatched" if r < 0.85 else "reopened" if r < 0.86 else "replied" if r < 0.865
                     else "answered" if r < 0.93 else "referred" if r < 0.955 else "declined" if r < 0.97
                     else "merged" if r < 0.98 else "received")
            order = {"id": i + 1, "number": f"{day}{seq[day]:06d}", "state": state, "request_type": "complaint",
                     "channel": "hotline", "urgency": "normal", "content": "benchmark", "area_id": rng.choice(inside),
                     "received_at": received, "updated_at": received}
            handled = state in ("closed", "callback_due", "accepted", "dispatched", "reopened", "replied")
            if handled and state == "closed" and rng.random() < 0.08:
                handled = False  # closed without a unit: answered on the spot, then closed
            if handled:
                lead = office if rng.random() < 0.7 else rng.choice(bureaus)
                t = received + dt.timedelta(minutes=rng.uniform(5, 120))
                if rng.random() < 0.04:  # first sent to the wrong unit, which returned it
                    aid += 1
                    assignments.add({"id": aid, "order_id": i + 1, "unit_id": rng.choice(bureaus), "role": "lead",
                                     "state": "returned", "dispatched_at": t, "return_due_at": t + 2 * H,
                                     "contact_due_at": t + 24 * H, "due_at": t + 168 * H,
                                     "original_due_at": t + 168 * H, "returned_at": t + H, "return_reason": "x"})
                    t += 3 * H
                due = t + 168 * H
                rounds = 2 if (state == "reopened" or (state == "closed" and rng.random() < 0.03)) else 1
                for k in range(rounds):
                    last = k == rounds - 1
                    extended = rng.random() < 0.05
                    a_due = due + (72 * H if extended else dt.timedelta(0))
                    a_state = {"accepted": "accepted", "dispatched": "dispatched", "reopened": "accepted"}.get(
                        state, "replied") if last else "cancelled"
                    contacted = replied = None
                    if a_state != "dispatched":
                        c = rng.random()
                        contacted = t + (rng.uniform(1, 20) * H if c < 0.8 else rng.uniform(25, 60) * H)
                    if a_state in ("replied", "cancelled"):
                        replied = t + (a_due - t) * (rng.uniform(0.1, 0.95) if rng.random() < 0.88
                                                     else rng.uniform(1.01, 1.5))
                        contacted = min(contacted or replied, replied)
                    aid += 1
                    assignments.add({"id": aid, "order_id": i + 1, "unit_id": lead, "role": "lead", "state": a_state,
                                     "dispatched_at": t, "return_due_at": t + 2 * H, "contact_due_at": t + 24 * H,
                                     "due_at": a_due, "original_due_at": due, "accepted_at": t + H,
                                     "contacted_at": contacted, "replied_at": replied, "extended": extended})
                    if k == 0 and rng.random() < 0.2:
                        aid += 1
                        assignments.add({"id": aid, "order_id": i + 1, "unit_id": rng.choice(bureaus), "role": "co",
                                         "state": "replied", "dispatched_at": t, "return_due_at": t + 2 * H,
                                         "contact_due_at": t + 24 * H, "due_at": due, "original_due_at": due,
                                         "contacted_at": t + 5 * H, "replied_at": t + 48 * H})
                    last_due = a_due
                    t = (replied or t) + 48 * H
                    due = t + 168 * H
                order["due_at"] = last_due
                order["reopen_count"] = rounds - 1
                if state in ("closed", "reopened") and rng.random() < 0.9:
                    s = rng.random()
                    order["satisfaction"] = "satisfied" if s < 0.7 else "basic" if s < 0.9 else "unsatisfied"
                    v = rng.random()
                    order["resolution"] = "solved" if v < 0.8 else "partly" if v < 0.9 else "unsolved"
                    order["solved"] = order["resolution"] == "solved"
            if state == "closed":
                order["closed_at"] = received + dt.timedelta(days=5)
            orders.add(order)
            if orders.count and orders.count % 500_000 == 0 and not orders.rows:
                print(f"  {orders.count:,} orders …", flush=True)
        orders.flush()
        assignments.flush()
    if connection.vendor == "postgresql":
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [WorkOrder, Assignment]):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":  # fold the bulk load's write-ahead log into the database
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"orders": orders.count, "assignments": assignments.count,
            "generate_s": round(time.perf_counter() - started, 1)}


def measure(fn) -> float:
    fn()  # warm-up (caches, statistics)
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def generate_or_reuse(n: int) -> dict:
    """The generated orders: made now, or those of an earlier run with ``BENCH_REUSE=1``."""
    from django.db import connection

    from jiesu.orders.models import Assignment, WorkOrder

    if os.environ.get("BENCH_REUSE") and WorkOrder.objects.exists():
        size = {"orders": WorkOrder.objects.count(), "assignments": Assignment.objects.count(), "generate_s": None}
        print(f"reusing {size['orders']:,} orders on {connection.vendor}", flush=True)
    else:
        print(f"generating {n:,} orders over {MONTHS} months on {connection.vendor} …", flush=True)
        size = generate(n)
    print(f"  {size['orders']:,} orders, {size['assignments']:,} assignments in {size['generate_s']} s", flush=True)
    return size


def main() -> None:
    _setup()
    from django.db import connection
    from django.db.models import Count

    from jiesu import clock
    from jiesu.followup import periods
    from jiesu.followup.selectors import scorecard
    from jiesu.orders.models import Assignment, WorkOrder

    size = generate_or_reuse(N)
    month = periods.Period("month", (END - dt.timedelta(days=MONTHS * 30 // 2)).replace(day=1))
    start, end = month.bounds()
    in_month = WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end).count()
    as_of = dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC)

    def baseline() -> None:
        list(WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end).order_by()
             .values("area_id").annotate(n=Count("pk")))

    def join_baseline() -> None:
        list(Assignment.objects.filter(order__received_at__gte=start, order__received_at__lt=end).order_by()
             .values("order__area_id").annotate(n=Count("pk")))

    def ranking(level: str):
        def run() -> None:
            with clock.frozen(as_of):
                card = scorecard(level, month)
            assert card.cards
        return run

    if os.environ.get("BENCH_SEQUENTIAL"):  # one query on one connection, no time slices
        from django.conf import settings

        settings.JIESU["SCORECARD"] = {**settings.JIESU["SCORECARD"], "parallel_min_orders": 10**12}
    results = {
        "baseline_count_by_area_ms": measure(baseline) * 1000,
        "join_baseline_ms": measure(join_baseline) * 1000,
        "street_ranking_ms": measure(ranking("street")) * 1000,
        "district_ranking_ms": measure(ranking("district")) * 1000,
        "unit_ranking_ms": measure(ranking("unit")) * 1000,
    }
    base = results["baseline_count_by_area_ms"]
    ratios = {k.replace("_ms", "_vs_baseline"): v / base for k, v in results.items() if k != "baseline_count_by_area_ms"}
    with clock.frozen(as_of):
        streets = scorecard("street", month)
    out = {
        "database": connection.vendor,
        "orders": size["orders"],
        "assignments": size["assignments"],
        "months": MONTHS,
        "month": month.key,
        "orders_in_month": in_month,
        "streets": len(streets.cards),
        "streets_flagged": len(streets.flagged),
        "generate_s": size["generate_s"],
        "rounds": ROUNDS,
        "sequential": bool(os.environ.get("BENCH_SEQUENTIAL")),
        "load_average": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results_ms": {k: round(v, 2) for k, v in results.items()},
        "ratios": {k: round(v, 2) for k, v in ratios.items()},
    }
    print(f"month {month.key}: {in_month:,} orders, {len(streets.cards)} streets, {len(streets.flagged)} flagged")
    print_figures(results, ratios)
    keep("scorecard", f"{connection.vendor}-{size['orders']}{'-sequential' if out['sequential'] else ''}", out)


if __name__ == "__main__":
    main()
