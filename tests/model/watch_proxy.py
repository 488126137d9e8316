"""A loopback TCP proxy between the workers and a model server that records each HTTP
exchange: what was asked (body, `response_format`), the status the server answered,
whether its response ended, and who closed first.

It is how a test sees, from outside both processes, that a cancelled job's request was
closed by the worker and then let go by the server: the proxy passes the worker's close
on as a half-close (FIN) and keeps reading, so a server that ignored the close would
still be seen finishing its answer, and one that stopped is seen closing its side with
the answer unfinished.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.stack import free_port

LAST_CHUNK = b"\r\n0\r\n\r\n"


@dataclass
class Exchange:
    """One request and its response, as they passed through the proxy."""

    started: float
    upstream_port: int  # the proxy's own port towards the server: the server's "client"
    head: bytes = b""
    body: bytes = b""
    body_left: int | None = None  # None until the request head is complete
    status: int | None = None
    response_bytes: int = 0
    tail: bytes = b""  # the response's last bytes, to see its terminating chunk
    finished: bool = False  # the response's last chunk went through
    client_closed_at: float | None = None  # the worker hung up before the response ended
    server_closed_at: float | None = None  # then the server closed its side
    bytes_after_close: int = 0  # what the server still sent after the worker hung up

    @property
    def request(self) -> dict[str, Any]:
        try:
            parsed: dict[str, Any] = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return parsed

    @property
    def json_mode(self) -> str | None:
        return (self.request.get("response_format") or {}).get("type")

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class _Connection:
    upstream_port: int
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def current(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


class WatchProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.exchanges: list[Exchange] = []
        self._changed = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._listener.close()

    def seen(self, marker: str = "") -> list[Exchange]:
        with self._changed:
            return [e for e in self.exchanges if marker in e.text]

    def wait_for(self, condition: Any, timeout: float) -> bool:
        with self._changed:
            return bool(self._changed.wait_for(condition, timeout=timeout))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                return  # closed
            upstream.settimeout(None)
            connection = _Connection(upstream.getsockname()[1])
            for target, args in (
                (self._requests, (client, upstream, connection)),
                (self._responses, (upstream, client, connection)),
            ):
                threading.Thread(target=target, args=args, daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket, c: _Connection) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                self._request_data(c, data)
                upstream.sendall(data)
        with self._changed:
            exchange = c.current
            if exchange is not None and not exchange.finished:
                exchange.client_closed_at = time.monotonic()
            self._changed.notify_all()
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_WR)  # the worker's close, passed on as a FIN

    def _responses(self, upstream: socket.socket, client: socket.socket, c: _Connection) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                self._response_data(c, data)
                with contextlib.suppress(OSError):
                    client.sendall(data)  # the worker may have gone: keep reading
        with self._changed:
            exchange = c.current
            if exchange is not None and exchange.client_closed_at is not None:
                exchange.server_closed_at = time.monotonic()
            self._changed.notify_all()
        for sock in (client, upstream):
            sock.close()

    def _request_data(self, c: _Connection, data: bytes) -> None:
        with self._changed:
            exchange = c.current
            if exchange is None or (exchange.body_left == 0 and exchange.status is not None):
                exchange = Exchange(time.monotonic(), c.upstream_port)
                c.exchanges.append(exchange)
                self.exchanges.append(exchange)
            if exchange.body_left is None:
                exchange.head += data
                head, sep, rest = exchange.head.partition(b"\r\n\r\n")
                if not sep:
                    return
                exchange.head = head
                exchange.body_left = _content_length(head)
                data = rest
            exchange.body += data
            exchange.body_left = max(0, exchange.body_left - len(data))
            self._changed.notify_all()

    def _response_data(self, c: _Connection, data: bytes) -> None:
        with self._changed:
            exchange = c.current
            if exchange is None:
                return
            if exchange.client_closed_at is not None:
                exchange.bytes_after_close += len(data)
            if exchange.status is None and data.startswith(b"HTTP/"):
                exchange.status = int(data.split(b" ", 2)[1])
            exchange.response_bytes += len(data)
            exchange.tail = (exchange.tail + data)[-len(LAST_CHUNK) :]
            # A chunked answer ends with an empty chunk; an error answer is one JSON body.
            exchange.finished |= exchange.tail == LAST_CHUNK or (
                exchange.status is not None and exchange.status >= 400
            )
            self._changed.notify_all()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0
