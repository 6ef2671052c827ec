"""What an order costs made alone and made in a batch, in one process (issue 8).

On 2 cores, 300 orders/s leaves 6.7 ms of CPU per order for everything: the request, triage,
dispatch, notifications and the database. This measures the product's two intake paths without
HTTP, in the same run, counting this process's CPU and (PostgreSQL on this machine) its database
backend's:

- ``alone``: ``create_order``, one order per transaction, as ``POST /api/v1/orders`` does;
- ``receipt``: the acknowledgement of ``Prefer: respond-async`` (``receipts.receive_order``:
  validation and one row);
- ``batch``: ``receipts.make_received_orders`` making those receipts ``BENCH_BATCH`` at a time
  (the task worker's part).

Tasks run immediately (django-tasks' immediate backend), so the notifications each transaction
causes are counted where they are caused. Triage runs on the keyword rules with auto-dispatch
at 0.5 (as ``bench.intake_http``), and the units' handlers have e-mail addresses, so every order
sends an SMS to its requester and an e-mail to its unit.

    BENCH_N=600 BENCH_BATCH=100 [JIESU_DATABASE_URL=postgres://…/db] .venv/bin/python -m bench.intake_batch

Writes bench/results/intake_batch.json. Not part of ``make bench`` (``bench.intake_http`` is the
benchmark over HTTP); a tool for the design of intake.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bench.profile_intake import CONTENT, set_up_city

N = int(os.environ.get("BENCH_N", "600"))
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RESULTS = Path(__file__).resolve().parent / "results"
HZ = os.sysconf("SC_CLK_TCK")


def _backend_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def main() -> None:
    city, _raw = set_up_city(prefix="jiesu-intake-batch-", handler_emails=True)
    from django.conf import settings
    from django.db import connection

    from jiesu.orders.actions import RequesterInput, create_order, receipts
    from jiesu.orders.models import WorkOrder
    from jiesu.orders.states import State

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    actor = city.actor("calltaker")
    counter = iter(range(10**9))

    def order_kwargs() -> dict:
        i = next(counter)
        return dict(actor=actor, request_type="complaint", channel="hotline", content=f"{CONTENT}编号{i}",
                    address="朝阳区三里屯街道工体北路12号",
                    requesters=[RequesterInput(phone=f"139{i % 10**8:08d}", name="张先生")])

    pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]

    def cpu(run) -> dict:
        t0, d0 = time.process_time(), _backend_cpu_s(pid)
        run()
        app, db = (time.process_time() - t0) / N * 1000, (_backend_cpu_s(pid) - d0) / N * 1000
        return {"app_ms": app, "db_ms": db}

    def alone() -> None:
        for _ in range(N):
            create_order(**order_kwargs())

    def receive() -> None:
        for _ in range(N):
            receipts.receive_order(**order_kwargs())

    def make() -> None:
        while receipts.make_received_orders(limit=BATCH):
            pass

    for _ in range(20):  # warm up both paths
        create_order(**order_kwargs())
        receipts.receive_order(**order_kwargs())
    make()
    rounds: dict[str, list[dict]] = {"alone": [], "receipt": [], "batch": []}
    for _ in range(ROUNDS):
        before = WorkOrder.objects.count()
        rounds["alone"].append(cpu(alone))
        rounds["receipt"].append(cpu(receive))
        rounds["batch"].append(cpu(make))
        assert WorkOrder.objects.count() - before == 2 * N
    out: dict = {}
    for name, rs in rounds.items():
        med = {k: round(statistics.median(r[k] for r in rs), 2) for k in ("app_ms", "db_ms")}
        med["all_ms"] = round(med["app_ms"] + med["db_ms"], 2)
        out[name] = med
        print(f"{name:8} CPU per order: app {med['app_ms']:6.2f} ms  database {med['db_ms']:6.2f} ms  "
              f"all {med['all_ms']:6.2f} ms  (median of {ROUNDS} × {N}, {connection.vendor})", flush=True)
    both = round(out["receipt"]["all_ms"] + out["batch"]["all_ms"], 2)
    dispatched = WorkOrder.objects.filter(state=State.DISPATCHED).count()
    print(f"receipt + batch {both} ms against alone {out['alone']['all_ms']} ms: "
          f"{out['alone']['all_ms'] / both:.2f}×; dispatched {dispatched} of {WorkOrder.objects.count()}")
    RESULTS.mkdir(exist_ok=True)
    result = {"benchmark": "intake_batch", "database": connection.vendor, "n": N, "batch_size": BATCH, "rounds": ROUNDS,
              **out, "receipt_plus_batch_ms": both, "ratio_alone_to_batched": round(out["alone"]["all_ms"] / both, 2)}
    (RESULTS / "intake_batch.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
