"""SQLite shared by several writer processes (web + workers): no write is lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlmodel import Session, func, select

from store.db import for_reading, make_engine
from store.migrate import upgrade
from store.models import Job

PROCESSES = 4
JOBS_EACH = 40


def _insert_and_update(url: str, worker: int) -> None:
    engine = make_engine(url)
    for n in range(JOBS_EACH):
        with Session(engine) as session, session.begin():
            session.add(Job(type="chat", params={"n": n}, owner=f"w{worker}"))
        with Session(engine) as session, session.begin():
            # Read-then-write, the pattern that loses updates without BEGIN IMMEDIATE.
            rows = session.exec(select(Job).where(Job.owner == f"w{worker}")).all()
            for row in rows:
                row.progress += 1
                session.add(row)
    engine.dispose()


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_insert_and_update, args=(url, n)) for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    engine = make_engine(url)
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(Job)).one()
        total = session.exec(select(func.sum(Job.progress))).one()
    engine.dispose()
    assert count == PROCESSES * JOBS_EACH
    # Job k of a worker is incremented once for itself and once per later job: sum of 1..N.
    assert total == PROCESSES * JOBS_EACH * (JOBS_EACH + 1) // 2


def test_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add(Job(type="chat", params={}))
    with Session(engine) as writer, writer.begin():
        writer.add(Job(type="chat", params={}))
        writer.flush()  # holds the write lock until the block ends
        with Session(for_reading(engine)) as reader:
            assert reader.exec(select(func.count()).select_from(Job)).one() == 1
    engine.dispose()
