"""Desk pages and API lists at city scale (issue 8, benchmarks 3 and 4).

    BENCH_ORDERS=1000000 .venv/bin/python -m bench.desk_scale            # SQLite, under var/bench-desk-1000000
    JIESU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> BENCH_ORDERS=10000000 \\
        .venv/bin/python -m bench.desk_scale
    BENCH_PARTITIONED=1 …      # PostgreSQL: monthly partitions of orders and events (jiesu.ops.partitioning)
    BENCH_RANKING=1 …          # also a month's 三率 ranking (jiesu.followup), benchmark 4
    BENCH_ONLY=dispatcher_queue,dispatcher_duplicates …   # only these rows (and the baseline)

The orders come from ``bench.desk_gen`` (bulk writes, minutes not days). A database that already
holds orders is measured again as it is, so that a 10-million-order database is made once: on
SQLite the data directory (``JIESU_DATA_DIR``, default ``var/bench-desk-<N>``) keeps it, on
PostgreSQL the database does.

Server time of each request through Django's test client (the whole Django stack with a real
request: middleware, session, view, template; no network), ``BENCH_SAMPLES`` (30) requests with
different arguments after two warm-ups, p50 and p95. The baseline, in the same run, is a
primary-key fetch of one order (``WorkOrder.objects.get(pk=…)``). Prints times and ratios and the
targets of the issue; writes ``bench/results/desk_scale.json`` (one entry per database, layout and
size).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

from bench.report import keep

N = int(os.environ.get("BENCH_ORDERS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "30"))
PARTITIONED = bool(os.environ.get("BENCH_PARTITIONED"))
# Comma-separated row names to measure (the baseline always runs), e.g. dispatcher_queue.
ONLY = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}
# The Python generator makes N / COPIES orders; the database copies them (bench.desk_gen.replicate).
COPIES = int(os.environ.get("BENCH_COPIES", "10"))
# The issue's targets, p95 in ms (issue 8: "At 10M orders …").
TARGETS = {"order_by_number": 10, "caller_history": 50, "month_ranking": 1000, "month_ranking_recounted": 1000,
           "rollup_refresh_day": 1000}
PAGE_TARGET = 100



def _sample_ids(rng: random.Random, k: int, total: int) -> list[int]:
    """``k`` order ids drawn evenly from every order: ids are sparse (they carry their day,
    jiesu.orders.numbering), so ranks are drawn and the ids read in one pass, in id order."""
    from jiesu.orders.models import WorkOrder

    ranks = sorted(rng.sample(range(max(total, 1)), min(k, total)))
    picked, want = [], iter(ranks)
    nxt = next(want, None)
    for i, pk in enumerate(WorkOrder.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=50_000)):
        if i == nxt:
            picked.append(pk)
            nxt = next(want, None)
            if nxt is None:
                break
    return picked

def _setup() -> None:
    os.environ.setdefault("JIESU_DATA_DIR", f"var/bench-desk-{N}")
    os.makedirs(os.environ["JIESU_DATA_DIR"], exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if PARTITIONED:
        if connection.vendor != "postgresql":
            sys.exit("BENCH_PARTITIONED needs PostgreSQL.")
        from jiesu.ops import partitioning

        if not partitioning.is_partitioned("orders_workorder"):
            from bench.desk_gen import END, MONTHS

            first = (END - dt.timedelta(days=round(MONTHS * 30.44) + 31)).date().replace(day=1)
            partitioning.partition_orders_and_events(first=first, months=MONTHS + 4)
            print("partitioned orders and events by month", flush=True)


def _users():
    from jiesu.accounts.models import ApiToken, Membership, Role, User
    from jiesu.orders.models import Assignment
    from jiesu.org.models import Unit, UnitKind

    centre = Unit.objects.get(kind=UnitKind.HOTLINE_CENTRE)
    # The busiest bureau and the busiest street office by open assignments: the worst inboxes.
    from django.db.models import Count

    def busiest(prefix: str) -> int:
        row = (Assignment.objects.filter(state__in=["dispatched", "accepted"], unit__code__startswith=prefix)
               .values("unit_id").annotate(n=Count("id")).order_by("-n").first())
        return row["unit_id"] if row else Unit.objects.filter(code__startswith=prefix).first().pk

    users = {}
    for name, unit_id, role in (("bench-calltaker", centre.pk, Role.CALL_TAKER),
                                ("bench-dispatcher", centre.pk, Role.DISPATCHER),
                                ("bench-supervisor", centre.pk, Role.SUPERVISOR),
                                ("bench-bureau", busiest("CB-"), Role.HANDLER),
                                ("bench-office", busiest("SO"), Role.HANDLER)):
        user, _created = User.objects.get_or_create(username=name)
        Membership.objects.get_or_create(user=user, unit_id=unit_id, role=role)
        users[name] = user
    _token, raw = ApiToken.issue(user=users["bench-supervisor"], name="bench")
    return users, raw


def _time(fn: Callable[[object], object], args: list) -> dict:
    for a in args[:2]:
        fn(a)
    times = []
    for a in args[:SAMPLES]:
        t = time.perf_counter()
        fn(a)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"p50": round(statistics.median(times), 2), "p95": round(p95, 2), "n": len(times)}


def main() -> None:
    _setup()
    from django.db import connection
    from django.test import Client

    from bench.desk_gen import END, MONTHS, generate
    from jiesu import clock
    from jiesu.accounts.policy import Actor
    from jiesu.orders import selectors
    from jiesu.orders.models import Requester, WorkOrder

    if WorkOrder.objects.exists():
        size = {"orders": WorkOrder.objects.count(), "generate_s": None}
        print(f"reusing {size['orders']:,} orders on {connection.vendor}", flush=True)
    else:
        print(f"generating {N:,} orders over {MONTHS} months on {connection.vendor} …", flush=True)
        size = generate(N, COPIES)
        print(f"  {size}", flush=True)
    users, token = _users()
    rng = random.Random(1)
    ids = _sample_ids(rng, SAMPLES + 2, size["orders"])
    numbers = list(WorkOrder.objects.filter(pk__in=ids).values_list("number", flat=True))
    rng.shuffle(numbers)
    # Phones: the most frequent callers (hundreds of orders) and callers picked at random.
    heavy = [f"13{i:09d}" for i in range(5)]  # bench.desk_gen: caller 0 is the most frequent
    phones = heavy + list(Requester.objects.filter(order_id__in=ids).values_list("phone", flat=True))
    phones = (phones * 2)[: SAMPLES + 2]
    words = ["路灯", "噪声", "停水", "垃圾", "施工", "占道经营", "小区 停车", "物业", "暖气", "漏水"]
    # Rarer words, in 0.05–0.3 % of the generated orders (place names, a few topics): their newest
    # page is tens of thousands of rows back on a walk (docs/benchmarks.md).
    rare = ["中关村", "三里屯", "望京", "香山", "打架", "绿化", "健身器", "马连洼", "宛平城", "庞各庄"]
    clients = {}
    for name, user in users.items():
        c = Client()
        c.force_login(user)
        c.cookies["django_language"] = "zh-hans"
        clients[name] = c
    api = Client(headers={"Authorization": f"Bearer {token}"})
    supervisor = Actor.of(users["bench-supervisor"])
    calltaker, dispatcher = Actor.of(users["bench-calltaker"]), Actor.of(users["bench-dispatcher"])
    bureau = Actor.of(users["bench-bureau"])

    def get(client: Client, url: str, **params) -> Callable[[object], object]:
        def run(arg) -> None:
            q = {k: (arg if v is ... else v) for k, v in params.items()}
            r = client.get(url.replace("{}", str(arg)) if "{}" in url else url, q)
            assert r.status_code == 200, (url, arg, r.status_code)
        return run

    # The list queries as their pages run them: the inbox's row columns, the search page's window
    # of the newest ids (``order_page``). Code without them (an older commit measured in the same
    # run) runs the queries its pages ran.
    inbox_rows = getattr(selectors, "unit_inbox_rows", selectors.unit_inbox)
    if hasattr(selectors, "order_page"):
        def text_page(w: str) -> list:
            return selectors.order_page(calltaker, selectors.OrderFilter(q=w), start=0, stop=101)
    else:
        def text_page(w: str) -> list:
            return list(selectors.order_list(calltaker, selectors.OrderFilter(q=w))[:101])

    # The queue as its page reads it (both states in one query before ``triage_queue_head``).
    if hasattr(selectors, "triage_queue_head"):
        def queue_head(actor: Actor) -> list:
            return selectors.triage_queue_head(actor, limit=101)
    else:
        def queue_head(actor: Actor) -> list:
            return list(selectors.triage_queue(actor)[:101])

    now = END - dt.timedelta(hours=9)
    with clock.frozen(now):
        first_in_queue = selectors.triage_queue(dispatcher).values_list("number", flat=True).first()
    checks: dict[str, tuple[Callable, list]] = {
        "baseline_pk_fetch": (lambda pk: WorkOrder.objects.get(pk=pk), ids),
        # The lookup every screen and action starts with: the visible order with its list joins.
        "order_by_number": (lambda n: selectors.visible(supervisor).select_related(
            *selectors.LIST_RELATED).get(number=n), numbers),
        "order_detail_selector": (lambda n: selectors.order_detail(supervisor, n), numbers),
        "order_page": (get(clients["bench-supervisor"], "/desk/orders/{}/"), numbers),
        "api_order": (get(api, "/api/v1/orders/{}"), numbers),
        "unit_inbox_bureau": (get(clients["bench-bureau"], "/desk/inbox/"), list(range(SAMPLES + 2))),
        "unit_inbox_street_office": (get(clients["bench-office"], "/desk/inbox/"), list(range(SAMPLES + 2))),
        "dispatcher_queue": (get(clients["bench-dispatcher"], "/desk/dispatch/"), list(range(SAMPLES + 2))),
        # The pane's possible duplicates, which htmx asks for after the page (the queue's first order).
        "dispatcher_duplicates": (get(clients["bench-dispatcher"], "/desk/dispatch/{}/duplicates/"),
                                  [first_in_queue] * (SAMPLES + 2)),
        "caller_history": (get(clients["bench-calltaker"], "/desk/intake/history/", phone=...), phones),
        "caller_history_query": (lambda p: selectors.caller_history(calltaker, p), phones),
        "unit_inbox_query": (lambda _a: list(inbox_rows(bureau)[:201]), list(range(SAMPLES + 2))),
        "dispatcher_queue_query": (lambda _a: queue_head(dispatcher), list(range(SAMPLES + 2))),
        "search_text_query": (lambda w: text_page(w), (words * 4)[: SAMPLES + 2]),
        "search_rare_words_query": (lambda w: text_page(w), (rare * 4)[: SAMPLES + 2]),
        "search_by_number": (get(clients["bench-calltaker"], "/desk/orders/", q=...), numbers),
        "search_by_text": (get(clients["bench-calltaker"], "/desk/orders/", q=...), (words * 4)[: SAMPLES + 2]),
        "search_rare_words": (get(clients["bench-calltaker"], "/desk/orders/", q=...), (rare * 4)[: SAMPLES + 2]),
        "api_list_newest": (get(api, "/api/v1/orders", offset=...), [0, 50, 100] * 11),
        "api_list_state": (get(api, "/api/v1/orders", state=...), ["received", "accepted", "callback_due"] * 11),
        "api_list_phone": (get(api, "/api/v1/orders", phone=...), phones),
        "api_list_text": (get(api, "/api/v1/orders", q=...), (words * 4)[: SAMPLES + 2]),
        "api_list_rare_words": (get(api, "/api/v1/orders", q=...), (rare * 4)[: SAMPLES + 2]),
    }
    if ONLY:
        checks = {k: v for k, v in checks.items() if k == "baseline_pk_fetch" or k in ONLY}
    results: dict[str, dict] = {}
    with clock.frozen(now):
        for name, (fn, args) in checks.items():
            results[name] = _time(fn, args)
            print(f"{name:>26}: p50 {results[name]['p50']:8.2f} ms   p95 {results[name]['p95']:8.2f} ms", flush=True)
    if os.environ.get("BENCH_RANKING"):
        from unittest import mock

        from jiesu.followup import daily, periods
        from jiesu.followup.selectors import scorecard

        month = periods.Period("month", (END - dt.timedelta(days=45)).date().replace(day=1))

        def ranking(_arg) -> None:
            with clock.frozen(END):
                assert scorecard("street", month).cards

        def show(name: str) -> None:
            print(f"{name:>26}: p50 {results[name]['p50']:8.2f} ms   p95 {results[name]['p95']:8.2f} ms "
                  f"({month.key})", flush=True)

        # Counted from the orders, as before the daily roll-ups (none is read).
        with mock.patch.object(daily, "_stored", lambda days, as_of, kind: (set(), {})):
            results["month_ranking_recounted"] = _time(ranking, [0] * min(SAMPLES, 5))
        show("month_ranking_recounted")
        # What the sweep does for each of the month's days (jiesu.followup.daily.refresh), then
        # the ranking read from those rows.
        days = daily.period_days(month.start, month.end)
        spent = []
        for day in days:
            t = time.perf_counter()
            daily.refresh([day], now=END)
            spent.append((time.perf_counter() - t) * 1000)
        spent.sort()
        results["rollup_refresh_day"] = {"p50": round(statistics.median(spent), 2), "n": len(spent),
                                         "p95": round(spent[min(len(spent) - 1, round(0.95 * (len(spent) - 1)))], 2)}
        show("rollup_refresh_day")
        results["month_ranking"] = _time(ranking, [0] * SAMPLES)
        show("month_ranking")
    base = results["baseline_pk_fetch"]["p50"] or 0.01
    ratios = {k: round(v["p95"] / base, 1) for k, v in results.items() if k != "baseline_pk_fetch"}
    verdicts = {}
    for k, v in results.items():
        if k == "baseline_pk_fetch":
            continue
        target = TARGETS.get("caller_history" if k.startswith("caller_history") else k, PAGE_TARGET)
        if k in ("order_page", "api_order"):
            target = PAGE_TARGET
        verdicts[k] = {"target_p95_ms": target, "met": v["p95"] <= target,
                       "over_by": None if v["p95"] <= target else f"{v['p95'] / target:.1f}×"}
    print("\np95 against the baseline (p50 of a primary-key fetch) and the issue's targets:")
    for k, r in ratios.items():
        v = verdicts[k]
        print(f"{k:>26}: {r:8.1f} ×   target {v['target_p95_ms']:>5} ms  "
              f"{'met' if v['met'] else 'MISSED by ' + v['over_by']}")
    out = {
        "database": connection.vendor,
        "partitioned": PARTITIONED,
        "orders": size["orders"],
        "generate_s": size["generate_s"],
        "samples": SAMPLES,
        "load_average": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "results_ms": results,
        "p95_vs_baseline": ratios,
        "targets": verdicts,
    }
    only = f"-only-{'+'.join(sorted(ONLY))}" if ONLY else ""
    keep("desk_scale", f"{connection.vendor}{'-partitioned' if PARTITIONED else ''}-{size['orders']}{only}", out)


if __name__ == "__main__":
    main()
