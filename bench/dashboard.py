"""Dashboard benchmark: the insight dashboard (/desk/insight/) on many generated orders.

    .venv/bin/python -m bench.dashboard                          # 200,000 orders, fresh SQLite
    BENCH_ORDERS=5000000 .venv/bin/python -m bench.dashboard     # the issue's 5 million
    JIESU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> .venv/bin/python -m bench.dashboard
    JIESU_DATA_DIR=<dir of an earlier run> BENCH_REUSE=1 .venv/bin/python -m bench.dashboard   # measure again

The orders come from ``bench.scorecard``'s bulk generator (the same data directory can serve
both benchmarks: ``BENCH_REUSE=1``); bulk inserts send no signals, so the daily roll-ups
(``jiesu.insight.rollup``) are then computed for the 180 days the windows read, as ``jiesu sweep``
would (timed: ``rollup_build``). The clock is frozen at the generated data's end, and for the
last 30 and 90 days it times, median of ``BENCH_ROUNDS`` (5) after one warm-up:

- baseline: ``COUNT(*)`` over the window's orders (the cheapest read of the window);
- ``dashboard()``: the selector, every number of the page;
- the page: ``GET /desk/insight/?days=N`` through Django's test client, logged in as a city-wide
  analyst (server time: no network, no browser);
- the page with the window's last day dirty (as "today" always is in service: recounted from
  the orders) and, for comparison, the selector recounting every day from the orders (the path
  a street-level or unit viewer takes; ``raw``, one round).

Prints times and ratios to the baseline; writes ``bench/results/dashboard.json`` (one entry per
database and size). The PostgreSQL database must be empty and dedicated: it is migrated and filled.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time

from bench.report import keep, print_figures
from bench.scorecard import END, ROUNDS, N, _setup, generate_or_reuse, measure

WINDOWS = (30, 90)


def _analyst():
    from jiesu.accounts.models import Membership, Role, User
    from jiesu.org.models import Unit, UnitKind

    user, _created = User.objects.get_or_create(username="bench-analyst")
    centre = Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE).order_by("id").first()
    Membership.objects.get_or_create(user=user, unit=centre, role=Role.ANALYST)
    return user


def main() -> None:
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jiesu import clock
    from jiesu.accounts.policy import Actor
    from jiesu.insight import rollup
    from jiesu.insight.dashboard import Period, _assemble, _from_orders, dashboard, orders_in
    from jiesu.insight.models import DashboardDay

    size = generate_or_reuse(N)
    user = _analyst()
    actor = Actor.of(user)
    client = Client()
    client.force_login(user)
    # The generated orders end at END (UTC midnight): the dashboard's "today" is the day before.
    now = dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(hours=9)
    results: dict[str, float] = {}
    windows: dict[str, dict] = {}
    with clock.frozen(now):
        started = time.perf_counter()
        built = rollup.refresh()
        results["rollup_build_ms"] = (time.perf_counter() - started) * 1000
        print(f"roll-ups: {built} days in {results['rollup_build_ms'] / 1000:.1f} s", flush=True)
        for days in WINDOWS:
            period = Period.last_days(days)
            window = orders_in(actor, period)

            def baseline(window=window) -> None:
                window.count()

            def selector(period=period) -> None:
                dashboard(actor, period)

            def page(days=days) -> None:
                response = client.get(f"/desk/insight/?days={days}")
                assert response.status_code == 200, response.status_code

            results[f"baseline_count_{days}d_ms"] = measure(baseline) * 1000
            results[f"dashboard_selector_{days}d_ms"] = measure(selector) * 1000
            results[f"dashboard_page_{days}d_ms"] = measure(page) * 1000
            last = period.last
            DashboardDay.objects.filter(day=last).update(dirty=True)
            results[f"dashboard_page_last_day_dirty_{days}d_ms"] = measure(page) * 1000
            rollup.refresh([last])
            if not os.environ.get("BENCH_SKIP_RAW"):
                started = time.perf_counter()
                raw = _assemble(period, _from_orders(actor, period))
                results[f"dashboard_raw_selector_{days}d_ms"] = (time.perf_counter() - started) * 1000
            with CaptureQueriesContext(connection) as queries:
                d = dashboard(actor, period)
            windows[f"{days}d"] = {"orders": d.total, "queries": len(queries),
                                   "timings": {t.key: [t.n, t.median_hours, t.p90_hours] for t in d.timings}}
            if not os.environ.get("BENCH_SKIP_RAW"):
                same = (raw.total, raw.per_day, raw.timings, raw.by_district) == (d.total, d.per_day, d.timings,
                                                                                 d.by_district)
                windows[f"{days}d"]["equal_to_recount"] = same
                print(f"  roll-ups equal to the recount from the orders: {same}", flush=True)
            print(f"last {days} days: {d.total:,} orders, {len(queries)} queries", flush=True)
    ratios = {}
    for days in WINDOWS:
        base = results[f"baseline_count_{days}d_ms"]
        for what in ("selector", "page", "page_last_day_dirty"):
            ratios[f"dashboard_{what}_{days}d_vs_baseline"] = results[f"dashboard_{what}_{days}d_ms"] / base
    out = {
        "database": connection.vendor,
        "orders": size["orders"],
        "assignments": size["assignments"],
        "windows": windows,
        "generate_s": size["generate_s"],
        "rounds": ROUNDS,
        "load_average": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results_ms": {k: round(v, 2) for k, v in results.items()},
        "ratios": {k: round(v, 2) for k, v in ratios.items()},
    }
    print_figures(results, ratios, width=32)
    keep("dashboard", f"{connection.vendor}-{size['orders']}", out)


if __name__ == "__main__":
    main()
