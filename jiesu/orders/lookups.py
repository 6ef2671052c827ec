"""A lookup by order number that finds the order's month (PostgreSQL partitions by id).

``number = '20260916000710'`` alone is looked up in every month's partition of the orders: the
number is not the partition key, so PostgreSQL probes each month's index on it (17 of them in
the 10M benchmark) and plans for each. A numbered order's id is its number read as an integer
(``jiesu.orders.numbering``), so the lookup also says ``id = 20260916000710``, which prunes the
search to that month when the statement is planned. Orders stored before ids carried their
numbers keep small ids whatever their number says, hence ``OR id < FIRST_NUMBERED_ID`` (they
live in the default partition): the rows found are exactly those of ``number = …``.

Registered on ``WorkOrder.number`` itself, so that every ``filter(number=…)`` and
``filter(order__number=…)`` of the code base gets it.
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import Col
from django.db.models.lookups import Exact

from jiesu.orders import numbering


class NumberExact(Exact):
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().as_sql(compiler, connection)
        number, lhs = self.rhs, self.lhs
        if not isinstance(number, str) or not isinstance(lhs, Col):
            return sql, params
        try:
            order_id = numbering.id_of(number)
        except ValueError:
            return sql, params  # not a number's shape: nothing to add (and nothing will match)
        pk_sql, pk_params = compiler.compile(Col(lhs.alias, lhs.target.model._meta.pk))
        return (f"({sql} AND ({pk_sql} = %s OR {pk_sql} < %s))",
                [*params, *pk_params, order_id, *pk_params, numbering.FIRST_NUMBERED_ID])
