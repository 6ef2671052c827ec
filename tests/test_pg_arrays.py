"""The faster array escaping (``jiesu.ops.pg_arrays``): the same bytes as psycopg's own, and
values that need every kind of escaping come back from PostgreSQL unchanged."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from jiesu.ops.pg_arrays import _Escape
from jiesu.orders.models import IntakeReceipt

PG = connection.vendor == "postgresql"
PSYCOPG_ESCAPE = re.compile(rb'(["\\])')  # psycopg.types.array.ListDumper._re_esc, 3.2–3.3

AWKWARD = [
    "",
    "NULL",
    "null",
    '"',
    "\\",
    '\\"',
    "a,b",
    "{x}",
    " lead and trail ",
    "路灯 “坏了”",
    "it's",
    "line\nbreak\ttab",
    '\\\\"\\"',
    '{"a": "b"}',
]


@given(st.binary())
def test_escaping_gives_psycopgs_bytes(data: bytes):
    assert _Escape.sub(rb"\\\1", data) == PSYCOPG_ESCAPE.sub(rb"\\\1", data)


def test_escaping_takes_buffers():
    assert _Escape.sub(b"", memoryview(b'a"b\\')) == b'a\\"b\\\\'


@pytest.mark.skipif(not PG, reason="PostgreSQL only: SQLite has no array parameters")
@pytest.mark.django_db
class TestOnPostgres:
    def test_the_connection_uses_it(self):
        connection.ensure_connection()
        dumper = connection.connection.adapters.get_dumper(list, "s")
        assert dumper.__name__ == "EscapingListDumper"
        assert getattr(dumper, "_re_esc", None).__class__ is _Escape

    def test_text_arrays_come_back_unchanged(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT x FROM UNNEST(%s::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i", [AWKWARD]
            )
            assert [row[0] for row in cursor.fetchall()] == AWKWARD

    def test_nested_arrays_come_back_unchanged(self):
        nested = [['"a"', "b\\"], ["NULL", "{c}"]]
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::text[]", [nested])
            assert cursor.fetchone()[0] == nested

    def test_a_batch_of_json_rows_comes_back_unchanged(self):
        """``bulk_create`` on PostgreSQL sends each column as one array (Django's UNNEST)."""
        payloads = [{"content": text, "list": [text, {"k": text}], "n": i} for i, text in enumerate(AWKWARD)]
        now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
        made = IntakeReceipt.objects.bulk_create(
            [
                IntakeReceipt(owner="test", key=text, payload=p, received_at=now)
                for text, p in zip([f"k{i}" for i in range(len(payloads))], payloads, strict=True)
            ]
        )
        back = dict(IntakeReceipt.objects.filter(pk__in=[r.pk for r in made]).values_list("key", "payload"))
        assert back == {f"k{i}": p for i, p in enumerate(payloads)}
