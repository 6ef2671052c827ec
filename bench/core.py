"""The work-order core's write path, against a baseline measured in the same run.

- baseline: a bare ORM insert of one order row with one requester, in a transaction;
- intake: `create_order` (validation, numbering under lock, requester, event);
- loop: one order through create → dispatch → accept → reply → (task) callback due → closed.

Prints per-operation times and ratios to the baseline and writes `bench/results/core.json`.
Runs on a fresh SQLite database in a temporary directory (or `JIESU_DATABASE_URL`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

N = int(os.environ.get("BENCH_N", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def order_loop(ct, disp, handler, sup, content: str) -> None:
    """One order through create → dispatch → accept → reply → callback, by the city's call-taker,
    dispatcher, handler and supervisor (also timed by ``bench.integrations``)."""
    from jiesu.orders import actions

    n = actions.create_order(actor=ct, request_type="complaint", channel="hotline", content=content,
                             requesters=[actions.RequesterInput(phone="13812345678")],
                             category_code="010101", area_code="110105001").number
    actions.dispatch_order(actor=disp, number=n, lead_unit="SLT")
    actions.accept_assignment(actor=handler, number=n)
    actions.reply_to_order(actor=handler, number=n, body="已修复。", outcome="solved")
    actions.record_callback(actor=sup, number=n, reached=True, solved=True, satisfaction="satisfied")


def main() -> None:
    from bench.report import fresh_django

    fresh_django()
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from jiesu import clock
    from jiesu.orders import actions
    from jiesu.orders.models import Requester, WorkOrder
    from tests.conftest import build_city

    with transaction.atomic():
        make_password("x")
        city = build_city()
    ct, disp, handler, sup = (city.actor(n) for n in ("calltaker", "dispatcher", "handler", "supervisor"))
    content = "小区门口的路灯坏了一个多星期，晚上出行很不方便，老人摔倒过，请尽快派人修理。"
    seq = iter(range(10**9))

    def baseline() -> None:
        with transaction.atomic():
            order = WorkOrder.objects.create(
                number=f"B{next(seq):013d}", request_type="complaint", channel="hotline", content=content,
                received_at=clock.now(),
            )
            Requester.objects.create(order=order, phone="13812345678", name="张三")

    def intake() -> None:
        actions.create_order(actor=ct, request_type="complaint", channel="hotline", content=content,
                             requesters=[actions.RequesterInput(phone="13812345678", name="张三")],
                             category_code="010101", area_code="110105001")

    def loop() -> None:
        order_loop(ct, disp, handler, sup, content)

    def measure(fn, n: int) -> float:
        best = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best.append((time.perf_counter() - start) / n)
        return statistics.median(best)

    base = measure(baseline, N)
    results = {
        "baseline_insert_ms": base * 1000,
        "intake_ms": measure(intake, N) * 1000,
        "loop_ms": measure(loop, max(N // 5, 20)) * 1000,
    }
    ratios = {
        "intake_vs_baseline": results["intake_ms"] / results["baseline_insert_ms"],
        "loop_vs_baseline": results["loop_ms"] / results["baseline_insert_ms"],
    }
    out = {
        "database": connection.vendor,
        "n": N,
        "rounds": ROUNDS,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "results_ms": results,
        "ratios": ratios,
    }
    for k, v in results.items():
        print(f"{k:>22}: {v:8.2f} ms")
    for k, v in ratios.items():
        print(f"{k:>22}: {v:8.2f} ×")
    path = Path(__file__).parent / "results"
    path.mkdir(exist_ok=True)
    (path / f"core-{connection.vendor}.json").write_text(json.dumps(out, indent=2))
    print(f"written: {path / f'core-{connection.vendor}.json'}")


if __name__ == "__main__":
    main()
