"""Who may open a job's WebSocket: an allowed Origin, then a valid key.

A browser cannot set headers on a WebSocket, so the key travels as a subprotocol: the
client offers `["jobcast", "jobcast.bearer.<key>"]` and the server accepts `jobcast`
(the key is never echoed back). A client that cannot set subprotocols sends
`{"type": "auth", "key": "…"}` as its first message, within AUTH_TIMEOUT_S. A key in
the URL is not accepted: URLs end up in logs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from store.errors import ForbiddenOrigin
from web.connections import ConnectionCap
from web.errors import render
from web.keyring import Keyring
from web.ws_inbound import CLOSE_POLICY, Inbound, Violation

SUBPROTOCOL = "jobcast"
KEY_SUBPROTOCOL = "jobcast.bearer."
AUTH_TIMEOUT_S = 5.0
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


async def accept(ws: WebSocket, keyring: Keyring, inbound: Inbound) -> str:
    """Accept the handshake and return the caller's owner, or raise Refused."""
    offered = list(ws.scope.get("subprotocols") or [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    keys = [p[len(KEY_SUBPROTOCOL) :] for p in offered if p.startswith(KEY_SUBPROTOCOL)]
    key = keys[0] if keys else None
    owner = await run_in_threadpool(keyring.owner_for, key)
    if owner is None and key is None:  # a key is needed: it may come as the first message
        owner = await run_in_threadpool(keyring.owner_for, await _key_message(inbound))
    if owner is None:
        raise Refused(CLOSE_UNAUTHORIZED, "invalid API key")
    return owner


async def _key_message(inbound: Inbound) -> str:
    try:
        message = await asyncio.wait_for(inbound.next(), AUTH_TIMEOUT_S)
    except TimeoutError:
        raise Refused(CLOSE_UNAUTHORIZED, "an API key is required") from None
    except Violation as violation:
        raise Refused(violation.code, violation.reason) from None
    if message is None:
        raise Refused(CLOSE_UNAUTHORIZED, "an API key is required")
    key = message.get("key")
    if message.get("type") != "auth" or not isinstance(key, str):
        raise Refused(CLOSE_UNAUTHORIZED, 'the first message must be {"type": "auth", "key": …}')
    return key
