"""What a WebSocket client may send: a few small JSON text messages, slowly.

The protocol needs nothing from the client (its key comes with the handshake): messages
are read and ignored, within limits. Anything else ends the connection: binary data
1003, a message over MAX_MESSAGE_BYTES 1009, text that is not a JSON object or too many
messages 1008.

The size limit here is a second line: uvicorn's `--ws-max-size` (set in every command
that starts the web process) refuses large frames before they are buffered, with 1009.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.websockets import WebSocket

MAX_MESSAGE_BYTES = 4096
# Messages a client may send: a burst of BURST, then RATE a second.
BURST = 10
RATE = 2.0

CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class Violation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Inbound:
    """Reads one connection's messages, enforcing the rules above."""

    __slots__ = ("_at", "_tokens", "ws")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._tokens = float(BURST)
        self._at = time.monotonic()

    async def next(self) -> dict[str, Any] | None:
        """The next message as a JSON object; None when the client has gone."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        self._count()
        text = message.get("text")
        if text is None:
            raise Violation(CLOSE_UNSUPPORTED, "binary messages are not supported")
        if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
            raise Violation(CLOSE_TOO_BIG, f"messages are limited to {MAX_MESSAGE_BYTES} bytes")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise Violation(CLOSE_POLICY, "messages must be JSON objects") from None
        if not isinstance(data, dict):
            raise Violation(CLOSE_POLICY, "messages must be JSON objects")
        return data

    def _count(self) -> None:
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._at) * RATE)
        self._at = now
        if self._tokens < 1:
            raise Violation(CLOSE_POLICY, "too many messages")
        self._tokens -= 1

    async def drain(self) -> int | None:
        """Read and ignore messages until the client leaves (None) or breaks a rule (code)."""
        try:
            while await self.next() is not None:
                pass
        except Violation as violation:
            return violation.code
        return None
