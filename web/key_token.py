"""The key ring's change token (store/access/apikeys.py), read on the event loop: one GET
for all the requests that arrive while another GET is in flight.

A request must see every key created or revoked before it arrived (a revoked key fails
from the next request on), so its token comes from a GET that starts after it arrived:
requests that come while a GET is in flight wait for the next one and share it. Alone, a
request waits for one GET, as before; under load one GET answers a whole wave of them.
"""

from __future__ import annotations

import asyncio

from redis import asyncio as aioredis


class ChangeToken:
    def __init__(self, redis: aioredis.Redis, key: str) -> None:
        self.redis, self._key = redis, key
        self._next: asyncio.Future[bytes | None] | None = None  # the GET not yet started
        self._reader: asyncio.Task[None] | None = None

    async def read(self) -> bytes | None:
        """The current token (None when there is none); raises RedisError."""
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
                self._next = None  # whoever comes from now on waits for the next GET
                try:
                    raw = await self.redis.get(self._key)
                except asyncio.CancelledError:
                    future.cancel()
                    raise
                except Exception as error:  # every waiter is told (RedisError, mostly)
                    future.set_exception(error)
                else:
                    future.set_result(raw if isinstance(raw, bytes) else None)
        finally:
            self._reader = None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.redis.aclose()


def _retrieved(future: asyncio.Future[bytes | None]) -> None:
    # Marks an error as seen even when every waiter went away (no "never retrieved" log).
    if not future.cancelled():
        future.exception()
