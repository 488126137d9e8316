"""Start-up checks: a process that cannot reach its dependencies says so in one line.

They run when a process starts serving (a worker as it boots, the web in its lifespan,
the keys command before it acts), never when a module is imported.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import pika
from pika.exceptions import AMQPError
from redis import RedisError
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from store.backends import redis_client
from store.db import for_reading, make_engine
from store.settings import Settings
from store.settings_values import redact_url


def _fail(message: str) -> NoReturn:
    print(f"jobcast: {message}", file=sys.stderr)
    raise SystemExit(2)


def require_redis(settings: Settings) -> str:
    """REDIS_URL, or one line and exit 2: a setting, checked without connecting."""
    if settings.redis_url is None:
        _fail(
            "REDIS_URL is not set: point it at Redis (`make run` starts an embedded "
            "server for development)"
        )
    return settings.redis_url


def problem(settings: Settings) -> str | None:
    """Why this process cannot serve (one line), or None when Redis and the database answer."""
    url = require_redis(settings)
    try:
        client = redis_client(url, "jobcast-preflight", pool_size=1)
        try:
            client.ping()
        finally:
            client.connection_pool.disconnect()
    except RedisError as error:
        return f"cannot reach Redis at {redact_url(url)}: {error}"
    if settings.broker == "rabbitmq" and settings.rabbitmq_url:
        found = _rabbitmq_problem(settings.rabbitmq_url)
        if found is not None:
            return found
    return _database_problem(settings.database_url)


def _rabbitmq_problem(url: str) -> str | None:
    """Connect and disconnect: wrong host, credentials or vhost show here, not at a send."""
    try:
        parameters = pika.URLParameters(url)
        parameters.socket_timeout = parameters.stack_timeout = 5
        pika.BlockingConnection(parameters).close()
    except (AMQPError, OSError, ValueError) as error:
        reason = str(error) or "no answer (refused or timed out)"
        return f"cannot reach RabbitMQ at {redact_url(url)}: {reason}"
    return None


def _database_problem(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with for_reading(engine).connect() as connection:
            connection.execute(text("SELECT 1"))
            tables = inspect(connection)
            migrated = tables.has_table("job") and tables.has_table("api_key")
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return f"cannot reach the database at {redact_url(url)}: {reason}"
    finally:
        engine.dispose()
    if not migrated:
        return f"the database at {redact_url(url)} is not migrated: run `make migrate`"
    return None


def check_or_exit(settings: Settings) -> None:
    """For a process entry point: a problem is one line on stderr and exit 2."""
    found = problem(settings)
    if found is not None:
        _fail(found)
