"""The attempts a worker process runs: a stop reaches each of them, and a shutdown also
reaches one that starts after it (its message taken just as the worker began to stop)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from actors.worker.active import ActiveAttempts


async def test_after_stop_all_an_attempt_that_starts_is_stopped_at_once() -> None:
    active = ActiveAttempts()
    before = asyncio.create_task(asyncio.sleep(60))
    with active.track("job-1", 1, before, threading.Event()) as first:
        assert active.stop_all("shutdown") == 1
        with pytest.raises(asyncio.CancelledError):
            await before

        after = asyncio.create_task(asyncio.sleep(60))
        with (
            active.track("job-2", 1, after, threading.Event()) as second,
            pytest.raises(asyncio.CancelledError),
        ):
            await after

    assert (first.reason, second.reason) == ("shutdown", "shutdown")
    assert first.stopped.is_set() and second.stopped.is_set()
    assert len(active) == 0
