"""Follow a job's WebSocket until the job ends, whatever happens to the connection.

Messages come out strictly in seq order, each exactly once: duplicates are dropped, and
a gap or a dropped connection reconnects with `?after=<last seq>` after an exponential
backoff with jitter. The key, when given, travels as the `jobcast.bearer.<key>`
subprotocol (browsers cannot set headers on a WebSocket; this client does the same).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from client.errors import StreamError

TERMINAL = frozenset({"completed", "failed", "cancelled"})
FATAL_CLOSE = {4400: "bad request", 4401: "missing or bad API key", 4404: "no such job"}
MAX_FAILURES = 8  # failed connects in a row before giving up
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 10.0


def is_terminal(message: dict[str, Any]) -> bool:
    if message["type"] == "snapshot":
        return message["job"]["status"] in TERMINAL
    return message["type"] == "status" and message.get("status") in TERMINAL


def backoff(failures: int) -> float:
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0 ** max(0, failures - 1))
    return ceiling / 2 + random.random() * ceiling / 2


def follow(
    url: str, *, key: str | None = None, after: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the job's snapshot and events until the job is terminal."""
    last = after
    failures = 0
    while True:
        query = "" if last is None else f"?after={last}"
        got_any = False
        try:
            with _connect(url + query, key) as ws:
                for message in _in_order(ws, last):
                    got_any = True
                    last = _seq(message)
                    yield message
                    if is_terminal(message):
                        return
                code = ws.close_code
        except ConnectionClosed as error:
            code = error.rcvd.code if error.rcvd else None
        except InvalidStatus as error:
            if error.response.status_code in (401, 403, 404):
                raise StreamError(f"{url}: HTTP {error.response.status_code}") from None
            code = None
        except (InvalidHandshake, OSError, TimeoutError):
            code = None  # not reachable (yet): back off and try again
        if code in FATAL_CLOSE:
            raise StreamError(f"{url}: {FATAL_CLOSE[code]}", close_code=code)
        failures = 0 if got_any else failures + 1
        if failures >= MAX_FAILURES:
            raise StreamError(f"{url}: gave up after {failures} failed connections")
        time.sleep(backoff(failures) if failures else BACKOFF_BASE_S / 2)


def _seq(message: dict[str, Any]) -> int:
    seq: int = message["job"]["seq"] if message["type"] == "snapshot" else message["seq"]
    return seq


def _connect(url: str, key: str | None) -> ClientConnection:
    protocols = [Subprotocol("jobcast"), Subprotocol(f"jobcast.bearer.{key}")] if key else None
    return connect(url, subprotocols=protocols, open_timeout=10, compression=None)


def _in_order(ws: ClientConnection, last: int | None) -> Iterator[dict[str, Any]]:
    """Messages that follow `last`; stops at a gap so the caller resumes after `last`."""
    for raw in ws:
        message: dict[str, Any] = json.loads(raw)
        if message["type"] == "snapshot":
            last = _seq(message)
        elif last is not None and message["seq"] <= last:
            continue  # already seen
        elif last is None or message["seq"] != last + 1:
            return  # a gap: reconnect with ?after=last
        else:
            last = message["seq"]
        yield message
