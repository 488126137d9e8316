"""A lean HTTP/1.1 keep-alive client and an open-loop (constant-rate) request schedule.

httpx spends about a millisecond of CPU per request; on two cores shared with the
server under test that would measure the client. This client writes a prepared request
and reads one `Content-Length` response per call, on asyncio's protocol layer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


class HttpConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        total = end + 4 + length
        if len(self._buffer) < total:
            return
        status = int(head[9:12])
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self._waiter


def request_bytes(method: str, path: str, body: bytes = b"", port: int = 0) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class Pool:
    """Keep-alive connections to one server, opened on demand up to `limit`."""

    def __init__(self, port: int, limit: int = 256) -> None:
        self.port = port
        self.limit = limit
        self._idle: deque[HttpConnection] = deque()
        self._open = 0
        self._freed = asyncio.Condition()

    async def _get(self) -> HttpConnection:
        while True:
            while self._idle:
                conn = self._idle.popleft()
                if not conn.closed:
                    return conn
                self._open -= 1
            if self._open < self.limit:
                self._open += 1
                loop = asyncio.get_running_loop()
                try:
                    _, conn = await loop.create_connection(HttpConnection, "127.0.0.1", self.port)
                except OSError:
                    self._open -= 1
                    raise
                return conn
            async with self._freed:
                await self._freed.wait()

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        conn = await self._get()
        try:
            return await conn.request(raw)
        finally:
            if conn.closed:
                self._open -= 1
            else:
                self._idle.append(conn)
            async with self._freed:
                self._freed.notify()

    def close(self) -> None:
        for conn in self._idle:
            if conn.transport is not None:
                conn.transport.close()


@dataclass
class RateResult:
    rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0


async def open_loop(pool: Pool, raw: bytes, rate: float, seconds: float) -> RateResult:
    """Send `raw` at `rate` per second for `seconds`, whatever the answers' pace.

    Each latency counts from the moment the request was due, not from when it was sent,
    so a server that falls behind shows its queue in the figures (no coordinated omission).
    """
    result = RateResult(rate, seconds)
    loop = asyncio.get_running_loop()
    count = max(1, int(rate * seconds))
    start = loop.time() + 0.05

    async def one(due: float) -> None:
        try:
            status, _body = await pool.request(raw)
        except OSError:
            result.errors += 1
            return
        result.latencies_ms.append((loop.time() - due) * 1000)
        result.statuses[status] = result.statuses.get(status, 0) + 1

    tasks = []
    for index in range(count):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    result.elapsed = loop.time() - start
    return result
