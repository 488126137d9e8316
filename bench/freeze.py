"""Freezing worker processes (SIGSTOP) so that jobs wait, for benchmarks and tests.

A worker frozen inside a SQLite write transaction would keep the write lock: every
other writer (a submit) would wait `busy_timeout` and fail. So a freeze is retried until
the worker holds no write lock. PostgreSQL locks only the rows a transaction touched,
and a frozen worker has no job row locked between statements that others need.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import Iterator

TRIES = 200


def freeze(pids: list[int], database_url: str) -> None:
    """SIGSTOP `pids` at a moment when none of them holds the SQLite write lock."""
    for _ in range(TRIES):
        _signal(pids, signal.SIGSTOP)
        if _sqlite_writable(database_url):
            return
        _signal(pids, signal.SIGCONT)
        time.sleep(0.005)  # let the writer finish its transaction
    raise RuntimeError("the worker never let go of the SQLite write lock")


def thaw(pids: list[int]) -> None:
    _signal(pids, signal.SIGCONT)


@contextlib.contextmanager
def frozen(pids: list[int], database_url: str) -> Iterator[None]:
    freeze(pids, database_url)
    try:
        yield
    finally:
        thaw(pids)


def _signal(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        os.kill(pid, signum)


def _sqlite_writable(database_url: str) -> bool:
    """True unless another connection holds the write lock of the SQLite database."""
    if not database_url.startswith("sqlite:///"):
        return True
    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0.05)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
