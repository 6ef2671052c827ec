"""Reads that may go to a read replica (``JIESU_REPLICA_URL``: a PostgreSQL streaming replica of
the primary), and only those.

Why: the insight pages, hotspots, rankings and their exports count hundreds of thousands of
orders; on a replica that work leaves the primary to intake and the desks. A replica lags the
primary by a moment (usually well under a second, seconds under load) and answers with a
consistent past state of it, so only reads that tolerate that may use it.

How, explicitly: a read goes to the replica only inside ``reading()`` — the insight and
scorecard selectors wrap their work in it — and only when the ``replica`` alias exists. Without
it ``Router`` answers nothing and every query runs where it always did. Inside ``reading()``:

- writes go to the primary (``Router.db_for_write``), also for a row that was read from the
  replica;
- reads inside a transaction on the primary stay on the primary: a transaction must see its
  own writes and take its locks where it writes;
- ``primary()`` sends reads back to the primary for its extent: the roll-ups' ``refresh`` and
  ``mark`` use it, since what they read decides what they write (a dirty flag or a recount read
  from a replica that has not yet seen the last change would store stale numbers as clean).

Raw SQL in those selectors runs on ``connection()``, the same connection as their ORM reads.
Everything else — the desks (inbox, dispatcher queue, order page), intake, the API, logins and
permission checks — never enters ``reading()`` and reads the primary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

ALIAS = "replica"
_reading: ContextVar[bool] = ContextVar("jiesu_replica_reading", default=False)

T = TypeVar("T")


def configured() -> bool:
    """Whether a replica is configured: the ``replica`` alias exists (settings.DATABASES)."""
    return ALIAS in connections.settings


def db() -> str:
    """The alias the current read goes to: the replica inside ``reading()`` (and outside any
    transaction on the primary) when one is configured, else the primary."""
    if _reading.get() and configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return ALIAS
    return DEFAULT_DB_ALIAS


def connection() -> BaseDatabaseWrapper:
    """The connection of ``db()``: where raw SQL of a read runs, beside the ORM's queries."""
    return connections[db()]


@contextmanager
def reading() -> Iterator[None]:
    """Reads in this block may go to the replica (they tolerate seconds of lag). Also a
    decorator: ``@replica.reading()``."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


@contextmanager
def primary() -> Iterator[None]:
    """Reads in this block go to the primary, also inside ``reading()``: for reads that decide
    a write. Also a decorator: ``@replica.primary()``."""
    token = _reading.set(False)
    try:
        yield
    finally:
        _reading.reset(token)


def carried(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to run in another thread with this thread's choice of database (a thread starts
    with a context of its own, where ``reading()`` is not in force)."""
    state = _reading.get()

    def run(*args: Any, **kwargs: Any) -> T:
        token = _reading.set(state)
        try:
            return fn(*args, **kwargs)
        finally:
            _reading.reset(token)

    return run


class Router:
    """Django's database router, in settings.DATABASE_ROUTERS with the replica (``ROUTER``).
    With no replica configured it has no opinion on anything, so Django uses the default
    database as it would without it."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if not configured():
            return None
        # Named explicitly either way: left to Django, a related row of an object read from
        # the replica would be read from the replica too, inside ``reading()`` or not.
        return db()

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        # Never the replica, also when the row being saved was read from it.
        return DEFAULT_DB_ALIAS if configured() else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read from either may refer to one
        # read from the other.
        dbs = {obj1._state.db, obj2._state.db}
        return True if configured() and dbs <= {DEFAULT_DB_ALIAS, ALIAS} else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return False if db == ALIAS else None  # a replica replays the primary's migrations


ROUTER = "jiesu.ops.replica.Router"
