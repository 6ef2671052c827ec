"""Pure rules of the integrations, without a database: backoff and webhook signatures."""

from __future__ import annotations

import datetime as dt

from jiesu.integrations import signing
from jiesu.integrations.retry import Backoff


def test_backoff_doubles_up_to_the_cap_and_gives_up_after_the_last_attempt():
    b = Backoff(base_seconds=30, cap_seconds=300, max_attempts=6)
    assert [b.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    now = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    assert b.next_at(1, now) == now + dt.timedelta(seconds=30)
    assert b.next_at(5, now) == now + dt.timedelta(seconds=300)
    assert b.next_at(6, now) is None


def test_backoff_reads_partial_settings():
    b = Backoff.from_settings({"base_seconds": 5})
    assert (b.base_seconds, b.max_attempts) == (5.0, Backoff.max_attempts)


def test_a_signature_verifies_only_with_the_secret_the_body_and_a_fresh_timestamp():
    body = b'{"event":"replied"}'
    value = signing.header("s3cret", 1_800_000_000, body)
    assert value.startswith("t=1800000000,v1=") and len(value.split("v1=")[1]) == 64
    assert signing.verify("s3cret", value, body, now=1_800_000_100)
    assert not signing.verify("other", value, body, now=1_800_000_100)
    assert not signing.verify("s3cret", value, body + b" ", now=1_800_000_100)
    assert not signing.verify("s3cret", value, body, now=1_800_000_000 + 301)  # too old: a replay
    assert not signing.verify("s3cret", "garbage", body, now=1_800_000_000)
