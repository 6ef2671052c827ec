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

When the replica fails, the pages read the primary (slower, but a hotline centre's dashboards
keep working), and the log says so (logger ``jiesu.replica``, WARNING):

- **Down.** A call of a ``@reading()`` selector that raises ``OperationalError`` or
  ``InterfaceError`` asks the replica whether it answers (``status()``: connect, one query);
  if it does not, the whole call runs again on the primary, so its result is all one
  database's. An error while the replica answers (a recovery conflict, the primary's own error)
  is raised as before: rerunning a query the replica refused would only move it to the primary.
- **Hung.** A replica that takes the query and then holds it (a stuck standby) cancels it after
  its ``statement_timeout`` (``jiesu.settings.replica_database``, ``JIESU_REPLICA_STATEMENT_TIMEOUT``,
  10 s: above the heaviest insight statement measured). That cancellation (SQLSTATE 57014) counts
  as down without a look — a look would wait as long on a replica that holds queries: the call
  reruns on the primary, with the warning and the back-off. A host that vanished is cut by the
  connection's TCP keepalives (same function).
- **Back-off.** A replica that did not answer is not tried again for ``REPLICA_BACKOFF_SECONDS``
  (30 s), so that each request does not wait for a connect timeout (the alias connects with a
  short ``connect_timeout``, ``jiesu.settings.replica_database``); then one look decides.
- **Lag.** At most every ``REPLICA_LAG_CHECK_SECONDS`` (10 s) per process, the first read that
  would go to the replica first asks it how far behind it is (``status()``); beyond
  ``REPLICA_MAX_LAG_SECONDS`` (300 s; 0: never) the reads go to the primary until a later look
  finds it caught up: a slower page is better than rankings hours old.

That state is per process (module-level, shared by its threads; two threads may look at once,
which is harmless). The time is ``monotonic()``, which tests replace.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

ALIAS = "replica"
_reading: ContextVar[bool] = ContextVar("jiesu_replica_reading", default=False)
# Inside a ``@reading()`` call that reruns on the primary if the replica fails: the calls it
# makes leave that to it (their partial results would mix the two databases).
_guarded: ContextVar[bool] = ContextVar("jiesu_replica_guarded", default=False)
DOWN = (OperationalError, InterfaceError)  # what a replica that does not answer raises
QUERY_CANCELED = "57014"  # SQLSTATE of a statement cancelled by statement_timeout (or by hand)

log = logging.getLogger("jiesu.replica")
monotonic: Callable[[], float] = time.monotonic  # the back-off's and the lag's clock (tests set it)

T = TypeVar("T")


def configured() -> bool:
    """Whether a replica is configured: the ``replica`` alias exists (settings.DATABASES)."""
    return ALIAS in connections.settings


def db() -> str:
    """The alias the current read goes to: the replica inside ``reading()`` (and outside any
    transaction on the primary) when one is configured and in use (``in_use()``), else the
    primary."""
    if _reading.get() and configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block and in_use():
        return ALIAS
    return DEFAULT_DB_ALIAS


def connection() -> BaseDatabaseWrapper:
    """The connection of ``db()``: where raw SQL of a read runs, beside the ORM's queries."""
    return connections[db()]


