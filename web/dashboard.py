"""`GET /`: the browser dashboard, and `/static/*`: its ES modules and CSS (no build step)."""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"

# Everything the page loads is ours; model output is only ever set as text, and this
# policy is the second line of defence should that ever slip.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class StaticAssets(StaticFiles):
    """Static files that browsers revalidate (cheap, with ETag), so an upgrade shows at once."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def index(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
        media_type="text/html; charset=utf-8",
    )


routes = [
    Route("/", index, methods=["GET"]),
    Mount("/static", app=StaticAssets(directory=STATIC), name="static"),
]
