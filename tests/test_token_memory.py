"""The memory of accepted API tokens (jiesu.accounts.token_memory): pure, no database."""

from __future__ import annotations

import threading

from jiesu.accounts.token_memory import TokenMemory


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rows_are_recalled_until_their_seconds_have_passed():
    clock = Clock()
    memory = TokenMemory(clock=clock)
    memory.remember("a", [(1, "x")], seconds=5, read_at_generation=memory.generation)
    assert memory.recall("a") == ((1, "x"),)
    clock.now += 4.99
    assert memory.recall("a") == ((1, "x"),)
    clock.now += 0.01
    assert memory.recall("a") is None
    assert len(memory) == 0  # an expired entry is dropped when it is asked for
    assert memory.recall("never") is None


def test_nothing_is_remembered_with_no_seconds():
    memory = TokenMemory(clock=Clock())
    memory.remember("a", [(1,)], seconds=0, read_at_generation=memory.generation)
    assert memory.recall("a") is None and len(memory) == 0


def test_rows_read_before_a_forget_all_are_not_remembered_after_it():
    memory = TokenMemory(clock=Clock())
    generation = memory.generation  # a request starts reading the token's rows …
    memory.forget_all()  # … another thread saves a revocation …
    memory.remember("a", [(1,)], seconds=5, read_at_generation=generation)  # … the stale rows arrive
    assert memory.recall("a") is None
    memory.remember("a", [(1,)], seconds=5, read_at_generation=memory.generation)
    assert memory.recall("a") == ((1,),)
    memory.forget_all()
    assert memory.recall("a") is None


def test_past_its_size_the_memory_starts_again():
    memory = TokenMemory(max_entries=3, clock=Clock())
    for key in "abc":
        memory.remember(key, [(key,)], seconds=5, read_at_generation=memory.generation)
    assert len(memory) == 3
    memory.remember("d", [("d",)], seconds=5, read_at_generation=memory.generation)
    assert len(memory) == 1 and memory.recall("d") == (("d",),) and memory.recall("a") is None


def test_threads_remember_and_forget_without_losing_the_memory_s_shape():
    memory = TokenMemory(max_entries=50, clock=Clock())
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = f"{n}-{i % 80}"
                memory.remember(key, [(n, i)], seconds=5, read_at_generation=memory.generation)
                rows = memory.recall(key)
                assert rows is None or rows[0][0] == n
                if i % 500 == 0:
                    memory.forget_all()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(memory) <= 50
