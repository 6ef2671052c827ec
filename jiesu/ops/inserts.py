"""Many new rows of one model in as few INSERT statements as the database allows, without the
ORM's insert compiler: the batch intake's writes (orders, requesters, events, assignments,
search words, suggestions, notifications).

Why not ``bulk_create``: its compiler prepares every value through four or five calls (the
field's ``pre_save``, ``get_db_prep_save``, ``field_as_sql``, a placeholder per value) and joins
the statement value by value. In the batch intake that was 38 % of the task worker's profile,
~120 values an order (docs/benchmarks.md, "Session 10"). Here the statement's text is built once
per model, row count and database, and a value whose Python type the database driver takes as
it is (a ``str`` for a text column, an ``int`` for an integer or a key, an aware ``datetime`` on
PostgreSQL) is passed as it is; every other value goes through the field's own
``get_db_prep_save``, as the ORM's would. The rows written are the same as ``bulk_create``'s
(tests/test_inserts.py compares them column by column, on both databases).

What ``bulk_create`` does that this does too: related objects saved after assignment are
picked up (and an unsaved one refused, with the ORM's message), ``auto_now``/``auto_now_add``
fields get their value, an object without a primary key gets the one the database returns,
and every object is marked saved. No signals, as ``bulk_create``. What it leaves to
``bulk_create`` (``insert_all`` hands the call over): a model with database-computed or
database-default columns, objects of which some have a primary key and some not, objects
without keys of a model whose own ``bulk_create`` gives them, values that are expressions, and
databases that cannot return rows from an insert. One row goes as ``VALUES`` on PostgreSQL too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections, models, router

from jiesu.ops.pg_arrays import literal

# The field classes (exact classes, not subclasses: a subclass may prepare values its own way)
# whose ``get_db_prep_save`` hands a value of these types to the driver unchanged.
_TEXT = (models.CharField, models.TextField, models.SlugField)
_INTEGER = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
            models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
            models.PositiveBigIntegerField, models.PositiveSmallIntegerField)

# Rows per statement at most: past a few thousand a longer statement saves nothing.
MAX_ROWS = 5_000
# psycopg's limit of parameters in one statement (the protocol counts them in 16 bits).
_POSTGRESQL_MAX_PARAMS = 65_535


@dataclass(frozen=True)
class _Column:
    field: models.Field
    get: Callable[[models.Model], Any]  # the value to save (``pre_save`` where the field has its own)
    as_is: tuple[type, ...]  # Python types passed to the driver unchanged
    aware: bool  # a datetime passes only with its time zone


@dataclass(frozen=True, eq=False)  # hashed by identity: one per model, database and key layout
class _Plan:
    table: str
    columns: tuple[_Column, ...]
    names: str
    relations: tuple[models.ForeignKey, ...]
    max_rows: int
    # False: ``bulk_create`` does it (database-default columns, no INSERT … RETURNING, or a
    # model whose own ``bulk_create`` gives keys, e.g. WorkOrder's ids from its numbers).
    ours: bool
    unnest: tuple[str, ...]  # PostgreSQL: each column's array type, for ``INSERT … SELECT * FROM UNNEST``


def insert_all(objs: Sequence[models.Model], *, ignore_conflicts: bool = False,
               returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``objs`` (all of one model, none saved yet), as ``bulk_create(objs)`` would.
    Answers, for each row inserted, the values of ``returning`` (field names), in the order of
    the statements' results: with ``ignore_conflicts`` (``ON CONFLICT DO NOTHING``) the rows
    skipped answer nothing, so name a unique field in ``returning`` to tell which were written.
    """
    if not objs:
        return []
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    opts = model._meta
    with_pk = objs[0].pk is not None
    plan = _plan(model, alias, with_pk)
    if not plan.ours or any((o.pk is not None) != with_pk or type(o) is not model for o in objs):
        return _by_the_orm(model, objs, ignore_conflicts=ignore_conflicts, returning=returning)
    values: list[Any] = []
    for obj in objs:
        _check_relations(obj, plan.relations)
        for column in plan.columns:
            value = column.get(obj)
            if value is not None and (type(value) not in column.as_is or (column.aware and value.tzinfo is None)):
                if hasattr(value, "resolve_expression"):
                    return _by_the_orm(model, objs, ignore_conflicts=ignore_conflicts, returning=returning)
                value = column.field.get_db_prep_save(value, connection)
            values.append(value)
    returned: list[Any] = [opts.get_field(name) for name in returning]
    pk_at = next((i for i, field in enumerate(returned) if field.primary_key), len(returned))
    if not with_pk and pk_at == len(returned):
        returned.append(opts.pk)
    width = len(plan.columns)
    found: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), plan.max_rows):
            count = min(plan.max_rows, len(objs) - start)
            chunk = values[start * width:(start + count) * width]
            arrays = plan.unnest and count > 1  # one row: VALUES, as Django's own compiler does
            if arrays:
                # Each column's array as PostgreSQL's text, where pg_arrays can write it.
                chunk = [literal(column) or column for column in (chunk[i::width] for i in range(width))]
            cursor.execute(_statement(plan, 0 if arrays else count, ignore_conflicts,
                                      tuple(f.column for f in returned), alias), chunk)
            if returned:
                found += cursor.fetchall()
    if not with_pk and not ignore_conflicts:
        for obj, row in zip(objs, found, strict=True):
            obj.pk = row[pk_at]
    for obj in objs:
        obj._state.adding, obj._state.db = False, alias
    return [row[:len(returning)] for row in found] if returning else []