class reading:
    """Reads in this block may go to the replica (they tolerate seconds of lag). As a decorator,
    ``@replica.reading()``, also the fallback: a call that fails because the replica does not
    answer runs again on the primary (``_fell_over``). A ``with`` block cannot be rerun: there
    only the routing (``in_use()``) avoids a replica known to be down."""

    def __init__(self) -> None:
        self._tokens: list[Token[bool]] = []

    def __enter__(self) -> None:
        self._tokens.append(_reading.set(True))

    def __exit__(self, *exc: object) -> None:
        _reading.reset(self._tokens.pop())

    def __call__(self, fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> T:
            if _guarded.get() or not configured():  # an outer call reruns, or nothing to fall from
                with reading():
                    return fn(*args, **kwargs)
            token = _guarded.set(True)
            try:
                with reading():
                    return fn(*args, **kwargs)
            except DOWN as err:
                if not _fell_over(err):
                    raise
            finally:
                _guarded.reset(token)
            with primary():  # the whole call again: the replica's rows read so far are dropped
                return fn(*args, **kwargs)

        return run


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


@dataclass(frozen=True)
class Status:
    """What the replica says of itself (``status()``)."""

    standby: bool | None  # pg_is_in_recovery(); None: not PostgreSQL (only in the tests)
    lag: float | None  # seconds behind the primary; 0: it has replayed all it received; None: unknown


# Behind: 0 when it has replayed all it received and is receiving (pg_stat_wal_receiver has a
# row, also for a role without pg_read_all_stats); else the age of the last transaction it
# replayed. Not that age alone: on a quiet primary (at night) the last transaction may be hours
# old on a replica that is fully caught up. On a primary both are NULL: lag unknown.
STATUS_SQL = """SELECT pg_is_in_recovery(), CASE
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND EXISTS (SELECT FROM pg_stat_wal_receiver) THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"""


def status() -> Status:
    """Ask the replica, on this thread's connection to it, whether it is a standby and how far
    behind it is. Raises ``OperationalError``/``InterfaceError`` when it does not answer. A kept
    connection that the replica closed (it restarted) is replaced once before that."""
    conn = connections[ALIAS]
    try:
        return _ask(conn)
    except DOWN as err:
        if conn.in_atomic_block or cancelled(err):  # a fresh connection would wait as long
            raise
        conn.close()
        return _ask(conn)


def _ask(conn: BaseDatabaseWrapper) -> Status:
    conn.ensure_connection()
    if conn.vendor != "postgresql":
        return Status(None, None)
    with conn.cursor() as cursor:
        cursor.execute(STATUS_SQL)
        standby, lag = cursor.fetchone()
    return Status(bool(standby), None if lag is None else float(lag))


def _knob(name: str, default: float) -> float:
    return float(cast(dict[str, Any], settings.JIESU).get(name, default))


def backoff() -> float:
    """Seconds a replica that did not answer is left alone (``JIESU_REPLICA_BACKOFF``)."""
    return _knob("REPLICA_BACKOFF_SECONDS", 30)


def max_lag() -> float:
    """Seconds behind beyond which reads go to the primary (``JIESU_REPLICA_MAX_LAG``; 0: no limit)."""
    return _knob("REPLICA_MAX_LAG_SECONDS", 300)


def lag_check() -> float:
    """Seconds between a process's looks at the replica's lag (``JIESU_REPLICA_LAG_CHECK``)."""
    return _knob("REPLICA_LAG_CHECK_SECONDS", 10)


@dataclass
class _Health:
    avoid_until: float = -math.inf  # monotonic(): after an outage, not tried before then
    looked_at: float = -math.inf  # the last look (status())
    lagging: bool = False  # beyond max_lag() at that look
    failed: bool = False  # the last attempt failed (to log when it is back)


_health = _Health()


def forget() -> None:
    """Forget what this process knows of the replica (tests; the next read looks again)."""
    global _health
    _health = _Health()


def in_use() -> bool:
    """Whether reads may go to the replica now: not in a back-off after it failed to answer,
    and not beyond the lag limit at the last look. Looks (``status()``) when the last look is
    older than ``lag_check()`` — not inside a transaction on the replica, where a failed query
    would abort it; that transaction's reads stay where they are."""
    h, now = _health, monotonic()
    if now < h.avoid_until:
        return False
    if now - h.looked_at < lag_check() or connections[ALIAS].in_atomic_block:
        return not h.lagging
    try:
        s = status()
    except DOWN as err:
        _avoid(err)
        return False
    except DatabaseError as err:  # it answers, but not that question (privileges?): lag unknown
        log.warning("read replica %s: could not ask its lag: %s", _where(), err)
        s = Status(None, None)
    limit = max_lag()
    lagging = bool(limit) and s.lag is not None and s.lag > limit
    if lagging and not h.lagging:
        log.warning("read replica %s is %.0f s behind (limit %.0f s): insight reads go to the primary",
                    _where(), s.lag, limit)
    elif (h.lagging or h.failed) and not lagging:
        log.warning("read replica %s answers again (%s behind): insight reads go to it again", _where(),
                    "unknown" if s.lag is None else f"{s.lag:.1f} s")
    h.looked_at, h.lagging, h.failed = now, lagging, False
    return not lagging


def _avoid(err: BaseException) -> None:
    h = _health
    h.avoid_until, h.looked_at, h.failed = monotonic() + backoff(), -math.inf, True  # look again after it
    log.warning("read replica %s does not answer (%s): insight reads go to the primary for %.0f s",
                _where(), str(err).strip() or type(err).__name__, backoff())


def cancelled(err: BaseException) -> bool:
    """Whether ``err`` (Django's error, psycopg's as its cause) is a statement the server
    cancelled: SQLSTATE 57014, psycopg's ``QueryCanceled``."""
    return any(getattr(e, "sqlstate", None) == QUERY_CANCELED for e in (err, err.__cause__))


def _fell_over(err: BaseException) -> bool:
    """After a ``@reading()`` call raised ``err``: whether to run it again on the primary. Yes
    when the replica is already avoided (the call may have read it before), when it cancelled a
    statement (its ``statement_timeout``: it holds queries; avoided without a look, which would
    wait as long), or when it does not answer now (then it is avoided); no when it answers: the
    error was not its outage. A cancellation is taken for the replica's: the primary's
    connections have no ``statement_timeout`` of Jiesu's (one of the operator's there would
    cost a rerun that is cancelled again, and raised)."""
    if monotonic() < _health.avoid_until:
        return True
    if cancelled(err):
        _avoid(err)
        return True
    try:
        status()
    except DOWN as probe:
        _avoid(probe)
        return True
    except DatabaseError:  # it answers (if not that question)
        return False
    return False


def _where() -> str:
    s = connections.settings[ALIAS]
    return f"{s.get('HOST') or 'localhost'}:{s.get('PORT') or 5432}/{s.get('NAME')}"


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
