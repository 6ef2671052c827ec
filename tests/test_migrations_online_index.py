"""Migration orders 0010 builds ``order_state_received_idx`` without blocking the orders' writes
(``jiesu.ops.online_index.AddIndexOnline``): CONCURRENTLY on a plain PostgreSQL table, ON ONLY
plus one concurrent build and ATTACH per month on the partitioned layout, the plain index on
SQLite. The tests migrate back to 0009 and forward again, for real: a concurrent build cannot
run inside a test's transaction. The plain layout uses the test database itself (migrated
forward again at the end, its rows flushed); the partitioned one a copy of the test database
made for the test, since partitioning is not undone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.migrations.executor import MigrationExecutor

from jiesu.ops import partitioning
from jiesu.ops.online_index import partition_index_name
from jiesu.orders.models import WorkOrder

PG = connection.vendor == "postgresql"
INDEX = "order_state_received_idx"
BEFORE = [("orders", "0009_duplicate_candidate_indexes")]
COLUMNS = "(state, received_at, id)"


def _migrate(targets: list[tuple[str, str]] | None = None) -> None:
    """Migrate to ``targets``; without them, every app to its latest migration."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def _pg_indexes() -> dict[str, tuple[bool, str | None, str]]:
    """Indexes named like the state index or on its columns, of the orders and their partitions,
    on PostgreSQL:
    name → (valid, the index it is attached to, its columns)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid, (SELECT p.relname FROM pg_inherits h JOIN pg_class p ON "
            "p.oid = h.inhparent WHERE h.inhrelid = c.oid), substring(pg_get_indexdef(c.oid) from '\\(.*\\)$') "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE (c.relname LIKE %s OR pg_get_indexdef(c.oid) LIKE %s) "
            "AND i.indrelid IN (SELECT %s::regclass UNION ALL SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = %s::regclass)",
            [f"%{INDEX}%", f"%{COLUMNS}", "orders_workorder", "orders_workorder"],
        )
        return {name: (valid, parent, columns) for name, valid, parent, columns in cursor.fetchall()}


def _exists() -> bool:
    if PG:
        return INDEX in _pg_indexes()
    with connection.cursor() as cursor:
        return INDEX in connection.introspection.get_constraints(cursor, "orders_workorder")


def _state_list_plan() -> str:
    """The plan of a state's list, newest first (``selectors.order_list`` by state). The tables
    hold a few rows here, so sequential scans are ruled out to see which index the planner takes
    (on partitions: their indexes attached to the state index)."""
    query = WorkOrder.objects.filter(state="received").order_by("-received_at", "-id")[:20]
    if not PG:
        return query.explain()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            return query.explain()
        finally:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.django_db(transaction=True)
def test_the_state_index_migrates_back_and_forth_on_a_plain_table(new_order):
    """SQLite, or PostgreSQL not partitioned. On PostgreSQL also: the INVALID index that a
    failed concurrent build leaves behind is dropped and the index built again."""
    new_order()
    new_order()
    assert _exists()
    try:
        _migrate(BEFORE)
        assert not _exists()
        if PG:
            # A concurrent build that fails (here: unique on a constant, from the second row)
            # leaves its index behind, INVALID, under the name the migration builds.
            with (
                pytest.raises(Exception, match="could not create unique index"),
                connection.cursor() as cursor,
            ):
                cursor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {INDEX} ON orders_workorder ((1))")
            assert _pg_indexes() == {INDEX: (False, None, "((1))")}
    finally:
        _migrate()
    assert _exists()
    if PG:
        assert _pg_indexes() == {INDEX: (True, None, COLUMNS)}
    assert INDEX in _state_list_plan()
    # And back again, and forward: nothing left over.
    _migrate(BEFORE)
    assert not _exists()
    _migrate()
    assert _exists() and INDEX in _state_list_plan()


@pytest.fixture
def scratch_database(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The default alias on a copy of the test database (CREATE DATABASE … TEMPLATE, as Django
    clones test databases) for the test's extent; dropped after it."""
    conn = connections[DEFAULT_DB_ALIAS]
    original = conn.settings_dict["NAME"]
    scratch = f"{original}_online_index"
    with django_db_blocker.unblock():
        connections.close_all()  # a template database must have no other session
        with conn._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            cursor.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{original}"')
        conn.settings_dict["NAME"] = scratch
        try:
            yield
        finally:
            conn.close()
            conn.settings_dict["NAME"] = original
            with conn._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')


def _partition_indexes_valid() -> dict[str, str]:
    """Every partition of the orders has a valid index with the state index's columns, attached
    to it, and the state index is valid: partition → its index's name."""
    found = _pg_indexes()
    assert found.pop(INDEX) == (True, None, COLUMNS)
    by_partition = {}
    for name, (valid, parent, columns) in found.items():
        assert (valid, parent, columns) == (True, INDEX, COLUMNS), name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = %s::regclass", [name]
            )
            by_partition[cursor.fetchone()[0]] = name
    assert sorted(by_partition) == partitioning.partitions("orders_workorder")
    return by_partition


@pytest.mark.skipif(not PG, reason="partitions exist on PostgreSQL only")
def test_the_state_index_is_built_partition_by_partition_on_the_monthly_layout(scratch_database):
    call_command("partition", "--first", "2026-01", "--months", "2")
    # Converting the plain table keeps the index, valid, on every partition.
    _partition_indexes_valid()

    _migrate(BEFORE)
    assert _pg_indexes() == {}  # dropping the partitioned index drops its partitions' ones
    _migrate()
    months = ["orders_workorder_default", "orders_workorder_p202601", "orders_workorder_p202602"]
    assert _partition_indexes_valid() == {p: partition_index_name(p, INDEX) for p in months}
    plan = _state_list_plan()
    assert partition_index_name("orders_workorder_p202602", INDEX) in plan, plan

    # A month added later gets its own, attached (PostgreSQL makes it with the partition).
    partitioning.add_months("orders_workorder", dt.date(2026, 3, 1), 1)
    assert "orders_workorder_p202603" in _partition_indexes_valid()

    # A build stopped half-way: the parent's index made, one month attached, one month's build
    # failed (INVALID), one not started. Running the migration again finishes it.
    _migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {INDEX} ON ONLY orders_workorder {COLUMNS}")
        jan = partition_index_name("orders_workorder_p202601", INDEX)
        cursor.execute(f"CREATE INDEX {jan} ON orders_workorder_p202601 {COLUMNS}")
        cursor.execute(f"ALTER INDEX {INDEX} ATTACH PARTITION {jan}")
        feb = partition_index_name("orders_workorder_p202602", INDEX)
    # February's build gave up waiting for a writer's transaction (lock_timeout): its index
    # stays, INVALID.
    writer = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with writer.cursor() as w:
            w.execute("BEGIN")
            w.execute("LOCK TABLE orders_workorder_p202602 IN ROW EXCLUSIVE MODE")
        with pytest.raises(OperationalError, match="lock timeout"), connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
            cursor.execute(f"CREATE INDEX CONCURRENTLY {feb} ON orders_workorder_p202602 {COLUMNS}")
    finally:
        writer.close()
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
    found = _pg_indexes()
    assert (
        found[INDEX][0] is False
        and found[feb] == (False, None, COLUMNS)
        and found[jan] == (True, INDEX, COLUMNS)
    )
    _migrate()
    assert _partition_indexes_valid() == {
        p: partition_index_name(p, INDEX) for p in [*months, "orders_workorder_p202603"]
    }
