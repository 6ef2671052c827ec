"""``POST /api/v1/triage`` latency on the demo city (target: p99 ≤ 20 ms on this machine).

Builds a fresh SQLite database in a temporary directory (or ``JIESU_DATABASE_URL``), loads the
demo city with a few hundred orders (the duplicate search reads recent orders), issues an API
token for the city dispatcher, and posts the demo generator's texts through Django's test client
in this process (no network, no server: the view, auth, engine, duplicates and JSON rendering
are measured). The first request builds the engine and is reported apart.

Writes ``bench/results/triage_api.json``. Run: ``.venv/bin/python bench/triage_api.py [N]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "triage_api.json"


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    os.environ["JIESU_DATA_DIR"] = tempfile.mkdtemp(prefix="jiesu-bench-triage-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from jiesu.accounts.models import ApiToken, User
    from jiesu.demo.build import load_demo

    started = time.perf_counter()
    load_demo(orders=int(os.environ.get("BENCH_DEMO_ORDERS", "600")))
    demo_s = time.perf_counter() - started
    _token, raw = ApiToken.issue(user=User.objects.get(username="dispatcher1"), name="bench")
    sys.path.insert(0, str(ROOT / "bench"))
    from triage_throughput import build  # the demo generator's texts

    _engine, world, plan_orders, anchor = build()
    plans = plan_orders(world=world, seed=11, anchor=anchor, orders=n)
    client = Client()
    headers = {"Authorization": f"Bearer {raw}"}

    def post(body: dict) -> float:
        t0 = time.perf_counter()
        r = client.post("/api/v1/triage", json.dumps(body, ensure_ascii=False), content_type="application/json",
                        headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.content[:300]
        return elapsed

    first = post({"text": "路灯坏了", "address": "朝阳区望京街道"})
    bodies = [{"text": f"{p.title}。{p.content}", "address": p.place.address} for p in plans]
    plain = sorted(post(b) for b in bodies)
    dups = sorted(post({**b, "with_duplicates": True}) for b in bodies[: max(n // 5, 50)])

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(len(values) * q))], 2)

    out = {
        "requests": len(plain),
        "first_request_ms (engine build)": round(first, 1),
        "p50_ms": pct(plain, 0.5), "p95_ms": pct(plain, 0.95), "p99_ms": pct(plain, 0.99),
        "mean_ms": round(statistics.mean(plain), 2),
        "with_duplicates": {"requests": len(dups), "p50_ms": pct(dups, 0.5), "p99_ms": pct(dups, 0.99)},
        "demo_load_s": round(demo_s, 1),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"POST /api/v1/triage: p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, p99 {out['p99_ms']} ms "
          f"({len(plain)} requests; first {first:.0f} ms builds the engine)")
    print(f"  with duplicates: p50 {out['with_duplicates']['p50_ms']} ms, p99 {out['with_duplicates']['p99_ms']} ms")
    print(f"written: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
