"""The Starlette application (`uvicorn web.app:app`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store.backends import connect
from store.settings import Settings, settings_or_exit
from web import events_ws, health, job_actions, jobs_api
from web.errors import HANDLERS
from web.openapi import openapi_document
from web.relay import Hub

log = logging.getLogger("jobcast.web")


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        assert settings.redis_url is not None
        app.state.backends = connect(settings, name="jobcast-web")
        app.state.hub = Hub(settings.redis_url, app.state.backends.keys)
        await app.state.hub.start()
        log.info(
            "jobcast web: database %s, redis %s, namespace %s",
            settings.database_url,
            settings.redis_url,
            settings.redis_namespace,
        )
        try:
            yield
        finally:
            await app.state.hub.stop()
            app.state.backends.redis.close()
            app.state.backends.engine.dispose()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())

    routes = [
        *jobs_api.routes,
        *job_actions.routes,
        *events_ws.routes,
        *health.routes,
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)


app = create_app(settings_or_exit())
