"""Start-up checks: a process that cannot reach its dependencies says so in one line."""

from __future__ import annotations

import sys

from redis import RedisError
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from store.backends import redis_client
from store.db import for_reading, make_engine
from store.settings import Settings, redact_url


def _fail(message: str) -> None:
    print(f"jobcast: {message}", file=sys.stderr)
    raise SystemExit(2)


def require_redis(settings: Settings) -> str:
    if settings.redis_url is None:
        _fail(
            "REDIS_URL is not set: point it at Redis (`make run` starts an embedded "
            "server for development)"
        )
    assert settings.redis_url is not None
    return settings.redis_url


def check_or_exit(settings: Settings) -> None:
    url = require_redis(settings)
    try:
        client = redis_client(url, "jobcast-preflight", pool_size=1)
        try:
            client.ping()
        finally:
            client.connection_pool.disconnect()
    except RedisError as error:
        _fail(f"cannot reach Redis at {redact_url(url)}: {error}")
    engine = make_engine(settings.database_url)
    try:
        with for_reading(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
            tables = inspect(connection)
            migrated = tables.has_table("job") and tables.has_table("api_key")
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        _fail(f"cannot reach the database at {redact_url(settings.database_url)}: {reason}")
    finally:
        engine.dispose()
    if not migrated:
        where = redact_url(settings.database_url)
        _fail(f"the database at {where} is not migrated: run `make migrate`")