def _by_the_orm(model: type[models.Model], objs: Sequence[models.Model], *, ignore_conflicts: bool,
                returning: Sequence[str]) -> list[tuple]:
    model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
    if not returning:
        return []
    if ignore_conflicts:
        raise NotImplementedError("returning with ignore_conflicts needs INSERT … RETURNING")
    attnames = [cast(models.Field, model._meta.get_field(name)).attname for name in returning]
    return [tuple(getattr(o, attname) for attname in attnames) for o in objs]


def _check_relations(obj: models.Model, relations: tuple[models.ForeignKey, ...]) -> None:
    """``Model._prepare_related_fields_for_save`` for the keys: an object assigned before it
    was saved gives its key now; an unsaved one is refused."""
    for field in relations:
        if not field.is_cached(obj):
            continue
        related = field.get_cached_value(obj)
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(f"bulk_create() prohibited to prevent data loss due to unsaved related object "
                             f"'{field.name}'.")
        if getattr(obj, field.attname) is None:
            setattr(obj, field.name, related)
        elif getattr(related, field.target_field.attname) != getattr(obj, field.attname):
            field.delete_cached_value(obj)


@functools.cache
def _plan(model: type[models.Model], alias: str, with_pk: bool) -> _Plan:
    connection = connections[alias]
    q = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.generated and (with_pk or not f.primary_key)]
    columns = tuple(_Column(field=f, get=_getter(f), as_is=(kinds := _as_is(f, connection.vendor)),
                            aware=dt.datetime in kinds) for f in fields)
    unnest: tuple[str, ...] = ()
    if connection.vendor == "sqlite":
        max_params = _sqlite_max_params(connection)
    elif connection.vendor == "postgresql":
        max_params = _POSTGRESQL_MAX_PARAMS
        unnest = _array_types(fields, connection)
    else:
        max_params = connection.features.max_query_params or _POSTGRESQL_MAX_PARAMS
    ours = (connection.features.can_return_rows_from_bulk_insert
            and not any(f.db_returning and not f.primary_key for f in model._meta.concrete_fields)
            and (with_pk or type(model._default_manager.all()).bulk_create is models.QuerySet.bulk_create))
    return _Plan(table=q(str(model._meta.db_table)), columns=columns, names=", ".join(q(str(f.column)) for f in fields),
                 relations=tuple(f for f in fields if isinstance(f, models.ForeignKey)),
                 max_rows=max(1, min(max_params // max(1, len(fields)), MAX_ROWS)), ours=ours, unnest=unnest)


def _array_types(fields: list[models.Field], connection) -> tuple[str, ...]:
    """Each column's array type where every column has a plain one (as Django's own PostgreSQL
    insert compiler decides): the rows then travel as one array per column, a statement of a
    dozen placeholders. A statement with one placeholder per value is longer than psycopg
    caches its parsing of (4 kB, 50 parameters), so it was parsed again on every batch: 40 % of
    the batch intake's own CPU on PostgreSQL (profile, docs/benchmarks.md, "Session 10")."""
    types = []
    for field in fields:
        kind = field.target_field if isinstance(field, models.ForeignKey) else field
        if hasattr(field, "get_placeholder") or kind.get_internal_type() not in connection.data_types:
            return ()
        types.append(str(field.db_type(connection)).split("(")[0])
    return tuple(types)


def _sqlite_max_params(connection) -> int:
    """The library's own limit (32,766 since SQLite 3.32), where Django assumes the old 999."""
    import sqlite3

    connection.ensure_connection()
    return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def _getter(field: models.Field) -> Callable[[models.Model], Any]:
    if type(field).pre_save is models.Field.pre_save:
        attname = field.attname
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.pre_save(obj, True)


def _as_is(field: models.Field, vendor: str) -> tuple[type, ...]:
    if isinstance(field, models.ForeignKey):
        return _as_is(field.target_field, vendor)
    kind = type(field)
    if kind in _TEXT:
        return (str,)
    if kind in _INTEGER:
        return (int,)
    if kind is models.BooleanField:
        return (bool,)
    # PostgreSQL's driver takes an aware datetime as it is (Django's adapt_datetimefield_value
    # returns it unchanged there); a naive one goes through the field, which makes it aware in
    # the current time zone and warns, as the ORM does.
    if kind is models.DateTimeField and vendor == "postgresql":
        return (dt.datetime,)
    return ()


@functools.lru_cache(maxsize=512)
def _statement(plan: _Plan, rows: int, ignore_conflicts: bool, returning: tuple[str, ...], alias: str) -> str:
    """The statement for ``rows`` rows (0: ``UNNEST`` of one array per column)."""
    q = connections[alias].ops.quote_name
    if rows:
        one = "(" + ", ".join(["%s"] * len(plan.columns)) + ")"
        sql = f"INSERT INTO {plan.table} ({plan.names}) VALUES {', '.join([one] * rows)}"  # noqa: S608 - our names
    else:
        arrays = ", ".join(f"(%s)::{kind}[]" for kind in plan.unnest)
        sql = f"INSERT INTO {plan.table} ({plan.names}) SELECT * FROM UNNEST({arrays})"  # noqa: S608 - our names
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(q(c) for c in returning)
    return sql
