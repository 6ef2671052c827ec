"""``jiesu.ops.sqlite_busy``: on SQLite a writer that finds the write lock taken tries again
in short steps, and still gives up at the database's timeout."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import connection

from jiesu.ops import sqlite_busy

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: its busy handler")


def _holder(path: str) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write lock, until COMMIT
    return other


@pytest.mark.django_db(transaction=True)
def test_a_writer_waits_in_short_steps_for_the_lock_and_then_writes():
    from jiesu.orders.models import DaySequence

    path = str(connection.settings_dict["NAME"])
    connection.ensure_connection()
    before = sqlite_busy.tries
    other = _holder(path)
    threading.Timer(0.05, other.commit).start()
    DaySequence.objects.create(day="2026-11-29", last=1)  # waits for the lock, then writes
    other.close()
    assert sqlite_busy.tries > before  # the handler was called: this connection has it
    assert DaySequence.objects.filter(day="2026-11-29").exists()


def test_it_still_gives_up_at_the_timeout(tmp_path):
    path = str(tmp_path / "busy.sqlite3")
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    assert sqlite_busy.install(writer, path=path, limit_ms=30)
    other = _holder(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            writer.execute("INSERT INTO t VALUES (1)")
    finally:
        other.rollback()
    writer.execute("INSERT INTO t VALUES (1)")  # the lock released: it writes
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_connection_that_is_not_the_named_database_keeps_sqlites_own_handler(tmp_path):
    path = str(tmp_path / "a.sqlite3")
    raw = sqlite3.connect(path)
    assert not sqlite_busy.install(raw, path=str(tmp_path / "b.sqlite3"), limit_ms=None)
    assert sqlite_busy.install(raw, path=path, limit_ms=None)
