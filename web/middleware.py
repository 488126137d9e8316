"""The middleware around every route: CORS outermost (off unless configured), then the
NUL guard (web/nul.py), then keys.

CORS must come first: a browser's preflight carries no Authorization header, and a
401 needs CORS headers for the page's script to read it.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from store.errors import CorsRefused
from store.settings import Settings
from web.auth import RequireKey
from web.errors import render
from web.nul import RejectNulInUrl


class Cors(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the API's error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = render(CorsRefused(bytes(response.body).decode()))
        for name, value in response.headers.items():
            if name.startswith("access-control-") or name == "vary":
                refused.headers[name] = value
        return refused


def middleware(settings: Settings) -> list[Middleware]:
    stack = [Middleware(RejectNulInUrl), Middleware(RequireKey)]
    if settings.cors_origin_list:
        cors = Middleware(
            Cors,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Location", "Retry-After", "WWW-Authenticate"],
            max_age=600,
        )
        stack.insert(0, cors)
    return stack
