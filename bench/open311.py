"""Open311 benchmark: the GeoReport v2 server on many orders (server time through Django's test
client: no network).

    .venv/bin/python -m bench.open311                        # 50,000 orders over 12 months, fresh SQLite
    BENCH_ORDERS=200000 .venv/bin/python -m bench.open311
    JIESU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> .venv/bin/python -m bench.open311

Orders come from ``bench.scorecard``'s bulk generator. Median of ``BENCH_ROUNDS`` (5) after a
warm-up, each against the baseline ``COUNT(*)`` of the 90-day window:

- ``GET requests.json`` and ``requests.xml``: the default (last 90 days, first 1,000 rows);
- the same with ``extensions=true`` (detailed status, channel, history);
- ``GET requests.json?service_request_id=`` with 100 ids;
- ``GET servicerequestupdates.json`` for one day;
- ``POST requests.json``: one new request through the whole intake (median of 20 posts).

Writes ``bench/results/open311.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from urllib.parse import urlencode

from bench.report import keep, print_figures
from bench.scorecard import END, MONTHS, _setup, generate_or_reuse, measure

N = int(os.environ.get("BENCH_ORDERS", "50000"))


def main() -> None:
    _setup()
    from django.db import connection
    from django.test import Client

    from jiesu import clock
    from jiesu.accounts.policy import Actor
    from jiesu.catalogue.models import Category
    from jiesu.open311.services import issue_key
    from jiesu.orders.models import WorkOrder

    size = generate_or_reuse(N)
    now = dt.datetime.combine(END, dt.time(0), tzinfo=dt.UTC)
    client = Client()
    base = "/open311/v2"
    results: dict[str, float] = {}
    with clock.frozen(now):
        window = WorkOrder.objects.filter(received_at__gte=now - dt.timedelta(days=90), received_at__lte=now)
        results["baseline COUNT(*) 90 days"] = measure(lambda: window.count()) * 1000
        for name, url in (("requests.json", "requests.json"), ("requests.xml", "requests.xml"),
                          ("requests.json extensions", "requests.json?extensions=true")):
            def get(url=url):
                response = client.get(f"{base}/{url}")
                assert response.status_code == 200, response.content[:300]
            results[name] = measure(get) * 1000
        ids = ",".join(window.order_by("?").values_list("number", flat=True)[:100])
        results["requests.json 100 ids"] = measure(lambda: client.get(f"{base}/requests.json",
                                                                      {"service_request_id": ids})) * 1000
        day = {"start_date": (now - dt.timedelta(days=1)).isoformat(), "end_date": now.isoformat()}
        results["servicerequestupdates 1 day"] = measure(
            lambda: client.get(f"{base}/servicerequestupdates.json", day)) * 1000
        rows = len(client.get(f"{base}/requests.json").json())
    _key, raw = issue_key(actor=Actor.system(), name="bench")
    leaf = Category.objects.filter(children__isnull=True, is_active=True).order_by("path").first()
    if leaf is None:
        leaf = Category.objects.create(code="BENCH01", name="路灯")
    form = {"api_key": raw, "service_code": leaf.code, "address_string": "朝阳区三里屯路19号",
            "description": "路灯坏了一个星期。", "phone": "13812345678", "lat": "39.93", "long": "116.45"}
    times = []
    for _ in range(20):
        t = time.perf_counter()
        response = client.post(f"{base}/requests.json", data=urlencode(form),
                               content_type="application/x-www-form-urlencoded")
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, response.content[:300]
    results["POST requests.json"] = statistics.median(times) * 1000
    baseline = results["baseline COUNT(*) 90 days"]
    ratios = {f"{k} / baseline": v / baseline for k, v in results.items() if not k.startswith("baseline")}
    print(f"{connection.vendor}, {size['orders']} orders over {MONTHS} months, {rows} rows in the default answer")
    print_figures(results, ratios, width=36)
    keep("open311", f"{connection.vendor}-{size['orders']}", {
        "python": platform.python_version(), "orders": size["orders"], "rows": rows,
        "ms": {k: round(v, 2) for k, v in results.items()}})


if __name__ == "__main__":
    main()
