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

Even so, psycopg's dumper is a Python loop that calls a dumper, a regular expression and the
escape for each element: with ~120 values an order it was 15 % of the task worker's CPU in the
batch intake (py-spy, docs/benchmarks.md, session 12). ``literal`` writes the array's text at
once for the element types the batch intake sends (text, integers, finite floats and decimals,
booleans, aware datetimes, JSON), and the statement casts it (``(%s)::varchar[]``) as it casts psycopg's own.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import math
from collections.abc import Callable
from typing import Any

from django.db.backends.signals import connection_created


class _Escape:
    """What psycopg's ``ListDumper._re_esc.sub(rb"\\\\\\1", element)`` does, by ``bytes.replace``:
    a backslash before every ``"`` and ``\\`` (PostgreSQL's array input syntax)."""

    @staticmethod
    def sub(_template: bytes, element: Any) -> bytes:
        return bytes(element).replace(b"\\", b"\\\\").replace(b'"', b'\\"')


def literal(values: list[Any]) -> str | None:
    """PostgreSQL's text form of the one-dimensional array ``values`` (``{"a","b",NULL}``), or
    None when an element is of a type this does not write (psycopg adapts the list then). A
    ``str`` subclass (a choice's member) is written as its text, as psycopg writes it.
    Every text is quoted, so none needs the unquoted form's rules (spaces, commas, ``NULL``)."""
    writers = _writers()
    missing = set(map(type, values)) - writers.keys()
    if missing:
        if not all(issubclass(kind, str) for kind in missing):
            return None
        writers = {**writers, **dict.fromkeys(missing, _text)}
    try:
        return "{" + ",".join([writers[type(value)](value) for value in values]) + "}"
    except _Unwritable:
        return None


class _Unwritable(Exception):
    """A value of a known type that the array's text cannot carry as psycopg would."""


def _text(value: str) -> str:
    # A backslash before each backslash and double quote, inside double quotes.
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + value + '"'


def _finite(value: float | decimal.Decimal) -> str:
    if not math.isfinite(value):
        raise _Unwritable
    return repr(value) if type(value) is float else str(value)  # repr: the shortest text of the same double


def _moment(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise _Unwritable  # naive: the field makes it aware first
    # In UTC: an offset of the zone's history with seconds (LMT +08:05:43) never reaches the server.
    return '"' + (value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)).isoformat(" ") + '"'


def _json(value: Any) -> str:
    text = (value.dumps or json.dumps)(value.obj)
    return _text(text.decode() if isinstance(text, bytes) else text)


@functools.cache
def _writers() -> dict[type, Callable[[Any], str]]:
    """The writer of each element type, by exact type (``bool`` is not ``int``'s)."""
    from psycopg.types.json import Json, Jsonb

    return {str: _text, type(None): lambda _value: "NULL", int: str, bool: lambda value: "t" if value else "f",
            float: _finite, decimal.Decimal: _finite, dt.datetime: _moment, Json: _json, Jsonb: _json}


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
