"""Database engine set-up for SQLite (several writer processes) and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A pooled connection idle for this long is pinged before it is used again.
PING_AFTER_IDLE_S = 5.0


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # The timeouts keep a request against an unreachable database host under 5 s (then
    # it answers 503): connecting gives up after 3 s, and a connection whose host went
    # silent is dropped once what we sent stays unacknowledged for 4 s (TCP_USER_TIMEOUT,
    # in ms).
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_timeout=5,
        connect_args={"connect_timeout": 3, "tcp_user_timeout": 4000},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """A process outlives database restarts without a round trip per transaction.

    pool_pre_ping would ping on every checkout. Here only a connection that sat idle for
    PING_AFTER_IDLE_S is pinged (a restart during a quiet spell is found before a request
    fails); one that breaks under load fails its statement once, and SQLAlchemy then
    replaces every connection the pool held before that moment.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (or a new one).
            raise DisconnectionError(f"idle connection is gone: {error}") from error


def _sqlite_engine(url: str) -> Engine:
    # NullPool: SQLite connections are cheap, and no connection outlives its transaction.
    engine = create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions (see _on_begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that upgrades to a
        # writer later fails with SQLITE_BUSY at once instead of waiting busy_timeout.
        # Readers (see `for_reading`) stay deferred, so in WAL mode they never wait.
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


_BEGIN_OPTION = "jobcast_sqlite_begin"


def for_reading(engine: Engine) -> Engine:
    """The same engine for read-only work: on SQLite its transactions do not lock."""
    return engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
