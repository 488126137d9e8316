"""`GET /debug`: the operators' view of the cluster (store/debug.py).

With API keys on, only owners listed in JOBCAST_ADMIN_OWNERS may read it; anyone else
gets the 404 of a route that does not exist, so the page is not advertised to them.
Without keys (development) it is open, as the rest of the API is.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store.debug import snapshot
from web.auth import owner_of
from web.keyring import ANONYMOUS, Keyring


async def may_debug(request: Request) -> bool:
    owner = owner_of(request)
    if owner in request.app.state.admin_owners:
        return True
    keyring: Keyring = request.app.state.keyring
    # ANONYMOUS is every caller when no key is required, and nobody's name otherwise.
    return owner == ANONYMOUS and await run_in_threadpool(keyring.owner_for, None) == ANONYMOUS


async def debug(request: Request) -> JSONResponse:
    if not await may_debug(request):
        raise HTTPException(404)
    return JSONResponse(await run_in_threadpool(snapshot, request.app.state.backends))


routes = [Route("/debug", debug, methods=["GET"])]
