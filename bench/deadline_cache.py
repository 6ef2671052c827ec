"""The deadline configuration per process (issue 8): what reading the calendar and the limit
table costs each dispatch, without and with the process-level memo, in the same run.

- without: as before the memo, every call reads ~700 calendar days, the calendar years and the
  limit table and builds the calendar (the same code path with no ``ConfigStamp`` row, which
  switches the memo off);
- with: one primary-key read of the stamp, then the kept calendar and limits;
- and ``dispatch_order`` (lock, checks, deadlines, assignment, event) both ways.

Prints per-call times and ratios and writes bench/results/deadline_cache.json. A fresh SQLite
database in a temporary directory, or ``JIESU_DATABASE_URL`` (an empty, dedicated database).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

N = int(os.environ.get("BENCH_N", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main() -> None:
    from bench.report import fresh_django

    fresh_django()
    from django.db import connection, transaction

    from bench.report import keep, print_figures
    from jiesu.deadlines import services as deadlines
    from jiesu.deadlines.models import ConfigStamp
    from jiesu.dispatch.models import DispatchSettings
    from jiesu.orders import actions
    from tests.conftest import build_city

    with transaction.atomic():
        city = build_city()
        DispatchSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch": False})
    ct, disp = city.actor("calltaker"), city.actor("dispatcher")
    content = "小区门口的路灯坏了一个多星期，晚上出行很不方便，老人摔倒过，请尽快派人修理。"

    def read_config() -> None:
        deadlines.load_calendar()
        deadlines.load_limit_rows()

    def numbers(n: int) -> list[str]:
        return [actions.create_order(actor=ct, request_type="complaint", channel="hotline", content=content,
                                     requesters=[actions.RequesterInput(phone="13812345678")],
                                     category_code="010101", area_code="110105001").number for _ in range(n)]

    def measure(fn, n: int) -> float:
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            times.append((time.perf_counter() - start) / n)
        return statistics.median(times) * 1000

    def measure_dispatch() -> float:
        times = []
        for _ in range(ROUNDS):
            todo = numbers(N)
            start = time.perf_counter()
            for number in todo:
                actions.dispatch_order(actor=disp, number=number, lead_unit="SLT")
            times.append((time.perf_counter() - start) / N)
        return statistics.median(times) * 1000

    token = ConfigStamp.objects.get(pk=1).token
    ConfigStamp.objects.all().delete()  # the memo off: every call reads the tables, as before
    without = {"read_config_ms": measure(read_config, N), "dispatch_ms": measure_dispatch()}
    ConfigStamp.objects.create(pk=1, token=token)
    with_memo = {"read_config_ms": measure(read_config, N), "dispatch_ms": measure_dispatch()}
    results = {**{f"without_memo_{k}": v for k, v in without.items()},
               **{f"with_memo_{k}": v for k, v in with_memo.items()}}
    ratios = {k.removesuffix("_ms") + "_speedup": without[k] / with_memo[k] for k in without}
    print_figures(results, ratios)
    keep("deadline_cache", connection.vendor, {"database": connection.vendor, "n": N, "rounds": ROUNDS,
                                               "python": sys.version.split()[0], "results_ms": results,
                                               "ratios": ratios})


if __name__ == "__main__":
    main()
