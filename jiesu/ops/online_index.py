"""An index added to a big, live table without blocking its writes (``AddIndexOnline``, a
migration operation; issue 8, docs/scaling.md).

Why: a plain ``CREATE INDEX`` holds a lock that blocks every INSERT, UPDATE and DELETE on the
table for the whole build — minutes on 10 million orders, during which intake and every desk
action wait. ``CREATE INDEX CONCURRENTLY`` builds it while writes go on (two passes over the
table instead of one; it waits for the transactions already running on the table, so a long
report on the same database delays it, not the other way round). It cannot run inside a
transaction: a migration using this operation sets ``atomic = False``.

Django's ``django.contrib.postgres.operations.AddIndexConcurrently`` does that for a plain table
only: PostgreSQL refuses ``CONCURRENTLY`` on a partitioned table (the monthly layout of
``jiesu partition``, ``jiesu.ops.partitioning``), and it fails on SQLite. Here:

- **SQLite**: the plain ``CREATE INDEX`` of ``AddIndex`` (one process writes; nothing to gain).
- **PostgreSQL, plain table**: ``CREATE INDEX CONCURRENTLY``.
- **PostgreSQL, partitioned table**: PostgreSQL's documented way — ``CREATE INDEX … ON ONLY``
  the parent (an empty, *invalid* index of the parent alone), then for each partition
  ``CREATE INDEX CONCURRENTLY`` and ``ALTER INDEX parent ATTACH PARTITION child``; the parent's
  index turns valid when every partition has one attached. A partition made later
  (``jiesu partition --add``) gets its own with ``CREATE TABLE … PARTITION OF``.

**A build that fails** (cancelled, a lock timeout, the process killed) leaves an INVALID index
behind: not used by queries, but kept up to date by every write. Running the migration again
mends it: on a plain table the invalid leftover is dropped (``DROP INDEX CONCURRENTLY``) and
built anew; on a partitioned one the invalid parent is kept and the run goes on where it
stopped (an attached valid partition index is kept, an invalid one dropped and built again).
A valid index of that name is taken as done. By hand: ``DROP INDEX CONCURRENTLY <name>`` (plain
table), then ``jiesu migrate``.

Going back (``database_backwards``): ``DROP INDEX CONCURRENTLY`` on a plain table. A
partitioned index cannot be dropped concurrently; dropping it is a catalogue change (no scan),
but it waits for the queries running on the orders and blocks the ones behind it meanwhile.

The state (what ``makemigrations`` compares against the models) is ``AddIndex``'s.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import NotSupportedError
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.utils import truncate_name
from django.db.migrations import AddIndex
from django.db.migrations.state import ProjectState
from django.db.models import Index

from jiesu.ops.partitioning import is_partitioned, partitions


class AddIndexOnline(AddIndex):
    """``AddIndex`` that builds the index without blocking the table's writes on PostgreSQL,
    also on a table partitioned by month (module docstring). Its migration is ``atomic = False``."""

    atomic = False

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} without blocking writes (PostgreSQL)"

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        _outside_a_transaction(schema_editor, self)
        if is_partitioned(model._meta.db_table, schema_editor.connection):
            _build_partitioned(schema_editor, model, self.index)
        else:
            _build_plain(schema_editor, model, self.index)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        _outside_a_transaction(schema_editor, self)
        partitioned = is_partitioned(model._meta.db_table, schema_editor.connection)
        # Dropping the partitioned index drops the partitions' indexes attached to it.
        schema_editor.execute(
            f"DROP INDEX {'' if partitioned else 'CONCURRENTLY '}IF EXISTS "
            f"{schema_editor.quote_name(self.index.name)}"
        )


def _outside_a_transaction(schema_editor: BaseDatabaseSchemaEditor, operation: Any) -> None:
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"{type(operation).__name__} cannot run inside a transaction "
            "(set atomic = False on the migration)"
        )


def _one(schema_editor: BaseDatabaseSchemaEditor, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _valid(schema_editor: BaseDatabaseSchemaEditor, name: str) -> bool | None:
    """Whether the index ``name`` (in the search path) is valid; None: there is none."""
    row = _one(
        schema_editor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [schema_editor.quote_name(name)],
    )
    return None if row is None else bool(row[0])


def _build_plain(schema_editor: BaseDatabaseSchemaEditor, model: Any, index: Index) -> None:
    valid = _valid(schema_editor, index.name)
    if valid:
        return  # built by an earlier run whose record was lost, or by hand
    if valid is False:  # a failed earlier build: not used, but written to; build it again
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(index.name)}")
    schema_editor.execute(index.create_sql(model, schema_editor, concurrently=True))


def partition_index_name(partition: str, index: str) -> str:
    """The name of ``index``'s index on one partition: ``<partition>_<index>``, shortened with a
    hash to PostgreSQL's 63 characters if longer."""
    return truncate_name(f"{partition}_{index}", 63)


def _build_partitioned(schema_editor: BaseDatabaseSchemaEditor, model: Any, index: Index) -> None:
    q = schema_editor.quote_name
    table = model._meta.db_table
    valid = _valid(schema_editor, index.name)
    if valid:
        return
    if valid is None:
        parent = index.create_sql(model, schema_editor)
        cast(dict[str, Any], parent.parts)["table"] = f"ONLY {q(table)}"  # Django's statement, retargeted
        schema_editor.execute(parent)
    for partition in partitions(table, schema_editor.connection):
        # An index of this partition already attached to the parent's (an earlier run, or made
        # by PostgreSQL with a partition created meanwhile): done.
        attached = _one(
            schema_editor,
            "SELECT 1 FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid "
            "WHERE h.inhparent = to_regclass(%s) AND i.indrelid = to_regclass(%s)",
            [q(index.name), q(partition)],
        )
        if attached:
            continue
        name = partition_index_name(partition, index.name)
        child_valid = _valid(schema_editor, name)
        if child_valid is False:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {q(name)}")
        if not child_valid:
            child = index.create_sql(model, schema_editor, concurrently=True)
            cast(dict[str, Any], child.parts).update(table=q(partition), name=q(name))
            schema_editor.execute(child)
        schema_editor.execute(f"ALTER INDEX {q(index.name)} ATTACH PARTITION {q(name)}")
    if not schema_editor.collect_sql and not _valid(schema_editor, index.name):  # sqlmigrate ran nothing
        raise NotSupportedError(
            f"{index.name} on {table} is still invalid after attaching every partition's index "
            f"(a partition added meanwhile, or one partitioned further?): run the migration again"
        )
