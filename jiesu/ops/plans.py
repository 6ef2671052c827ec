"""PostgreSQL's plan cache, per transaction.

Jiesu's connections leave ``plan_cache_mode`` at PostgreSQL's default (``auto``): a prepared
statement is planned for its values for five calls, then keeps a generic plan if that is not
costed higher. Where a query's best plan depends on its values, the query carries them as
constants (``Constant``: the unit inbox, the orders of a state). ``generic_plans_for_this_transaction``
covers the opposite case: a transaction that should reuse plans even where ``auto`` would not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q, Value


def generic_plans_for_this_transaction(using: str = DEFAULT_DB_ALIAS) -> None:
    """Plan this transaction's statements once, not for each call's values
    (``SET LOCAL plan_cache_mode = force_generic_plan``; it ends with the transaction). No-op
    outside PostgreSQL.

    Why: each foreign-key check PostgreSQL runs at COMMIT is a saved statement, and on orders
    partitioned by month ``auto`` never settles on its generic plan (that plan is costed as
    probing every partition; pruning happens when it runs), so each check was planned again:
    62-73 us a key instead of 18, ~10 keys an order (docs/benchmarks.md, "Session 8: 10M orders
    partitioned"). For a batch of orders, whose statements are keyed by ids, a generic plan is as
    good as a custom one. Must be called inside ``transaction.atomic()``."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")


class Constant(Value):
    """A value written into the statement instead of bound as a parameter, so that PostgreSQL
    plans the statement for it: ``filter(state=Constant("received"))``. Where a query's best
    plan depends on a value (how busy a unit is, how rare a state is in each month), a generic
    plan, which PostgreSQL may keep for a prepared statement after five calls, does not know it.
    Only integers and code-like strings (letters, digits, ``_``, ``-``) are accepted, so nothing
    written this way needs quoting beyond the quotes around it."""

    _CODE = re.compile(r"[A-Za-z0-9_\-]{1,64}")

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[()]]:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"Constant takes an int or a code, not {type(value).__name__}")
        if isinstance(value, int):
            return str(int(value)), ()
        if not self._CODE.fullmatch(value):
            raise ValueError(f"not a code: {value!r}")
        return f"'{value}'", ()


def runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """The distinct ``values`` as ranges of consecutive integers, lowest first:
    ``[7, 1, 2, 3, 3]`` → ``[(1, 3), (7, 7)]``."""
    out: list[tuple[int, int]] = []
    for value in sorted(set(values)):
        if out and value == out[-1][1] + 1:
            out[-1] = (out[-1][0], value)
        else:
            out.append((value, value))
    return out


def among(field: str, values: Iterable[int]) -> Q:
    """``field IN (values)``, written as one range (``>=`` and ``<=``) per run of consecutive
    values (``runs``).

    Why: a district's areas are hundreds of ids, mostly consecutive (a gazetteer is loaded a
    district at a time). As an ``IN`` list PostgreSQL estimates each element against each month's
    partition of the orders when it plans: 9–18 ms of planning for a 4–7 ms query at 300,000
    orders in 17 partitions, against 2–3 ms as one range (docs/benchmarks.md, session 11). The
    rows are the same. No values: matches nothing."""
    spans = runs(values)
    if not spans:
        return Q(**{f"{field}__in": []})
    cond = Q()
    for low, high in spans:
        # gte and lte: a foreign key has no ``range`` lookup
        cond |= Q(**{field: low}) if low == high else Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return cond
