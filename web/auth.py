"""Who is calling: the owner whose jobs a request may see.

`RequireKey` authenticates every HTTP request once, at the edge, and records the owner in
the request's scope; routes ask `owner_of()`. When no key exists at all (a development
set-up), every caller is `anonymous`. The WebSocket route authenticates itself (see
web/ws_access.py), because a browser cannot set headers on a WebSocket.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from store.errors import INFRASTRUCTURE_ERRORS, Unauthorized, Unavailable
from web.errors import render
from web.keyring import ANONYMOUS, Keyring

__all__ = ["ANONYMOUS", "RequireKey", "owner_of", "set_owner"]

log = logging.getLogger(__name__)

_OWNER = "jobcast.owner"
# Open without a key: the health check, and the dashboard page with its static files
# (the page asks the user for a key and sends it with every API call it makes).
PUBLIC_PATHS = frozenset({"/health", "/"})
PUBLIC_PREFIXES = ("/static/",)


def owner_of(connection: HTTPConnection) -> str:
    owner = connection.scope.get(_OWNER)
    if not isinstance(owner, str):
        # A route that is not behind RequireKey (or a WebSocket not yet authenticated):
        # a bug, and never a reason to fall back to some owner.
        raise RuntimeError(f"no authenticated owner for {connection.url.path}")
    return owner


def set_owner(connection: HTTPConnection, owner: str) -> None:
    connection.scope[_OWNER] = owner


def bearer_key(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


class RequireKey:
    """ASGI middleware: 401 without a valid `Authorization: Bearer` key, once keys exist."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        keyring: Keyring = scope["app"].state.keyring
        header = Headers(scope=scope).get("authorization")
        key = bearer_key(header)
        try:
            owner = await keyring.check(key)
        except INFRASTRUCTURE_ERRORS as error:
            log.warning("cannot check API keys: %s", type(error).__name__)
            response = render(Unavailable("cannot check API keys; try again"))
            await response(scope, receive, send)
            return
        if owner is None:
            await unauthorized(header is not None)(scope, receive, send)
            return
        scope[_OWNER] = owner
        await self.app(scope, receive, send)


def unauthorized(key_given: bool) -> JSONResponse:
    message = (
        "invalid API key" if key_given else "an API key is required: Authorization: Bearer <key>"
    )
    return render(Unauthorized(message, key_given))
