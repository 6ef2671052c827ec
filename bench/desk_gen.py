"""Generate millions of orders for ``bench.desk_scale``, fast: the demo city, then orders with their
requesters, assignments, events and search words written straight into the tables (PostgreSQL
``COPY``; SQLite ``executemany``), never through the services (10 million orders would take days
that way).

Realistic shape, not realistic prose: the texts are drawn from a pool made by the demo's own
text generator (jiesu.demo.texts), a few dozen per street, so that words such as 路灯 or 噪音
match as many orders as in the demo city. Orders arrive day by day over ``BENCH_MONTHS`` months
(fewer at weekends), to streets with Pareto loads; old orders are nearly all closed, the last
weeks hold the open work (the queues and inboxes); callers repeat with a skewed distribution, so
a few phones have hundreds of orders (the caller-history worst case).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
from importlib import resources

MONTHS = int(os.environ.get("BENCH_MONTHS", "12"))
SEED = int(os.environ.get("BENCH_SEED", "8"))
END = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)  # the generated orders end here
TEXTS_PER_STREET = 40
FLUSH = 50_000
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


class Writer:
    """Rows of one table, flushed in batches: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany``
    on SQLite. Rows are tuples in the order of ``columns``."""

    def __init__(self, table: str, columns: list[str]) -> None:
        from django.db import connection

        self.connection = connection
        self.table, self.columns = table, columns
        self.rows: list[tuple] = []
        self.count = 0
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in columns)
        # Table and column names are this module's constants; the values are parameters / COPY data.
        self.insert = f"INSERT INTO {qn(table)} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        self.copy = f"COPY {qn(table)} ({cols}) FROM STDIN"
        self.sqlite = connection.vendor == "sqlite"

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.sqlite:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.insert, self.rows)
        else:
            self.connection.ensure_connection()
            with self.connection.connection.cursor() as cursor, cursor.copy(self.copy) as copy:
                for row in self.rows:
                    copy.write_row(row)
        self.count += len(self.rows)
        self.rows = []


def _stamp(sqlite: bool):
    """Datetimes as each backend stores them (SQLite: naive UTC text, as Django writes it)."""
    if sqlite:
        return lambda t: None if t is None else t.replace(tzinfo=None).isoformat(sep=" ")
    return lambda t: t


def _text_pool(rng: random.Random, streets, area_ids: dict[str, int], categories: dict[str, int],
               names: dict[str, str]):
    """Per street, texts from the demo generator with their category, area and search words."""
    from jiesu.demo import phrases as P
    from jiesu.demo import texts
    from jiesu.search.tokens import document

    leaves = sorted(k for k in P.PROBLEMS if k in categories)
    pool = []
    for s in streets:
        mine = []
        for _ in range(TEXTS_PER_STREET):
            leaf = rng.choice(leaves)
            rtype = "complaint" if rng.random() < 0.6 else "help" if rng.random() < 0.7 else "report"
            caller = texts.make_caller(rng)
            place = texts.place_for(rng, s)
            content = texts.problem_text(rng, leaf=leaf, request_type=rtype, caller=caller, place=place, street=s)
            title = texts.title_for(request_type=rtype, leaf_name=names[leaf], street=s)
            mine.append((rtype, title, content, place.address, area_ids.get(place.area_code, area_ids[s.code]),
                         categories[leaf], document(title, content, place.address)))
        pool.append(mine)
    return pool


def generate(n: int, copies: int = 1) -> dict:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from jiesu.catalogue.models import Category
    from jiesu.demo import org
    from jiesu.integrations.exchange.importing import load_shipped
    from jiesu.ops.plans import generic_plans_for_this_transaction
    from jiesu.orders import numbering
    from jiesu.orders.models import Assignment, Event, Requester, WorkOrder
    from jiesu.org.models import Area, Unit
    from jiesu.search.models import OrderText

    copies = max(1, copies)
    # Copy k of an order has id + k and number + k (``replicate``); the originals are found as the
    # ids divisible by ``copies``, which needs copies to divide 10**6 (ids are YYYYMMDD × 10**6 + sequence).
    if 10**6 % copies:
        sys.exit(f"copies must divide 1,000,000 (ids carry the day), not {copies}")
    base = n // copies
    K = copies
    if WorkOrder.objects.exists():
        sys.exit("The database already has orders: give the benchmark an empty, dedicated database.")
    started = time.perf_counter()
    rng = random.Random(SEED)
    with transaction.atomic():
        load_shipped(kind="categories", filename="categories.csv",
                     data=resources.files("jiesu.demo").joinpath("data/categories.csv").read_bytes())
        streets = org.load_areas()
        org.build_units(streets)
    area_ids = dict(Area.objects.values_list("code", "pk"))
    unit_ids = dict(Unit.objects.values_list("code", "pk"))
    categories = dict(Category.objects.values_list("code", "pk"))
    bureaus = sorted(pk for code, pk in unit_ids.items() if code.startswith(("CB-", "UT-")))
    bureau_weights = [rng.paretovariate(1.0) for _ in bureaus]
    names = dict(Category.objects.values_list("code", "name"))
    pool = _text_pool(rng, streets, area_ids, categories, names)
    offices = [unit_ids[f"SO{s.code}"] for s in streets]
    street_weights = [rng.paretovariate(1.2) for _ in streets]
    print(f"  text pool: {sum(len(p) for p in pool):,} texts in {time.perf_counter() - started:.1f} s", flush=True)

    sqlite = connection.vendor == "sqlite"
    ts = _stamp(sqlite)
    orders = Writer(WorkOrder._meta.db_table, [
        "id", "number", "state", "request_type", "channel", "urgency", "title", "content", "address", "area_id",
        "category_id", "is_confidential", "received_at", "triage_due_at", "due_at", "closed_at", "updated_at",
        "answer", "outcome", "referred_to", "callback_attempts", "solved", "resolution", "satisfaction",
        "reopen_count"])
    requesters = Writer(Requester._meta.db_table, ["order_id", "name", "phone", "email", "is_primary",
                                                   "wants_confidential", "created_at"])
    assignments = Writer(Assignment._meta.db_table, [
        "id", "order_id", "unit_id", "role", "state", "dispatched_at", "return_due_at", "contact_due_at", "due_at",
        "original_due_at", "accepted_at", "contacted_at", "replied_at", "returned_at", "return_reason", "extended"])
    events = Writer(Event._meta.db_table, ["order_id", "code", "at", "from_state", "to_state", "reason", "data"])
    words = Writer(OrderText._meta.db_table, ["order_id", "words"])
    callers = max(base // 3, 1)
    days = round(MONTHS * 30.44)
    start = END - days * D
    # Weekdays carry more calls than weekends (Beijing's hotline: roughly 1.2 : 0.6).
    day_weights = [0.6 if (start + i * D).weekday() >= 5 else 1.2 for i in range(days)]
    per_day = [round(base * w / sum(day_weights)) for w in day_weights]
    per_day[-1] += base - sum(per_day)
    oid = aid = 0
    seqs: dict[str, int] = {}  # order numbers count per day in Beijing
    empty = json.dumps({})
    with transaction.atomic():
        # Every row written here is checked against its foreign keys at COMMIT (Django's are
        # deferred): ~10 checks an order, 100M at 10M orders, each planned again on partitioned
        # orders unless the transaction reuses plans (jiesu.ops.plans; session 8: the commit
        # alone would have taken ~2 hours).
        generic_plans_for_this_transaction()
        for d in range(days):
            day0 = start + d * D
            seconds = sorted(rng.random() * 86400 for _ in range(per_day[d]))
            for sec in seconds:
                oid += 1
                received = day0 + dt.timedelta(seconds=sec)
                age = (END - received) / D
                local = received + 8 * H
                day = f"{local:%Y%m%d}"
                seqs[day] = seqs.get(day, 0) + 1
                number = f"{day}{seqs[day] * K:06d}"
                order_id = numbering.id_of(number)  # an order's id is its number
                si = _pick(rng, street_weights)
                rtype, title, content, address, area_id, category_id, doc = rng.choice(pool[si])
                state = _state(rng, age)
                handled = state in ("dispatched", "accepted", "replied", "callback_due", "closed", "reopened",
                                    "returned") and not (state == "closed" and rng.random() < 0.1)
                due = received + 7 * D
                o_due = None
                closed = received + rng.uniform(3, 12) * D if state in ("closed", "answered", "referred",
                                                                     "declined", "merged") else None
                sat = res = ""
                solved = None
                events.add((order_id, "created", ts(received), "", "received", "", empty))
                if handled:
                    t = received + rng.uniform(0.1, 2) * H
                    lead = offices[si] if rng.random() < 0.65 else bureaus[_pick(rng, bureau_weights)]
                    a_state = {"dispatched": "dispatched", "accepted": "accepted", "reopened": "accepted",
                               "returned": "returned"}.get(state, "replied")
                    extended = rng.random() < 0.05
                    a_due = due + (3 * D if extended else dt.timedelta(0))
                    accepted = t + rng.uniform(0.1, 3) * H if a_state != "dispatched" else None
                    contacted = (t + rng.uniform(1, 30) * H) if a_state in ("accepted", "replied") else None
                    replied = t + rng.uniform(1, 6.5) * D if a_state == "replied" else None
                    aid += 1
                    assignments.add((aid * K, order_id, lead, "lead", a_state, ts(t), ts(t + 2 * H), ts(t + 24 * H),
                                     ts(a_due), ts(due), ts(accepted), ts(contacted), ts(replied),
                                     ts(t + H) if a_state == "returned" else None,
                                     "不属于本单位职责。" if a_state == "returned" else "", extended))
                    if rng.random() < 0.15:
                        aid += 1
                        co_state = "replied" if a_state == "replied" else "accepted" if accepted else "dispatched"
                        assignments.add((aid * K, order_id, bureaus[_pick(rng, bureau_weights)], "co", co_state, ts(t),
                                         ts(t + 2 * H), ts(t + 24 * H), ts(due), ts(due), ts(accepted),
                                         ts(contacted), ts(replied), None, "", False))
                    o_due = a_due
                    events.add((order_id, "dispatched", ts(t), "received", "dispatched", "", empty))
                    if accepted:
                        events.add((order_id, "accepted", ts(accepted), "dispatched", "accepted", "", empty))
                    if replied:
                        events.add((order_id, "replied", ts(replied), "accepted", "replied", "", empty))
                    if state in ("closed", "reopened"):
                        s = rng.random()
                        sat = "satisfied" if s < 0.7 else "basic" if s < 0.9 else "unsatisfied"
                        v = rng.random()
                        res = "solved" if v < 0.8 else "partly" if v < 0.9 else "unsolved"
                        solved = res == "solved"
                if closed:
                    events.add((order_id, "closed", ts(closed), "", "closed", "", empty))
                orders.add((order_id, number, state, rtype, "hotline" if rng.random() < 0.8 else "web", "normal", title,
                            content, address, area_id, category_id, rtype == "report", ts(received),
                            ts(received + 2 * H), ts(o_due), ts(closed), ts(closed or received),
                            "已当场解答。" if state == "answered" else "", "", "", 1 if sat else 0, solved, res, sat,
                            1 if state == "reopened" else 0))
                caller = int(callers * rng.random() ** 1.5)
                requesters.add((order_id, "", f"13{caller * K:09d}", "", True, False, ts(received)))
                words.add((order_id, doc))
            if oid and d % 30 == 29:
                print(f"  {oid:,} orders …", flush=True)
        for w in (orders, requesters, assignments, events, words):
            w.flush()
        for k in range(1, K):
            replicate(k, K, sqlite)
            print(f"  copy {k} of {K - 1} …", flush=True)
    with connection.cursor() as cursor:
        if not sqlite:
            for sql in connection.ops.sequence_reset_sql(no_style(), [WorkOrder, Assignment, Requester, Event]):
                cursor.execute(sql)
            if K > 1:
                # Years of intake write a PostgreSQL table in time order; the copies above were
                # appended one after another, which leaves a month's orders spread over the whole
                # table (correlation of received_at 0.09 at 10M) and makes every range read random.
                # Put the rows in id (= time) order, as real intake would have. SQLite tables are
                # kept in rowid order anyway.
                # Assignments are made minutes after their order: in order-id order, which is
                # how a period's assignments are read (by order id, jiesu.followup.metrics).
                for table, index in (("orders_workorder", "orders_workorder_pkey"),
                                     ("orders_assignment", "assignment_scorecard_idx"),
                                     ("search_ordertext", "search_ordertext_pkey")):
                    cursor.execute(f"CLUSTER {table} USING {index}")
    with connection.cursor() as cursor:
        if not sqlite:
            # A live database is vacuumed by autovacuum; without it no page is all-visible and
            # PostgreSQL cannot use index-only scans (the scorecards' covering index).
            for table in ("orders_workorder", "orders_assignment", "orders_requester", "search_ordertext"):
                cursor.execute(f"VACUUM {table}")
        cursor.execute("ANALYZE")
        if sqlite:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"orders": orders.count * K, "assignments": assignments.count * K, "requesters": requesters.count * K,
            "events": events.count * K, "copies": K, "generate_s": round(time.perf_counter() - started, 1)}


def replicate(k: int, copies: int, sqlite: bool) -> None:
    """Copy ``k`` of the generated orders, made by the database itself (INSERT … SELECT): the
    Python generator writes ids, assignment ids, per-day sequence numbers and caller numbers as
    multiples of ``copies``, and copy ``k`` adds ``k`` to each. Ids stay in time order, numbers
    stay unique per day and in order, and each copy has its own callers, so the per-phone load
    is that of the generated orders (a bigger city has more callers, not busier ones)."""
    from django.db import connection

    if sqlite:
        number = f"substr(number, 1, 8) || printf('%06d', CAST(substr(number, 9) AS INTEGER) + {k})"
        phone = f"'13' || printf('%09d', CAST(substr(phone, 3) AS INTEGER) + {k})"
    else:
        number = f"left(number, 8) || lpad((right(number, 6)::int + {k})::text, 6, '0')"
        phone = f"'13' || lpad((substr(phone, 3)::bigint + {k})::text, 9, '0')"
    o = ("id, number, state, request_type, channel, urgency, title, content, address, area_id, category_id, "
         "is_confidential, received_at, triage_due_at, due_at, closed_at, updated_at, answer, outcome, referred_to, "
         "callback_attempts, solved, resolution, satisfaction, reopen_count")
    o_sel = o.replace("id, number,", f"id + {k}, {number},", 1)
    a = ("id, order_id, unit_id, role, state, dispatched_at, return_due_at, contact_due_at, due_at, original_due_at, "
         "accepted_at, contacted_at, replied_at, returned_at, return_reason, extended")
    a_sel = a.replace("id, order_id,", f"id + {k}, order_id + {k},", 1)
    # Only the original rows (ids that are multiples of ``copies``) are copied. The SQL holds
    # integers and this module's constants only.
    statements = [
        f"INSERT INTO orders_workorder ({o}) SELECT {o_sel} FROM orders_workorder WHERE id % {copies} = 0",  # noqa: S608
        f"INSERT INTO orders_assignment ({a}) SELECT {a_sel} FROM orders_assignment WHERE id % {copies} = 0",  # noqa: S608
        "INSERT INTO orders_requester (order_id, name, phone, email, is_primary, wants_confidential, created_at) "  # noqa: S608
        f"SELECT order_id + {k}, name, {phone}, email, is_primary, wants_confidential, created_at FROM orders_requester "
        f"WHERE order_id % {copies} = 0",
        "INSERT INTO orders_event (order_id, code, at, from_state, to_state, reason, data) "  # noqa: S608
        f"SELECT order_id + {k}, code, at, from_state, to_state, reason, data FROM orders_event "
        f"WHERE order_id % {copies} = 0",
        f"INSERT INTO search_ordertext (order_id, words) SELECT order_id + {k}, words FROM search_ordertext "  # noqa: S608
        f"WHERE order_id % {copies} = 0",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _pick(rng: random.Random, weights: list[float], _cache: dict = {}) -> int:  # noqa: B006
    """A weighted choice by bisection over cumulative weights (computed once per list)."""
    import bisect

    cum = _cache.get(id(weights))
    if cum is None:
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        _cache[id(weights)] = cum
    return min(bisect.bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def _state(rng: random.Random, age_days: float) -> str:
    """Where an order of this age stands: old ones are nearly all closed; open work is recent."""
    r = rng.random()
    if age_days < 1:
        table = (("received", 0.25), ("dispatched", 0.55), ("accepted", 0.8), ("answered", 0.95), ("referred", 1))
    elif age_days < 15:
        table = (("accepted", 0.45), ("replied", 0.5), ("callback_due", 0.6), ("closed", 0.85), ("answered", 0.95),
                 ("returned", 0.955), ("declined", 0.97), ("referred", 1))
    else:
        table = (("closed", 0.86), ("answered", 0.94), ("referred", 0.96), ("declined", 0.97), ("merged", 0.98),
                 ("accepted", 0.99), ("reopened", 0.995), ("callback_due", 1))
    for state, upto in table:
        if r < upto:
            return state
    return table[-1][0]
