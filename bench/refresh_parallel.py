"""A day's scorecard roll-up refreshed with and without PostgreSQL's parallel workers (issue 8).

    JIESU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db made by bench.desk_scale> \\
        .venv/bin/python -m bench.refresh_parallel
    BENCH_WORKERS=2,0 BENCH_ROUNDS=2 …   # the settings compared (default), the rounds

On a database that ``bench.desk_scale`` generated (it does not generate one): each day of the
month that ``bench.desk_scale`` ranks is recounted (``jiesu.followup.daily.refresh``, as the sweep
does) once with each ``SCORECARD["pg_parallel_workers"]`` value, the order of the values turning
day by day and round by round, so that neither setting always runs on a warm cache. Prints p50
and p95 ms per setting and writes ``bench/results/refresh_parallel.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time

from bench.report import keep

WORKERS = [int(w) for w in os.environ.get("BENCH_WORKERS", "2,0").split(",") if w]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    if not os.environ.get("JIESU_DATABASE_URL"):
        sys.exit("Give the PostgreSQL database bench.desk_scale made (JIESU_DATABASE_URL).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    from bench.desk_gen import END
    from jiesu.followup import daily, periods
    from jiesu.orders.models import WorkOrder

    if connection.vendor != "postgresql":
        sys.exit("Parallel workers are PostgreSQL's: give a PostgreSQL database.")
    orders = WorkOrder.objects.count()
    if not orders:
        sys.exit("The database has no orders: run bench.desk_scale on it first.")
    month = periods.Period("month", (END - dt.timedelta(days=45)).date().replace(day=1))
    days = daily.period_days(month.start, month.end)
    spent: dict[int, list[float]] = {w: [] for w in WORKERS}
    print(f"{orders:,} orders; refreshing the {len(days)} days of {month.key}, {ROUNDS} rounds, "
          f"pg_parallel_workers {WORKERS}", flush=True)
    for r in range(ROUNDS):
        for i, day in enumerate(days):
            turn = (i + r) % len(WORKERS)
            for w in WORKERS[turn:] + WORKERS[:turn]:
                jiesu = {**settings.JIESU, "SCORECARD": {**(settings.JIESU.get("SCORECARD") or {}),
                                                         "pg_parallel_workers": w}}
                with override_settings(JIESU=jiesu):
                    t = time.perf_counter()
                    daily.refresh([day], now=END)
                    spent[w].append((time.perf_counter() - t) * 1000)
        print(f"  round {r + 1} of {ROUNDS} done", flush=True)
    results = {f"workers_{w}": {"p50": round(statistics.median(t), 2), "p95": round(_p95(t), 2), "n": len(t)}
               for w, t in spent.items()}
    for k, v in results.items():
        print(f"{k:>10}: p50 {v['p50']:8.2f} ms   p95 {v['p95']:8.2f} ms   ({v['n']} refreshes)", flush=True)
    keep("refresh_parallel", f"{connection.settings_dict['NAME']}-{orders}", {
        "orders": orders, "month": month.key, "rounds": ROUNDS, "results_ms": results,
        "load_average": round(os.getloadavg()[0], 2),
    })


if __name__ == "__main__":
    main()
