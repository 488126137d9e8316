"""A TCP relay in the root namespace that can hold back what a server sends.

This machine's kernel has no `netem` queueing discipline (`tc qdisc add … netem` answers
"Specified qdisc kind is unknown"), so a slow link is made here instead: the bed's
hosts reach PostgreSQL through this relay on the bridge's address, and `delay` holds
every chunk the server sends for that long before passing it on, in order (what netem
on the database host's interface would do to its replies). It also carries hosts to
services that listen on the root namespace's loopback only (RabbitMQ).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time


class Relay:
    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.listen, self.target = listen, target
        self.delay = 0.0  # seconds added to everything the server sends
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="relay")
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the relay on {self.listen} did not start")

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, *self.listen)
        )
        self._ready.set()
        self._loop.run_forever()
        self._server.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pump(client_r, server_w, delayed=False),
            self._pump(server_r, client_w, delayed=True),
        )

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, delayed: bool
    ) -> None:
        # Chunks wait in a queue with their due time, so a delay keeps their order.
        due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.create_task(self._send(due, sink))
        with contextlib.suppress(OSError):
            while chunk := await source.read(65536):
                await due.put((time.monotonic() + (self.delay if delayed else 0.0), chunk))
        await due.put((0.0, b""))
        await sender

    @staticmethod
    async def _send(due: asyncio.Queue[tuple[float, bytes]], sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while True:
                when, chunk = await due.get()
                if not chunk:
                    break
                if (wait := when - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                sink.write(chunk)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()
