"""In-process triage throughput with the keyword models (cold start: no trained model), and how
good the suggestions are on the demo city's generated orders.

Everything is pure Python, no database: the engine is built from the demo gazetteer
(``jiesu/demo/data/beijing_areas.csv``), the demo categories with their keywords, and the demo
routing catalogue (``jiesu.demo.org.ROUTES``, expanded as ``build_routing_rules`` does); the
orders are the demo generator's (``jiesu.demo.orders.plan_orders``), which knows for each the
true category, street and lead unit.

Measured:
- orders per second on one core (target ≥ 2,000), after a warm-up, single thread;
- accuracy of category (leaf and top level), district, street and lead unit over orders that a
  unit handles (consultations answered on the spot and praise are left out);
- the auto-dispatch table: for each threshold, the share of orders whose overall confidence
  reaches it (coverage) and the lead-unit precision among them. Synthetic texts: this shows
  the mechanics, not a real centre's numbers (those come from its own history).

Writes ``bench/results/triage_throughput.json``. Run:
``.venv/bin/python bench/triage_throughput.py [N]`` (default 3,000 orders).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")

OUT = ROOT / "bench" / "results" / "triage_throughput.json"
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99)


class Names(dict):
    """Unit code → name; the bench needs no real names, so an unknown code names itself."""

    def __missing__(self, key: str) -> str:
        return key


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("jiesu.demo").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def build():
    import django

    django.setup()  # the demo modules import Django models (nothing here touches a database)
    from jiesu.demo import org
    from jiesu.demo.orders import plan_orders
    from jiesu.triage.engine import CategoryInfo, Route, Routes, Triage, UnitRef
    from jiesu.triage.gazetteer import Gazetteer
    from jiesu.triage.rules import KeywordCategoryClassifier, RuleSet

    areas = _csv("beijing_areas.csv")
    cats = _csv("categories.csv")
    streets = org.streets_from(areas)
    police = {
        s.code: f"PS{s.code}" for s in streets if s.district in org.FULL_DISTRICTS and org._police_name(s)
    }
    districts = sorted({(s.district_code, s.district) for s in streets})
    world = org.World(
        streets=streets, districts=districts, units=Names(), police=police,
        categories={c["code"]: (c["name"], c["code"][:2]) for c in cats if len(c["code"]) == 6},
    )
    by_code = {c["code"]: c for c in cats}

    def chain(code: str) -> tuple[str, ...]:
        out = [code]
        while by_code[out[-1]]["parent_code"]:
            out.append(by_code[out[-1]]["parent_code"])
        return tuple(reversed(out))

    infos = {c["code"]: CategoryInfo(c["code"], c["name"], chain(c["code"]),
                                     tuple(by_code[x]["name"] for x in chain(c["code"]))) for c in cats}
    parents = {c["parent_code"] for c in cats if c["parent_code"]}
    rows = [{"code": c["code"], "name": c["name"], "path": "/".join(chain(c["code"])), "keywords": c["keywords"],
             "name_en": c["name_en"], "leaf": c["code"] not in parents, "names": list(infos[c["code"]].names)}
            for c in cats]
    U = UnitRef
    routes: list[Route] = []
    for code, spec in sorted(org.ROUTES.items()):
        kind = spec[0]
        if kind == "city":
            routes.append(Route(len(routes), code, None, U(spec[1], spec[1]), tuple(U(c, c) for c in spec[2:])))
        elif kind == "street":
            for s in streets:
                co = (U(police[s.code], police[s.code]),) if spec[1] == "police" and s.code in police else ()
                routes.append(Route(len(routes), code, s.code, U(f"SO{s.code}", f"SO{s.code}"), co))
        elif kind == "police":
            routes.append(Route(len(routes), code, None, U("CB-GAJ", "CB-GAJ")))
            for sc, ps in sorted(police.items()):
                routes.append(Route(len(routes), code, sc, U(ps, ps)))
        elif kind == "district":
            routes.append(Route(len(routes), code, None, U(spec[2], spec[2])))
            for dc, _name in districts:
                routes.append(Route(len(routes), code, dc, U(f"{spec[1]}{dc}", f"{spec[1]}{dc}")))
    gaz = Gazetteer.from_areas(areas)
    paths = {code: a.path for code, a in gaz.areas.items()}
    engine = Triage(RuleSet(), None, KeywordCategoryClassifier(rows), gaz,
                    Routes(routes, infos, paths, {c: a.name for c, a in gaz.areas.items()}))
    anchor = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    return engine, world, plan_orders, anchor


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    from jiesu.triage.engine import TriageInput

    started = time.perf_counter()
    engine, world, plan_orders, anchor = build()
    build_s = time.perf_counter() - started
    plans = plan_orders(world=world, seed=7, anchor=anchor, orders=n)
    inputs = [TriageInput(text=f"{p.title}。{p.content}", address=p.place.address, channel=p.channel) for p in plans]
    for i in inputs[:200]:  # warm-up (segmenter dictionary, caches)
        engine.triage(i)
    rounds = []
    for _ in range(3):
        t0 = time.perf_counter()
        results = [engine.triage(i) for i in inputs]
        rounds.append(time.perf_counter() - t0)
    best = min(rounds)
    per_s = len(inputs) / best
    latencies = sorted(r.elapsed_ms for r in results)

    # Quality on the orders that go to a unit.
    handled = [(p, r) for p, r in zip(plans, results, strict=True) if p.lead and p.request_type not in ("praise",)]
    hits: Counter = Counter()
    for p, r in handled:
        loc = r.location
        hits["category_leaf"] += r.category.code == p.leaf
        hits["category_top"] += bool(r.category.code) and r.category.code[:2] == p.leaf[:2]
        hits["district"] += bool(loc.district) and loc.district.code == p.street.district_code  # type: ignore[union-attr]
        hits["street"] += bool(loc.street) and loc.street.code == p.street.code  # type: ignore[union-attr]
        hits["lead_unit"] += r.lead_unit == p.lead
    total = len(handled)
    accuracy = {k: round(hits[k] / total, 4) for k in ("category_leaf", "category_top", "district", "street",
                                                       "lead_unit")}
    table = []
    for t in THRESHOLDS:
        chosen = [(p, r) for p, r in handled if r.routing and not r.referral and r.confidence >= t]
        right = sum(r.lead_unit == p.lead for p, r in chosen)
        table.append({"threshold": t, "coverage": round(len(chosen) / total, 4),
                      "precision": round(right / len(chosen), 4) if chosen else None, "orders": len(chosen)})
    meets = [row for row in table if row["precision"] is not None and row["precision"] >= 0.97]
    out = {
        "orders": len(inputs),
        "orders_per_second": round(per_s),
        "ms_per_order_mean": round(1000 * best / len(inputs), 4),
        "latency_ms_p50": round(latencies[len(latencies) // 2], 4),
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99)], 4),
        "engine_build_s": round(build_s, 3),
        "areas": len(engine.gazetteer), "routing_rules": engine.routes.count,
        "handled_orders": total,
        "accuracy": accuracy,
        "auto_dispatch": table,
        "lowest_threshold_with_precision_97": meets[0] if meets else None,
        "python": sys.version.split()[0], "machine": platform.machine(),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"triage: {per_s:,.0f} orders/s on one core ({1000 * best / len(inputs):.3f} ms each; "
          f"p99 {out['latency_ms_p99']} ms), engine built in {build_s:.2f} s")
    print("accuracy on demo orders handled by units: "
          + ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()))
    for row in table:
        print(f"  threshold {row['threshold']:.2f}: coverage {row['coverage']:.3f}  precision {row['precision']}")
    print(f"written: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
