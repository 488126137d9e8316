"""Coalescing streamed text into `output` events, one every `interval` seconds at most."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

log = logging.getLogger(__name__)

Publish = Callable[[str], Awaitable[None]]

# Tokens arrive every few milliseconds; a frame per token would swamp browsers and
# Redis. 75 ms is below what a reader notices and keeps the text visibly streaming.
DEFAULT_INTERVAL = 0.075


class OutputStream:
    """`async with ctx.stream(stage) as out: await out.write(text)`."""

    def __init__(self, publish: Publish, interval: float = DEFAULT_INTERVAL) -> None:
        self._publish = publish
        self.interval = interval
        self._buffer: list[str] = []
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._last_flush = 0.0
        self.text = ""

    async def write(self, text: str) -> None:
        self._buffer.append(text)
        self.text += text
        loop = asyncio.get_running_loop()
        wait = self._last_flush + self.interval - loop.time()
        if wait <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_later(wait))

    async def flush(self) -> None:
        async with self._lock:
            self._last_flush = asyncio.get_running_loop().time()
            if not self._buffer:
                return
            chunk = "".join(self._buffer)
            self._buffer.clear()
            try:
                await self._publish(chunk)
            except Exception:
                self._buffer.insert(0, chunk)  # not sent: it goes with the next flush
                raise
            # The interval counts from the publish's end: when Redis is slow to answer,
            # the text written meanwhile goes out together, not an event per token.
            self._last_flush = asyncio.get_running_loop().time()

    async def _flush_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._timer = None
        try:
            await self.flush()
        except Exception as error:  # nobody awaits this task: the next flush retries
            log.warning("streamed output not published yet (%s); retrying with the next", error)

    async def __aenter__(self) -> OutputStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # Text already written reaches clients even when the step failed or was cancelled.
        await asyncio.shield(self.flush())
