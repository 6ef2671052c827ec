"""PostgreSQL's plan cache, per transaction.

Jiesu's connections leave ``plan_cache_mode`` at PostgreSQL's default (``auto``): a prepared
statement is planned for its values for five calls, then keeps a generic plan if that is not
costed higher. Where a query's best plan depends on its values, the query carries them as
constants (``Constant``: the unit inbox, the orders of a state). ``generic_plans_for_this_transaction``
covers the opposite case: a transaction that should reuse plans even where ``auto`` would not.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Value


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
