"""A lean WebSocket client: websockets' own protocol (sans I/O) on asyncio's protocol layer.

The `websockets` asyncio client runs tasks and futures per connection and per message;
with thousands of connections on a shared 2-core machine that would measure the client.
This one parses frames with the same library and hands each text message to a callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


class Watcher(asyncio.Protocol):
    def __init__(self, url: str, on_text: Callable[[Watcher, str], None]) -> None:
        self.url = url
        self.on_text = on_text
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.messages = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    self.messages += 1
                    self.on_text(self, bytes(event.data).decode())
            elif isinstance(event, Response) and not self.opened.done():
                if event.status_code == 101:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(ConnectionError(f"HTTP {event.status_code}"))
        self._flush()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.protocol.close_code)

    def _flush(self) -> None:
        assert self.transport is not None
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.protocol.close_expected():
            self.transport.close()

    def close(self) -> None:
        """Close from our side (1000) and let the server finish the handshake."""
        if self.transport is not None and not self.transport.is_closing():
            self.protocol.send_close(1000)
            self._flush()


async def open_all(
    urls: list[str], on_text: Callable[[Watcher, str], None], at_once: int = 100
) -> list[Watcher]:
    """Connect every URL, `at_once` handshakes at a time (a burst would overflow backlogs)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(at_once)
    port_of = {url: parse_uri(url).port for url in urls}

    async def one(url: str) -> Watcher:
        async with gate:
            _, watcher = await loop.create_connection(
                lambda: Watcher(url, on_text), "127.0.0.1", port_of[url]
            )
            await watcher.opened
            return watcher

    return list(await asyncio.gather(*(one(url) for url in urls)))
