"""A throw-away PostgreSQL database per test session, on the server TEST_DATABASE_URL names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql


def _plain(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy may have been given postgresql+psycopg://."""
    _scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"jobcast_test_{uuid.uuid4().hex[:10]}"
    admin = _plain(admin_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin.rpartition("/")
    try:
        yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
