"""The Starlette application (`uvicorn web.app:app`).

Importing this module reads the settings and does no I/O; the app connects to Redis and
the database when its lifespan starts (web/dependencies.py checks them first).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store import tracing
from store.access import apikeys
from store.access.quota import Quotas, SubmissionLimits
from store.backends import async_redis_client, connect
from store.logs import configure as configure_logging
from store.settings import Settings, settings_or_exit
from store.settings_values import redact_url
from web import (
    batches,
    dashboard,
    debug,
    events_ws,
    health,
    job_actions,
    jobs_api,
    metrics,
    results_api,
    usage_api,
)
from web.connections import ConnectionCap
from web.dependencies import CheckDependencies
from web.errors import HANDLERS
from web.key_token import ChangeToken
from web.keyring import Keyring
from web.middleware import middleware
from web.openapi import openapi_document
from web.relay import Hub
from web.submit_queue import SubmitQueue
from web.ws_access import Gate

log = logging.getLogger("jobcast.web")


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        assert settings.redis_url is not None
        tracing.setup(settings.otel, "jobcast-web")
        app.state.metrics_dir = settings.prometheus_multiproc_dir
        app.state.backends = connect(settings, name="jobcast-web")
        app.state.hub = Hub(settings.redis_url, app.state.backends.keys)
        await app.state.hub.start()
        guards = start_guards(app, settings)
        log.info(
            "jobcast web: database %s, redis %s, namespace %s",
            redact_url(settings.database_url),
            redact_url(settings.redis_url),
            settings.redis_namespace,
        )
        # What start-up made lives as long as the process: out of the collector's sight,
        # a full collection under load scans only what requests allocate.
        gc.freeze()
        try:
            yield
        finally:
            await guards.stop()
            if app.state.keyring.token is not None:
                await app.state.keyring.token.close()
            await app.state.hub.stop()
            app.state.backends.redis.close()
            app.state.backends.engine.dispose()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())

    routes = [
        *batches.routes,
        *jobs_api.routes,
        *job_actions.routes,
        *usage_api.routes,
        *results_api.routes,
        *events_ws.routes,
        *health.routes,
        *debug.routes,
        *metrics.routes,
        Route("/openapi.json", openapi, methods=["GET"]),
        *dashboard.routes,
    ]
    return Starlette(
        routes=routes,
        # First: the lifespan below starts only once Redis and the database answer.
        middleware=[Middleware(CheckDependencies, settings=settings), *middleware(settings)],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )


def start_guards(app: Starlette, settings: Settings) -> ConnectionCap:
    """Keys, submission limits and the WebSocket gate; returns what must be stopped."""
    b = app.state.backends
    quotas = Quotas(b)
    assert settings.redis_url is not None
    # One GET in flight at a time (web/key_token.py): two connections are plenty.
    redis = async_redis_client(settings.redis_url, "jobcast-web-keys", pool_size=2)
    token = ChangeToken(redis, b.keys.api_keys_version)
    app.state.keyring = Keyring(b, settings.api_key_pairs, token)
    app.state.admin_owners = settings.admin_owner_set  # who may read GET /debug
    app.state.submission_limits = SubmissionLimits(
        quotas,
        settings.submit_rate,
        settings.submit_burst,
        settings.max_active_jobs,
        budgets=settings.budget_table,
    )
    app.state.submit_queue = SubmitQueue(b, app.state.submission_limits)
    cap = ConnectionCap(quotas, settings.ws_per_owner)
    cap.start()
    app.state.ws_gate = Gate(app.state.keyring, settings.ws_origin_list, cap)
    if settings.api_key_pairs or apikeys.any_stored(b):
        log.info("jobcast web: API keys required")
    else:
        log.warning(
            "jobcast web: no API keys: the API is open to anyone who can reach it until "
            "one is created (JOBCAST_API_KEYS, or `jobcast keys create OWNER`)"
        )
    return cap


def main_app() -> Starlette:
    """The app uvicorn serves: logging is set up as it is imported, after uvicorn's own
    set-up, so every line of the process has jobcast's format."""
    settings = settings_or_exit()
    configure_logging(settings)
    return create_app(settings)


app = main_app()
