"""Array parameters without a Python call per escaped character (PostgreSQL, psycopg 3).

Django 5.2 inserts a batch of rows on PostgreSQL as ``INSERT … SELECT * FROM UNNEST(%s::jsonb[],
…)``: one array parameter per column. psycopg writes such an array in PostgreSQL's text format
and escapes each element's double quotes and backslashes with ``re.sub`` and a replacement
template, which costs a Python call per character escaped. A JSON value is mostly quotes: the
batch intake's 200 triage suggestions (about 1 KB of JSON each) took 55 ms of the worker's CPU
to send, 45 of them in that escaping (``bench/intake_batch.py``, docs/benchmarks.md, session 8).
The same escaping done with two ``bytes.replace`` calls gives the same bytes in a fraction of
that time.

The dumper is registered on each new connection (``connection_created``), for ``list`` in text
format, which is the one psycopg picks for Django's parameters. Its nested lists and element
types are psycopg's own (``ListDumper.upgrade`` makes instances of this class for them).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.backends.signals import connection_created


class _Escape:
    """What psycopg's ``ListDumper._re_esc.sub(rb"\\\\\\1", element)`` does, by ``bytes.replace``:
    a backslash before every ``"`` and ``\\`` (PostgreSQL's array input syntax)."""

    @staticmethod
    def sub(_template: bytes, element: Any) -> bytes:
        return bytes(element).replace(b"\\", b"\\\\").replace(b'"', b'\\"')


@functools.cache
def _list_dumper() -> type:
    from psycopg.types.array import ListDumper

    class EscapingListDumper(ListDumper):
        _re_esc = _Escape()  # type: ignore[assignment]

    return EscapingListDumper


def register(*, sender: Any, connection: Any, **_kwargs: Any) -> None:
    """``connection_created``: use the faster array dumper on a new psycopg 3 connection."""
    if connection.vendor != "postgresql" or not hasattr(connection.connection, "adapters"):
        return  # SQLite, or psycopg 2 (which adapts lists itself)
    connection.connection.adapters.register_dumper(list, _list_dumper())


def connect() -> None:
    connection_created.connect(register, dispatch_uid="jiesu.ops.pg_arrays")
