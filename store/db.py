"""Database engine set-up for SQLite (several writer processes) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # pool_pre_ping: a web process outlives database restarts. The timeouts keep a
    # request against an unreachable database host under 5 s (then it answers 503):
    # connecting gives up after 3 s, and a connection whose host went silent is dropped
    # once what we sent stays unacknowledged for 4 s (TCP_USER_TIMEOUT, in ms).
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=5,
        connect_args={"connect_timeout": 3, "tcp_user_timeout": 4000},
    )


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
