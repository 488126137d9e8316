"""The web process checks Redis and the database as its lifespan starts.

Importing `web.app` does no I/O, so routes can be tested in-process and a process
manager can import it at any time. When a server starts the app, this middleware runs
first in the ASGI lifespan, before the app's own lifespan opens its connections: a
dependency that is down, or a database not migrated, is one line on stderr and the
start-up fails (uvicorn then exits with code 3).

It is not an exception raised in Starlette's lifespan function: Starlette hands the
server the traceback of anything raised there, and uvicorn logs it. A dependency that
is down is a matter of configuration, and deserves one line.
"""

from __future__ import annotations

import sys

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store import preflight
from store.settings import Settings


class DependencyDown(Exception):
    """The app did not start: Redis or the database is not usable (said on stderr)."""


class CheckDependencies:
    """ASGI middleware: the app's lifespan starts only once Redis and the database answer."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        startup = await receive()
        problem = await run_in_threadpool(preflight.problem, self.settings)
        if problem is not None:
            print(f"jobcast: {problem}", file=sys.stderr)
            # Without a message: uvicorn would log it again, as an error of its own.
            await send({"type": "lifespan.startup.failed", "message": ""})
            # The server knows already (uvicorn stays quiet); a TestClient raises this.
            raise DependencyDown(problem)
        await self.app(scope, _replay(startup, receive), send)


def _replay(first: Message, receive: Receive) -> Receive:
    """`receive`, answering `first` (already taken from it) once before anything else."""
    pending = [first]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again
