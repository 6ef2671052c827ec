"""PostgreSQL's plans: values written into a statement where its plan depends on them
(``jiesu.ops.plans.Constant``), and the lists that use it; id lists written as ranges (``among``)."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from jiesu.ops.plans import Constant, among, runs
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


@pytest.mark.parametrize(("values", "spans"), [
    ([], []), ([5], [(5, 5)]), ([7, 1, 2, 3, 3], [(1, 3), (7, 7)]), ([4, 6, 5, 9, 10], [(4, 6), (9, 10)]),
])
def test_runs_are_the_consecutive_stretches(values, spans):
    assert runs(values) == spans


@given(st.lists(st.integers(min_value=-50, max_value=50)))
def test_runs_cover_exactly_the_values(values):
    spans = runs(values)
    assert [v for low, high in spans for v in range(low, high + 1)] == sorted(set(values))
    # stretches never touch: a gap of at least one between them
    assert all(b[0] > a[1] + 1 for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.django_db
def test_among_finds_what_an_in_list_finds(city, new_order):
    from jiesu.org.models import Area

    orders = [new_order(area_code=code) for code in ("110105001", "110105", "110108001", "110108", None)]
    ids = sorted(Area.objects.values_list("id", flat=True))
    for chosen in (ids, ids[::2], ids[:3] + ids[-2:], [], [orders[0].area_id]):
        want = set(WorkOrder.objects.filter(area_id__in=chosen).values_list("pk", flat=True))
        got = set(WorkOrder.objects.filter(among("area_id", chosen)).values_list("pk", flat=True))
        assert got == want
    # consecutive ids become one range in the statement, not a list
    sql = str(WorkOrder.objects.filter(among("area_id", ids[:50])).query)
    assert '"area_id" >= ' in sql and '"area_id" <= ' in sql and " IN " not in sql
