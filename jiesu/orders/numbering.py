"""Order numbers and order ids: one value, two forms (pure rules, no Django).

A number is ``YYYYMMDD`` (the Beijing day it was given) + a 6-digit sequence of that day
(``jiesu.orders.actions.intake.next_number``). An order's id is its number read as an integer:
20261128000042 for 20261128000042. Why the id carries the day:

- PostgreSQL can then partition the orders by month on ``id`` itself (``jiesu partition``,
  docs/scaling.md): a month is the id range ``[YYYYMM01000000, next month's)``. A lookup by id
  (a primary-key fetch, the join from an assignment, an event or the search index) prunes to
  one partition, the primary key stays ``id`` and every foreign key into orders stays.
  Partitions by ``received_at`` had to drop those keys and made every by-id lookup probe every
  month (17 ms instead of under 1 ms at 1M orders, docs/benchmarks.md).
- Ids still grow with time (day first, then the day's sequence), which the lists' "newest first"
  and the search windows rely on; they are sparse between days instead of dense.

Orders stored before ids carried their numbers keep their small ids ("legacy" ids below
``FIRST_NUMBERED_ID``); nothing here assumes that every id is a number.
"""

from __future__ import annotations

import datetime as dt
import math

SEQUENCE_DIGITS = 6
DAY_FACTOR = 10**SEQUENCE_DIGITS
# The first id a number can give (1 Jan 2000, sequence 0): anything below is a legacy id.
FIRST_NUMBERED_ID = 20000101 * DAY_FACTOR


def format_number(day: dt.date, sequence: int) -> str:
    if not 0 < sequence < DAY_FACTOR:
        raise ValueError(f"sequence {sequence} outside 1..{DAY_FACTOR - 1}")
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def id_of(number: str) -> int:
    """The id of the order with this number. Raises ValueError for anything but 14 digits."""
    if len(number) != 8 + SEQUENCE_DIGITS or not number.isascii() or not number.isdigit():
        raise ValueError(f"not an order number: {number!r}")
    return int(number)


def is_numbered(order_id: int) -> bool:
    return order_id >= FIRST_NUMBERED_ID


def day_of(order_id: int) -> dt.date:
    """The Beijing day of a numbered id (ValueError for a legacy id)."""
    if not is_numbered(order_id):
        raise ValueError(f"legacy id {order_id} carries no day")
    day = order_id // DAY_FACTOR
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def first_id(day: dt.date) -> int:
    """The lowest id a number of ``day`` can have (sequence 0 is never given): partitions and
    windows start here."""
    return int(f"{day:%Y%m%d}") * DAY_FACTOR


def window_floor(*, newest: int, oldest: int, rows: float, width: float) -> int | None:
    """An id below which about ``width`` of the newest of ``rows`` orders lie, ids from
    ``oldest`` to ``newest``; None when the window would hold every order (or cannot be told).

    Dense legacy ids: ``newest - width``. Numbered ids are sparse between days, so the width
    becomes days at the average orders per day of the span: the window starts at the first id of
    the day that many days before the newest one. Mixed (legacy and numbered) spans have no
    meaningful average: None, every order."""
    if rows <= 0 or width >= rows or newest <= 0:
        return None
    if not is_numbered(newest):
        floor = newest - math.ceil(width)
        return floor if floor > oldest else None
    if not is_numbered(oldest):
        return None
    last, first = day_of(newest), day_of(oldest)
    days = (last - first).days + 1
    back = math.ceil(width * days / rows)
    if back >= days:
        return None
    return first_id(last - dt.timedelta(days=back))
