"""Monthly partitions of orders and events on PostgreSQL (jiesu.ops.partitioning): the layout is
made inside the test's transaction (PostgreSQL rolls DDL back with it), then orders go through
the real services in several months and are read back across them. SQLite keeps plain tables."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from jiesu import clock
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.followup import periods
from jiesu.followup.selectors import scorecard
from jiesu.ops import partitioning
from jiesu.orders import actions, selectors
from jiesu.orders.models import Event, Satisfaction, WorkOrder
from jiesu.search.selectors import search_orders
from tests.conftest import at
from tests.dispatch_helpers import triage_world  # noqa: F401 - a fixture

PG = connection.vendor == "postgresql"

# --- pure rules ---------------------------------------------------------------------------------


def test_month_bounds_cross_the_year():
    assert partitioning.month_starts(dt.date(2025, 11, 17), 3) == [
        dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    names = [b.name for b in partitioning.monthly("orders_event", dt.date(2025, 12, 1), 2)]
    assert names == ["orders_event_p202512", "orders_event_p202601"]


def test_unique_indexes_without_the_key_become_plain():
    d = "CREATE UNIQUE INDEX orders_workorder_number_key ON public.orders_workorder USING btree (number)"
    assert partitioning.non_unique(d) == d.replace("UNIQUE ", "")


# --- on the database ----------------------------------------------------------------------------


def test_sqlite_is_left_alone(db):
    if PG:
        assert not partitioning.is_partitioned("orders_workorder")  # only when asked for
        return
    assert not partitioning.is_partitioned("orders_workorder")
    with pytest.raises(partitioning.PartitioningError):
        partitioning.partition_orders_and_events(first=dt.date(2026, 1, 1), months=3)
    with pytest.raises(CommandError):
        call_command("partition", "--first", "2026-01", "--months", "3")


def _where(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        # The table name is one of two constants.
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _close(city, number: str) -> None:
    a = city.actor
    actions.dispatch_order(actor=a("dispatcher"), number=number, lead_unit="SLT")
    actions.accept_assignment(actor=a("handler"), number=number)
    actions.reply_to_order(actor=a("handler"), number=number, body="已修复。", outcome="solved")
    actions.open_callback(actor=a("supervisor"), number=number)
    actions.record_callback(actor=a("supervisor"), number=number, reached=True, solved=True,
                            satisfaction=Satisfaction.SATISFIED)


@pytest.mark.skipif(not PG, reason="PostgreSQL only; test_sqlite_is_left_alone covers SQLite")
def test_partitioned_orders_and_events_across_months(city, new_order):
    call_command("partition", "--first", "2026-01", "--months", "3")
    assert partitioning.is_partitioned("orders_workorder") and partitioning.is_partitioned("orders_event")
    assert partitioning.partitions("orders_workorder") == [
        "orders_workorder_default", "orders_workorder_p202601", "orders_workorder_p202602",
        "orders_workorder_p202603"]

    made = {}
    for month in ("2026-01-15", "2026-02-15", "2026-03-15", "2026-07-15"):
        with clock.frozen(at(f"{month} 10:00")):
            made[month] = new_order(content=f"{month} 小区路灯不亮")
            _close(city, made[month].number)
    # Each order and its events sit in their month's partition; July (not made) in the default.
    assert _where("orders_workorder", made["2026-01-15"].pk) == "orders_workorder_p202601"
    assert _where("orders_workorder", made["2026-03-15"].pk) == "orders_workorder_p202603"
    assert _where("orders_workorder", made["2026-07-15"].pk) == "orders_workorder_default"
    feb_events = Event.objects.filter(order=made["2026-02-15"]).values_list("id", flat=True)
    assert len(feb_events) >= 5
    assert {_where("orders_event", pk) for pk in feb_events} == {"orders_event_p202602"}

    # Reads across months work unchanged: lists, detail with history, search, scorecards.
    admin = city.actor("admin")
    everything = selectors.order_list(admin)
    assert [o.number for o in everything] == [made[m].number for m in sorted(made, reverse=True)]
    spring = selectors.order_list(admin, selectors.OrderFilter(
        received_from=at("2026-02-01 00:00"), received_to=at("2026-04-01 00:00")))
    assert {o.number for o in spring} == {made["2026-02-15"].number, made["2026-03-15"].number}
    detail = selectors.order_detail(admin, made["2026-01-15"].number)
    assert detail.state == "closed" and [e.code for e in detail.events.all()][:2] == ["created", "dispatched"]
    assert search_orders(admin, "路灯").count() == 4
    with clock.frozen(at("2026-04-10 10:00")):
        card = scorecard("street", periods.Period("month", dt.date(2026, 2, 1)))
    assert sum(c.counts.orders for c in card.cards) == 1

    # An order is read by id from its month's partition alone (its id is its number), and a
    # month's events from theirs (pruning).
    def plan(sql: str, params: list) -> str:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(r[0] for r in cursor.fetchall())

    feb = made["2026-02-15"]
    assert str(feb.pk) == feb.number
    by_id = plan("SELECT * FROM orders_workorder WHERE id = %s", [feb.pk])
    assert "orders_workorder_p202602" in by_id
    assert not {"orders_workorder_p202601", "orders_workorder_p202603", "orders_workorder_default"} & set(
        by_id.replace("(", " ").split())
    month = plan("SELECT count(*) FROM orders_event WHERE at >= %s AND at < %s",
                 [at("2026-02-01 00:00"), at("2026-03-01 00:00")])
    assert "orders_event_p202602" in month and "orders_event_p202601" not in month

    # The foreign keys into orders stay: a child row of a missing order is refused.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE confrelid = 'orders_workorder'::regclass "
                       "AND contype = 'f'")
        assert cursor.fetchone()[0] > 5  # assignments, requesters, events, the merge link …
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'orders_workorder'::regclass AND contype = 'p'")
        assert cursor.fetchall() == [("orders_workorder_pkey", "PRIMARY KEY (id)")]
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(order_id=20260215999999, code="created", at=at("2026-02-15 10:00"))
        connection.check_constraints()  # they are deferred to the commit

    # Next months can be added ahead; an order then lands there, not in the default partition.
    assert partitioning.add_months("orders_workorder", dt.date(2026, 4, 1), 2) == [
        "orders_workorder_p202604", "orders_workorder_p202605"]
    with clock.frozen(at("2026-05-03 10:00")):
        may = new_order(content="五月的噪音问题")
    assert _where("orders_workorder", may.pk) == "orders_workorder_p202605"
    assert WorkOrder.objects.count() == 5


@pytest.mark.skipif(not PG, reason="PostgreSQL only; test_sqlite_is_left_alone covers SQLite")
def test_events_alone_keep_the_order_keys(city, new_order):
    call_command("partition", "--first", "2026-01", "--months", "2", "--events-only")
    assert partitioning.is_partitioned("orders_event") and not partitioning.is_partitioned("orders_workorder")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE confrelid = 'orders_workorder'::regclass "
                       "AND contype = 'f'")
        assert cursor.fetchone()[0] > 5  # assignments, requesters, events … still point at orders
    with clock.frozen(at("2026-02-10 10:00")):
        order = new_order()
        _close(city, order.number)
    codes = list(Event.objects.filter(order=order).values_list("code", flat=True))
    assert codes[:2] == ["created", "dispatched"] and len(codes) >= 5
    assert {_where("orders_event", pk) for pk in Event.objects.filter(order=order).values_list("id", flat=True)} == {
        "orders_event_p202602"}
    call_command("partition", "--first", "2026-03", "--months", "1", "--add")
    assert "orders_event_p202603" in partitioning.partitions("orders_event")


def test_a_draft_submitted_in_a_later_month_is_listed_and_counted_by_its_received_day(city, new_order):
    """Its number (and id) is of the month it was recorded in; lists and scorecards go by
    ``received_at``: a state's list newest first (through ``order_state_received_idx`` on
    PostgreSQL), a month's and a day's counts. Why the list is not ordered by id, and why a
    ``received_at`` range gives no id range. Partitioned on PostgreSQL, plain tables on SQLite:
    the same answers."""
    from jiesu.followup import daily

    if PG:
        call_command("partition", "--first", "2026-01", "--months", "3")
    with clock.frozen(at("2026-01-31 23:50")):
        draft = new_order(draft=True, content="一月底暂存的工单：小区路灯不亮")
    with clock.frozen(at("2026-02-01 09:00")):
        early = new_order(content="二月一日：噪音扰民")
    with clock.frozen(at("2026-02-02 10:00")):
        actions.submit_order(actor=city.actor("calltaker"), number=draft.number)
    with clock.frozen(at("2026-02-02 11:00")):
        late = new_order(content="二月二日：垃圾清运")
    assert draft.number.startswith("20260131") and draft.pk < early.pk < late.pk

    admin = city.actor("admin")
    received = selectors.order_list(admin, selectors.OrderFilter(state="received"))
    assert [o.number for o in received] == [late.number, draft.number, early.number]  # by received_at
    page = selectors.order_page(admin, selectors.OrderFilter(state="received"), start=0, stop=2)
    assert [o.number for o in page] == [late.number, draft.number]

    with clock.frozen(at("2026-03-10 10:00")):
        feb = scorecard("street", periods.Period("month", dt.date(2026, 2, 1)))
        jan = scorecard("street", periods.Period("month", dt.date(2026, 1, 1)))
    assert sum(c.counts.orders for c in feb.cards) == 3 and sum(c.counts.orders for c in jan.cards) == 0
    with clock.frozen(at("2026-03-10 10:00")):
        daily.refresh([dt.date(2026, 1, 31), dt.date(2026, 2, 2)])
        stored, sums = daily._stored([dt.date(2026, 1, 31), dt.date(2026, 2, 2)], clock.now(), "area")
    assert stored == {dt.date(2026, 1, 31), dt.date(2026, 2, 2)}
    assert sum(row[daily.ORDERS] for row in sums.values()) == 2  # the submitted draft and the 2 Feb order


@pytest.mark.skipif(not PG, reason="PostgreSQL only; test_sqlite_is_left_alone covers SQLite")
@pytest.mark.usefixtures("triage_world")
def test_the_batch_intake_writes_each_order_into_its_months_partition(city, settings,
                                                                       django_capture_on_commit_callbacks):
    # One INSERT per table through the parent (jiesu.ops.inserts): the rows land by their keys.
    from jiesu.orders.actions import receipts
    from jiesu.orders.models import Assignment
    from tests.test_intake_receipts import LAMP, kwargs

    settings.JIESU = {**settings.JIESU, "INLINE_TRIAGE": True}
    call_command("partition", "--first", "2026-01", "--months", "3")
    taken = []
    for day in ("2026-01-20 10:00", "2026-02-20 10:00", "2026-02-20 10:01"):
        with clock.frozen(at(day)):
            taken.append(receipts.receive_order(**kwargs(city, content=f"{day} {LAMP}")))
    with clock.frozen(at("2026-02-20 10:05")), django_capture_on_commit_callbacks(execute=True):
        assert receipts.make_received_orders() == 3
    orders = [type(r).objects.get(pk=r.pk).order for r in taken]
    assert [_where("orders_workorder", o.pk) for o in orders] == [
        "orders_workorder_p202601", "orders_workorder_p202602", "orders_workorder_p202602"]
    for order in orders:
        events = list(Event.objects.filter(order=order).order_by("id"))
        assert [e.code for e in events] == ["created", "dispatched"]
        # Events by the month they happened: January's order was dispatched in February.
        assert [_where("orders_event", e.pk) for e in events] == [
            f"orders_event_p{e.at.astimezone(SHANGHAI):%Y%m}" for e in events]
        # The dispatched event names the assignment made in the same batch.
        assert events[1].assignment_id == Assignment.objects.get(order=order, role="lead").pk
