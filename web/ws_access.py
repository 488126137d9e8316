"""Who may open a job's WebSocket: an allowed Origin, then a valid key.

The key comes with the handshake. A browser cannot set headers on a WebSocket, so there
it travels as a subprotocol: the client offers `["jobcast", "jobcast.bearer.<key>"]` and
the server accepts `jobcast` (the key is never echoed back). Other programs may send
`Authorization: Bearer <key>` instead, as on every other route. A key in the URL is not
accepted: URLs end up in logs.

A handshake without a valid key is closed with 4401 at once: the server waits for
nothing from a caller it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.websockets import WebSocket

from store.errors import ForbiddenOrigin
from web.auth import bearer_key
from web.connections import ConnectionCap
from web.errors import render
from web.keyring import Keyring
from web.ws_inbound import CLOSE_POLICY

SUBPROTOCOL = "jobcast"
KEY_SUBPROTOCOL = "jobcast.bearer."
CLOSE_UNAUTHORIZED = 4401


@dataclass(frozen=True)
class Gate:
    """What a connection must pass before it is served."""

    keyring: Keyring
    origins: list[str]
    cap: ConnectionCap


class Refused(Exception):
    """The connection must end now, with this close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    """True without an allow-list; else an Origin header must be in it (or it is "*").

    Browsers always send Origin, and the check is there to stop other sites' pages;
    programs that send none cannot be told apart by it anyway (they could send any).
    """
    origin = ws.headers.get("origin")
    return not allowed or "*" in allowed or origin is None or origin in allowed


async def deny_origin(ws: WebSocket) -> None:
    """Refuse the handshake itself: HTTP 403 in the API's error shape."""
    if "websocket.http.response" not in ws.scope.get("extensions", {}):
        await ws.close(CLOSE_POLICY)  # before accepting: the server answers 403 itself
        return
    await ws.send_denial_response(
        render(ForbiddenOrigin("this Origin may not open WebSockets here"))
    )


async def accept(ws: WebSocket, keyring: Keyring) -> str:
    """Accept the handshake and return the caller's owner, or raise Refused."""
    offered = list(ws.scope.get("subprotocols") or [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    keys = [p[len(KEY_SUBPROTOCOL) :] for p in offered if p.startswith(KEY_SUBPROTOCOL)]
    key = keys[0] if keys else bearer_key(ws.headers.get("authorization"))
    owner = await keyring.check(key)
    if owner is None:
        reason = "an API key is required" if key is None else "invalid API key"
        raise Refused(CLOSE_UNAUTHORIZED, reason)
    return owner
