"""PostgreSQL connections that died while idle in the pool are replaced before use."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from store import db


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = db.make_engine(postgres_url)
    yield engine
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill_backend(postgres_url: str, pid: int) -> None:
    """What a database restart does to a pooled connection: the server side is gone."""
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_that_died_while_idle_is_replaced_unseen(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_backend(postgres_url, _backend_pid(engine))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # it has been idle long enough
    assert _backend_pid(engine) > 0  # no error: the dead connection was pinged and replaced


def test_a_recently_used_connection_is_not_pinged(
    engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _backend_pid(engine)
    _kill_backend(postgres_url, dead)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    with pytest.raises(OperationalError):
        _backend_pid(engine)  # the statement meets the dead connection: no ping first
    assert _backend_pid(engine) != dead  # and the pool replaced it for the next one
