"""Rows written to a stack's database, counted without touching jobcast's code.

PostgreSQL counts them itself (`pg_stat_user_tables`); on SQLite, triggers on every
table log each written row to a table of the bench's own. Read the count after the
stack's processes have stopped: PostgreSQL backends report their counts as they exit.
"""

from __future__ import annotations

import time

import psycopg
from sqlalchemy import create_engine, text

IGNORED = ("alembic_version", "bench_writes")


def install(url: str) -> None:
    """Prepare counting (SQLite only: PostgreSQL needs nothing)."""
    if not url.startswith("sqlite"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_writes (tbl TEXT, op TEXT)"))
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        for (table,) in list(tables):
            if table in IGNORED or table.startswith("sqlite_"):
                continue
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER bench_{table}_{op.lower()} AFTER {op} ON {table} "
                        f"BEGIN INSERT INTO bench_writes VALUES ('{table}', '{op}'); END"
                    )
                )
    engine.dispose()


def count(url: str) -> int:
    """Rows inserted, updated or deleted so far in every table of jobcast's."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM bench_writes")).scalar_one()
        engine.dispose()
        return int(total)
    time.sleep(0.5)  # backends that just exited flush their statistics
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_user_tables WHERE relname <> ALL(%s)",
            (list(IGNORED),),
        ).fetchone()
    return int(row[0]) if row else 0
