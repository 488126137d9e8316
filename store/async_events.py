"""Publishing events from an event loop (the worker's), many jobs' events at a time.

Events published while a round trip is in flight wait for it, then go to Redis
together: one pipeline of `PUBLISH_SCRIPT` calls (store/events.py). Each call is still
atomic on its own, so the guarantees are the script's: seq assignment, refusal of
events from a stale attempt or for a finished job, the floor. A thousand streaming jobs
then cost a few round trips per coalescing interval, not a thread hop and a round trip
per event (the CPU it saves: docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from store.events import DEFAULT_LOG_SIZE, PUBLISH_SCRIPT, EventKind, Publishing
from store.keys import Keys

# The most events in one pipeline: bounds how long packing one holds the loop.
BATCH = 1000
# Jobs whose packed script name and keys are kept (a worker streams a few hundred).
PREFIXES = 4096
_SHA = hashlib.sha1(PUBLISH_SCRIPT.encode()).hexdigest().encode()

# (the job, its call's ARGV, the caller's future)
Call = tuple[str, list[str | int], "asyncio.Future[int]"]


class AsyncEventChannel(Publishing):
    def __init__(
        self, redis: Redis, keys: Keys, ttl: int, log_size: int = DEFAULT_LOG_SIZE
    ) -> None:
        super().__init__(keys, ttl, log_size)
        self.redis = redis
        self._waiting: list[Call] = []
        self._sender: asyncio.Task[None] | None = None
        # `EVALSHA sha 6 KEYS…` in RESP (and its length), the same for every event of a job.
        self._prefixes: dict[str, tuple[int, bytes]] = {}

    async def publish(
        self,
        job_id: str,
        kind: EventKind,
        payload: dict[str, Any],
        *,
        attempt: int,
        floor: int = 0,
        view: dict[str, Any] | None = None,
    ) -> int:
        """Append one event; returns its seq, or 0 if the channel refused it."""
        args = self._args(job_id, kind, payload, attempt, floor, view, reopen=False)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((job_id, args, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        return await future

    async def _send(self) -> None:
        try:
            while self._waiting:
                # A caller cancelled meanwhile still publishes, as a blocking call would
                # have: its text must neither be lost nor sent twice.
                batch = self._waiting[:BATCH]
                del self._waiting[:BATCH]
                await self._settle(batch)
        finally:
            self._sender = None

    async def _settle(self, batch: list[Call]) -> None:
        try:
            replies = await self._pipeline(batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:  # Redis restarted, or its scripts were flushed
                await self.redis.script_load(PUBLISH_SCRIPT)
                again = await self._pipeline([batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        except asyncio.CancelledError:
            for _, _, future in batch:
                future.cancel()
            raise
        except Exception as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(int(reply))

    async def _pipeline(self, batch: list[Call]) -> list[Any]:
        """Send the batch in one write and read its replies (an error reply as its exception).

        Packed here rather than by redis-py's pipeline, whose per-argument encoding cost
        more loop time than everything else about streaming text (docs/PERFORMANCE.md).
        """
        packed = b"".join(self._packed(job_id, args) for job_id, args, _ in batch)
        pool = self.redis.connection_pool
        connection = await pool.get_connection()
        try:
            await connection.send_packed_command(packed)
            replies: list[Any] = []
            for _ in batch:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as error:  # the stream stays in step: read on
                    replies.append(error)
        except BaseException:
            # Replies may be left unread (cancelled, timed out): never reuse the stream.
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)
        return replies

    def _packed(self, job_id: str, args: list[str | int]) -> bytes:
        """`EVALSHA sha 6 KEYS… ARGV…` in RESP; the part before ARGV is the job's own."""
        known = self._prefixes.get(job_id)
        if known is None:
            if len(self._prefixes) >= PREFIXES:
                self._prefixes.clear()
            keys = self._keys(job_id)
            known = self._prefixes[job_id] = (
                3 + len(keys),
                _bulks([b"EVALSHA", _SHA, len(keys), *keys]),
            )
        count, prefix = known
        return b"*%d\r\n%s%s" % (count + len(args), prefix, _bulks(args))


def _bulks(args: list[Any]) -> bytes:
    """Each argument as a RESP bulk string."""
    parts = []
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bytes):
            data = arg
        else:
            data = b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)
