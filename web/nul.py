"""NUL characters are refused at the edge: PostgreSQL text cannot hold them.

A NUL in a URL or in a string of a JSON body would otherwise reach a query or a text
column and fail there, as a server error, on PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from store.errors import BadRequest
from web.errors import render


def contains_nul(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included) holds a NUL."""
    pending = [value]
    while pending:  # no recursion: parsed JSON may be nested about a thousand deep
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list):
            pending += item
    return False


class RejectNulInUrl:
    """ASGI middleware: 400 for a request whose path or query holds a NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            if scope["type"] == "websocket":  # refused before the handshake: HTTP 403
                await send({"type": "websocket.close", "code": 1008})
                return
            response = render(BadRequest("the URL contains a NUL character"))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
