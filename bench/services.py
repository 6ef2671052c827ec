"""Legal-service bookings, against a baseline measured in the same run.

- baseline: a bare ORM insert of one booking row and its event, in a transaction;
- book: `jiesu.services.actions.book` (validation, the point's row lock, the pool's capacity
  check over the day's live bookings, a code, the event, the confirmation message);
- slots: the free slots of a busy day (`selectors.free_slots`, every place of a 7-window will
  week day with half of them taken).

Prints per-operation times and ratios and keeps them in `bench/results/services.json`.
Runs on a fresh SQLite database in a temporary directory (or `JIESU_DATABASE_URL`).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

N = int(os.environ.get("BENCH_N", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main() -> None:
    from bench.report import fresh_django

    fresh_django()
    from django.db import connection, transaction

    from bench.report import keep, print_figures
    from jiesu import clock
    from jiesu.accounts.policy import Actor
    from jiesu.deadlines.calendar import SHANGHAI
    from jiesu.services import actions, selectors
    from jiesu.services.models import Booking, BookingEvent, OpeningRule, Window
    from tests.conftest import build_city
    from tests.services_kit import build_services

    with transaction.atomic():
        svc = build_services(build_city())
        # Every day of the year, 07:00–22:00, 20 windows: room for every booking of the run.
        big = OpeningRule.objects.create(point=svc.notary, label="bench", weekdays=list(range(7)),
                                         opens=dt.time(7), closes=dt.time(22), holidays_closed=False)
        big.windows.set([Window.objects.create(point=svc.notary, name=f"B{i}") for i in range(20)])
    public = Actor(user_id=None, is_admin=False, username="anonymous")
    now = dt.datetime(2026, 12, 1, 6, tzinfo=SHANGHAI)
    slots = iter(now + dt.timedelta(days=d, hours=1 + h, minutes=30 * m)
                 for d in range(1, 50) for h in range(15) for m in range(2) for _w in range(20))
    seq = iter(range(10**9))

    def baseline() -> None:
        start = next(slots)
        with transaction.atomic():
            b = Booking.objects.create(code=f"B{next(seq):08d}", point=svc.notary, matter=svc.authorisation,
                                       rule=big, window_id=big.windows.values_list("pk", flat=True)[0],
                                       start=start, end=start + dt.timedelta(minutes=30), name="王五",
                                       phone="13812345678", created_at=now)
            BookingEvent.objects.create(booking=b, code="booked", at=now)

    def book() -> None:
        actions.book(actor=public, point_id=svc.notary.pk, matter_id=svc.authorisation.pk, start=next(slots),
                     name="王五", phone=f"139{next(seq):08d}")

    point = selectors.points().get(pk=svc.notary.pk)
    busy = dt.date(2026, 12, 15)

    def listing() -> None:
        selectors.free_slots(point, svc.authorisation, busy)

    def measure(fn, n: int) -> float:
        runs = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(n):
                fn()
            runs.append((time.perf_counter() - started) / n)
        return statistics.median(runs)

    with clock.frozen(now):
        base = measure(baseline, N)
        booking = measure(book, N)
        slots = iter(dt.datetime.combine(busy, dt.time(7), tzinfo=SHANGHAI) + dt.timedelta(minutes=30 * (i // 10))
                     for i in range(300))
        for _ in range(150):  # half the day's 20-window places taken
            book()
        listed = measure(listing, max(N // 4, 20))
    results = {"baseline_insert_ms": base * 1000, "book_ms": booking * 1000, "busy_day_slots_ms": listed * 1000}
    ratios = {"book_vs_baseline": booking / base}
    print_figures(results, ratios)
    keep("services", connection.vendor, {"n": N, "rounds": ROUNDS, "results_ms": results, "ratios": ratios})


if __name__ == "__main__":
    main()
