"""Integrations: what the event hook costs the write path, and how fast import, export and
webhook delivery run. Baseline (same run): the order loop of bench.core with the integrations'
receivers disconnected.

- loop_unhooked / loop_hooked: create → dispatch → accept → reply → callback, without and with
  the after-commit hook (tasks run immediately; one subscription pointed at a local receiver,
  notifications through the console transport, i.e. rows written and "sent");
- import_orders_per_row: `importing.run("orders")` of an .xlsx of BENCH_ROWS new orders; the
  re-import of the same file (everything unchanged);
- export_orders: the full `orders` table as .xlsx; webhook_delivery: one signed POST to a local
  receiver, with its log row.

Writes bench/results/integrations.json (one entry per database).
"""

from __future__ import annotations

import os
import time

N = int(os.environ.get("BENCH_N", "60"))
ROWS = int(os.environ.get("BENCH_ROWS", "1000"))


def main() -> None:
    from bench.report import fresh_django

    fresh_django()
    from django.db import connection, transaction

    from bench.core import order_loop
    from bench.report import keep, print_figures
    from jiesu.accounts.policy import Actor
    from jiesu.integrations import receivers, webhooks
    from jiesu.integrations.exchange import exporting, importing, sheets
    from jiesu.integrations.models import WebhookDelivery, WebhookSubscription
    from jiesu.orders.events import event_committed
    from tests.conftest import build_city
    from tests.http_receiver import Receiver

    with transaction.atomic():
        city = build_city()
    ct, disp, handler, sup = (city.actor(n) for n in ("calltaker", "dispatcher", "handler", "supervisor"))
    content = "小区门口的路灯坏了一个多星期，晚上出行很不方便，请尽快派人修理。"
    receiver = Receiver().start()
    WebhookSubscription.objects.create(name="bench", url=receiver.url, event_codes=["dispatched", "replied"])

    def loop() -> None:
        order_loop(ct, disp, handler, sup, content)

    def per_call(fn, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n * 1000

    hooks = [receivers.queue_notifications, receivers.queue_webhooks]
    for hook in hooks:
        event_committed.disconnect(hook, dispatch_uid=f"integrations-{'notify' if hook is hooks[0] else 'webhooks'}")
    unhooked = per_call(loop, N)
    event_committed.connect(hooks[0], dispatch_uid="integrations-notify")
    event_committed.connect(hooks[1], dispatch_uid="integrations-webhooks")
    hooked = per_call(loop, N)
    delivered = WebhookDelivery.objects.filter(status="sent").count()

    header = ["external_id", "request_type", "content", "phone", "category_code", "area_code"]
    data = sheets.write(header, ([f"B-{i}", "complaint", f"{content}{i}", "13812345678", "010101", "110105001"]
                                 for i in range(ROWS)), "xlsx")
    start = time.perf_counter()
    report = importing.run(kind="orders", data=data, filename="o.xlsx", actor=Actor.system())
    first = (time.perf_counter() - start) / ROWS * 1000
    start = time.perf_counter()
    again = importing.run(kind="orders", data=data, filename="o.xlsx", actor=Actor.system())
    second = (time.perf_counter() - start) / ROWS * 1000
    assert report.created == ROWS and again.unchanged == ROWS, (report, again)

    from jiesu.orders.models import WorkOrder

    orders = WorkOrder.objects.count()
    start = time.perf_counter()
    size = len(sheets.write(*exporting.TABLES["orders"][:1], exporting.TABLES["orders"][1](), "xlsx"))
    export_ms = (time.perf_counter() - start) * 1000

    ids = list(WebhookDelivery.objects.values_list("pk", flat=True)[:N])
    WebhookDelivery.objects.filter(pk__in=ids).update(status="pending", next_attempt_at=None)
    webhook_ms = per_call(lambda: webhooks.attempt(ids.pop()), len(ids))
    receiver.stop()

    results = {"loop_unhooked_ms": unhooked, "loop_hooked_ms": hooked,
               "import_orders_per_row_ms": first, "reimport_unchanged_per_row_ms": second,
               "export_orders_xlsx_ms": export_ms, "webhook_delivery_ms": webhook_ms}
    ratios = {"hook_overhead": hooked / unhooked}
    print_figures(results, ratios)
    print(f"{'orders exported':>28}: {orders} ({size / 1e6:.2f} MB); webhooks delivered in the loop: {delivered}")
    keep("integrations", connection.vendor, {"n": N, "rows": ROWS, "orders_exported": orders,
                                             "results_ms": results, "ratios": ratios})


if __name__ == "__main__":
    main()
