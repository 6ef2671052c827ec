"""``jiesu.ops.heap.settle``: what a long-running process has loaded is frozen out of the cycle
collector's walks, and its youngest generation is widened (the process hooks call it)."""

from __future__ import annotations

import gc
import logging

import pytest

from jiesu.ops import heap


@pytest.fixture
def restored_gc():
    """The test process's collector as it was, whatever a test did to it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_what_is_alive_and_widens_the_youngest_generation(restored_gc):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    kept = [object() for _ in range(10)], {"k": []}
    warmed = []
    heap.settle(warm=lambda: warmed.append(True))
    assert warmed == [True]
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, 10, 10)
    # A frozen object is not in any generation a collection walks.
    assert not any(o is kept[1] for o in gc.get_objects())
    # A cycle made afterwards is still collected.
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_a_failing_warm_up_is_logged_and_the_heap_is_settled_anyway(restored_gc, caplog):
    gc.unfreeze()

    def broken() -> None:
        raise RuntimeError("no database yet")

    with caplog.at_level(logging.WARNING, logger="jiesu.ops"):
        heap.settle(warm=broken)
    assert "warming the process up" in caplog.text
    assert gc.get_freeze_count() > 0


def test_a_wider_threshold_set_by_the_operator_is_kept(restored_gc):
    gc.set_threshold(50_000, 20, 20)
    heap.settle()
    assert gc.get_threshold() == (50_000, 20, 20)


def test_the_task_worker_settles_its_heap_once_triage_is_loaded(monkeypatch):
    from jiesu.ops.management.commands import jiesu_worker

    calls = []
    monkeypatch.setattr(heap, "settle", lambda *, warm: calls.append(warm))
    monkeypatch.setattr(jiesu_worker, "requeue_orphans", lambda: None)
    monkeypatch.setattr(jiesu_worker.Command, "run_worker", lambda self, **options: calls.append("run"))
    jiesu_worker.Command().handle(recover_every=0, intake_every=0)
    assert calls == [jiesu_worker._load_triage, "run"]
