"""The loop that ``jiesu serve`` runs the periodic commands in."""

from __future__ import annotations

import os
import signal

import pytest

from jiesu.ops.periodic import repeat


def test_once_runs_one_round_and_lets_an_error_through():
    rounds = []
    repeat(every=0, name="t", run=lambda: rounds.append(1))
    assert rounds == [1]

    def boom() -> None:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        repeat(every=0, name="t", run=boom)


def test_a_loop_outlives_a_bad_round_and_stops_on_sigterm(caplog):
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    rounds = []

    def run() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("database away")  # logged; the next round still comes
        os.kill(os.getpid(), signal.SIGTERM)  # as `jiesu serve` stops its children

    try:
        repeat(every=1, name="sweep", run=run)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert len(rounds) == 2
    assert "sweep: round failed" in caplog.text
