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


def count(url: str, without: tuple[str, ...] = ()) -> int:
    """Rows inserted, updated or deleted so far in jobcast's tables, but those `without`."""
    return sum(n for table, n in by_table(url).items() if table not in without)


def by_table(url: str) -> dict[str, int]:
    """Rows inserted, updated or deleted so far in each of jobcast's tables."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT tbl, count(*) FROM bench_writes GROUP BY tbl"))
            counts = {str(table): int(n) for table, n in rows}
        engine.dispose()
        return counts
    time.sleep(0.5)  # backends that just exited flush their statistics
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        stats = conn.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_user_tables WHERE relname <> ALL(%s)",
            (list(IGNORED),),
        ).fetchall()
    return {str(table): int(n) for table, n in stats}
