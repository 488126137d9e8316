"""The cap on open WebSocket connections per owner, across all web processes.

Each connection holds a lease in Redis (store/access/quota.py) from its acceptance to its end;
this process renews the leases of its open connections every RENEW_S, so the leases of
a process that died expire within LEASE_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from store.access.quota import Quotas

log = logging.getLogger(__name__)

LEASE_S = 60.0
RENEW_S = 20.0
CLOSE_TOO_MANY = 4429  # as HTTP 429: this owner has too many connections open


class ConnectionCap:
    def __init__(self, quotas: Quotas, per_owner: int) -> None:
        self.quotas = quotas
        self.per_owner = per_owner
        self._open: dict[str, str] = {}  # lease id → owner
        self._task: asyncio.Task[None] | None = None

    async def acquire(self, owner: str) -> str | None:
        """A lease id for a new connection of `owner`, or None at the cap."""
        lease = uuid.uuid4().hex
        granted = await run_in_threadpool(
            self.quotas.acquire_connection, owner, lease, self.per_owner, LEASE_S
        )
        if not granted:
            return None
        self._open[lease] = owner
        return lease

    async def release(self, lease: str) -> None:
        owner = self._open.pop(lease, None)
        if owner is None:
            return
        try:
            await run_in_threadpool(self.quotas.release_connection, owner, lease)
        except RedisError as error:  # the lease expires by itself
            log.warning("could not release a connection lease: %s", error)

    def start(self) -> None:
        self._task = asyncio.create_task(self._renew_forever(), name="jobcast-ws-leases")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            leases = [(owner, lease) for lease, owner in self._open.items()]
            try:
                await run_in_threadpool(self.quotas.renew_connections, leases, LEASE_S)
            except RedisError as error:
                log.warning("could not renew connection leases: %s", error)
