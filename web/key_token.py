"""The key ring's change token (store/access/apikeys.py), read on the event loop.

A request must see every key created or revoked before it arrived (a revoked key fails
from the next request on), so its token comes from a GET that starts after it arrived;
requests that arrive together share that GET (store/shared_read.py).
"""

from __future__ import annotations

from redis import asyncio as aioredis

from store.shared_read import SharedRead


class ChangeToken:
    def __init__(self, redis: aioredis.Redis, key: str) -> None:
        self.redis, self._key = redis, key
        self._shared = SharedRead(self._get)

    async def read(self) -> bytes | None:
        """The current token (None when there is none); raises RedisError."""
        return await self._shared()

    async def _get(self) -> bytes | None:
        raw = await self.redis.get(self._key)
        return raw if isinstance(raw, bytes) else None

    async def close(self) -> None:
        self._shared.cancel()
        await self.redis.aclose()
