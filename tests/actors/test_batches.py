"""The worker's group commit: a lone request runs at once; requests made while a batch
runs go together in the next one, each getting its own answer or error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.worker.batches import Batcher

WAIT_S = 30


def test_a_lone_request_is_flushed_at_once_by_its_own_thread() -> None:
    seen: list[tuple[list[int], str]] = []

    def flush(items: list[int]) -> list[int]:
        seen.append((items, threading.current_thread().name))
        return [item * 2 for item in items]

    assert Batcher(flush)(21) == 42
    assert seen == [([21], threading.current_thread().name)]


def test_requests_made_during_a_flush_go_together_in_the_next() -> None:
    first_running, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def flush(items: list[int]) -> list[int | BaseException]:
        batches.append(items)
        if items == [0]:
            first_running.set()
            assert release.wait(WAIT_S)
        return [ValueError(item) if item == 3 else item + 100 for item in items]

    batcher = Batcher(flush)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(batcher, 0)
        assert first_running.wait(WAIT_S)
        later = [pool.submit(batcher, item) for item in range(1, 6)]
        while len(batcher._waiting) < 5:  # all five are queued behind the first flush
            threading.Event().wait(0.001)
        release.set()
        assert first.result(WAIT_S) == 100
        with pytest.raises(ValueError):
            later[2].result(WAIT_S)
        assert [f.result(WAIT_S) for i, f in enumerate(later) if i != 2] == [101, 102, 104, 105]
    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3, 4, 5] and len(batches) == 2


def test_a_failed_flush_fails_every_request_of_its_batch_and_not_the_next() -> None:
    calls = 0

    def flush(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return items

    batcher = Batcher(flush)
    with pytest.raises(ConnectionError):
        batcher("a")
    assert batcher("b") == "b"


def test_a_hundred_threads_each_get_their_own_answer_from_at_most_two_flushes() -> None:
    lock, running, most = threading.Lock(), [0], [0]
    flushed: list[int] = []

    def flush(items: list[int]) -> list[int]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            flushed.extend(items)
        with lock:
            running[0] -= 1
        return [-item for item in items]

    batcher = Batcher(flush, limit=50, flushes=2)
    with ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(batcher, range(500)))
    assert answers == [-item for item in range(500)]
    assert sorted(flushed) == list(range(500)) and most[0] <= 2
