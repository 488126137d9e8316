"""One read for many asking callers, on an event loop: a Redis value that every caller must
see as of a moment after it asked (web/key_token.py, actors/pipeline/capacity.py).

Each caller's answer comes from a read that starts after it asked: callers that come while
a read is in flight wait for the next one and share it. Alone, a caller waits for one
read; under load one read answers a whole wave of callers, so hundreds of them cost one
round trip instead of hundreds queued on a client's few connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._next: asyncio.Future[T] | None = None  # the read not yet started
        self._reader: asyncio.Task[None] | None = None

    async def __call__(self) -> T:
        """The value, from a read that started after this call; raises what the read raised."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._next.add_done_callback(_retrieved)
        future = self._next
        if self._reader is None:
            self._reader = asyncio.create_task(self._run())
        # Shielded: a caller that goes away must not cancel the others' answer.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            while (future := self._next) is not None:
                self._next = None  # whoever comes from now on waits for the next read
                try:
                    value = await self._read()
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as error:  # every waiter is told (RedisError, mostly)
                    future.set_exception(error)
                else:
                    future.set_result(value)
        finally:
            self._reader = None

    def cancel(self) -> None:
        """Stop the read in flight (at shutdown); its waiters are cancelled."""
        if self._reader is not None:
            self._reader.cancel()


def _retrieved(future: asyncio.Future[Any]) -> None:
    # Marks an error as seen even when every waiter went away (no "never retrieved" log).
    if not future.cancelled():
        future.exception()
