"""SQLite: a writer that finds the write lock taken tries again every millisecond.

Why: SQLite serialises writers, and one that finds the lock taken waits in the busy handler.
The default one (what Python's ``timeout`` sets) sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50 and then 100 ms between tries, so a writer can sleep up to 100 ms after the lock was
released while the database stands idle. Under the intake load (the acknowledgements' inserts
and the batch intake's transactions taking the lock in turn) that was the bottleneck on
SQLite: Jiesu used about one core of two, and the acknowledgements' p99 was 550–650 ms. With
this handler: orders made +20 %, acknowledged +30–40 %, p99 180–210 ms (docs/benchmarks.md,
session 12). The database's own timeout is kept (``OPTIONS["timeout"]``, 20 s): past it the
writer gets "database is locked", as before.

Python's ``sqlite3`` has no way to set a busy handler, so this calls SQLite's
``sqlite3_busy_handler`` through ctypes, on the ``sqlite3 *`` that CPython's connection object
holds right after its object header. That layout is CPython's (``Modules/_sqlite/connection.h``,
3.11–3.13), so the handler is installed only there, only when the library ctypes loads is the
one the ``sqlite3`` module runs on, and only when the pointer names the connection's own
database file; anywhere else SQLite's default handler stays, which is correct, only slower.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sqlite3
import sys
import sysconfig
import time
from typing import Any

from django.db.backends.signals import connection_created

log = logging.getLogger("jiesu.ops")

STEP = 0.001  # seconds between tries
_HANDLER_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
tries = 0  # how many times a writer waited a step, in this process (tests read it)


def _waited(limit_ms: int | None, _arg: Any, count: int) -> int:
    """SQLite's callback: 1 to try again after a step, 0 to give up ("database is locked")."""
    global tries
    if limit_ms is not None and count * STEP * 1000 >= limit_ms:
        return 0
    tries += 1
    time.sleep(STEP)  # without the GIL: the other threads go on
    return 1


@functools.cache
def _handler(limit_ms: int | None) -> Any:
    # One C callback per limit, kept for the process's life (SQLite keeps calling it).
    return _HANDLER_TYPE(functools.partial(_waited, limit_ms))


@functools.cache
def _library() -> Any:
    """libsqlite3 as ctypes loads it, or None where the layout or the library is not the one
    this module knows."""
    if (sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13)
            or sysconfig.get_config_var("Py_GIL_DISABLED") or hasattr(sys, "gettotalrefcount")):
        return None  # another object header (a debug or free-threaded build) or another layout
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_libversion.restype = ctypes.c_char_p
        lib.sqlite3_db_filename.restype = ctypes.c_char_p
        lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.sqlite3_busy_handler.argtypes = [ctypes.c_void_p, _HANDLER_TYPE, ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    if lib.sqlite3_libversion().decode() != sqlite3.sqlite_version:
        return None  # not the library the sqlite3 module runs on
    return lib


def install(raw: sqlite3.Connection, *, path: str, limit_ms: int | None) -> bool:
    """Give ``raw`` (a connection to the file ``path``) the short-step busy handler. False
    where it cannot be given; the connection then keeps SQLite's default handler."""
    lib = _library()
    if lib is None or type(raw) is not sqlite3.Connection:
        return False
    db = ctypes.c_void_p.from_address(id(raw) + sys.getsizeof(object())).value  # after the object header
    if not db or (lib.sqlite3_db_filename(db, b"main") or b"").decode() not in (path, os.path.realpath(path)):
        log.warning("sqlite busy handler not installed: the connection's layout is not the one expected")
        return False
    lib.sqlite3_busy_handler(db, _handler(limit_ms), None)
    return True


def register(*, sender: Any, connection: Any, **_kwargs: Any) -> None:
    """``connection_created``: the handler on each new SQLite connection of a file database."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return
    timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)
    install(connection.connection, path=os.path.abspath(name), limit_ms=int(float(timeout) * 1000))


def connect() -> None:
    connection_created.connect(register, dispatch_uid="jiesu.ops.sqlite_busy")
