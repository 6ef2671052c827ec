"""PostgreSQL's plans: values written into a statement where its plan depends on them
(``jiesu.ops.plans.Constant``), and the lists that use it."""

from __future__ import annotations

import pytest
from django.db import connection

from jiesu.ops.plans import Constant
from jiesu.orders import selectors
from jiesu.orders.models import WorkOrder


@pytest.mark.parametrize(("value", "sql"), [(42, "42"), ("callback_due", "'callback_due'"), ("SLT-2", "'SLT-2'")])
def test_a_constant_is_written_into_the_statement(value, sql):
    assert Constant(value).as_sql(None, connection) == (sql, ())


@pytest.mark.parametrize("value", ["x'; DROP TABLE t; --", "街道", "", "a b", 1.5, True, None, "x" * 65])
def test_a_constant_refuses_anything_but_an_int_or_a_code(value):
    with pytest.raises((TypeError, ValueError)):
        Constant(value).as_sql(None, connection)


@pytest.mark.django_db
def test_the_orders_of_a_state_are_listed_with_the_state_written_in(city, new_order):
    received = new_order()
    other = new_order()
    WorkOrder.objects.filter(pk=other.pk).update(state="accepted")
    actor = city.actor("dispatcher")
    qs = selectors.order_list(actor, selectors.OrderFilter(state="received"))
    sql, params = qs.query.sql_with_params()
    assert "\"state\" = 'received'" in sql and "received" not in params
    assert list(qs.values_list("pk", flat=True)) == [received.pk]
    # Anything but a known state is bound as a parameter (and finds nothing).
    odd = selectors.order_list(actor, selectors.OrderFilter(state="x'; --"))
    assert "x'; --" in odd.query.sql_with_params()[1] and not odd.exists()
