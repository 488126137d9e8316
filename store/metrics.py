"""The figures `GET /metrics` reports for the whole deployment, read from the database and
Redis at scrape time (web/metrics.py renders them).

Nothing here is kept in a process: every web process answers with the same numbers, and
a restart loses none. Counters live in Redis, so they start again from zero if Redis
loses its data; Prometheus treats that as a counter reset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from store.access.quota import ACTIVE
from store.backends import Backends
from store.models import Job

WORKER_WINDOW_S = 30


@dataclass
class Figures:
    database_up: bool = False
    redis_up: bool = False
    # Unfinished jobs by status (finished ones only grow; their rate is in status_changes).
    active_jobs: dict[str, int] = field(default_factory=dict)
    # Status events published, by status: `running` counts attempts started.
    status_changes: dict[str, int] = field(default_factory=dict)
    # Messages waiting in each Dramatiq queue (not yet fetched by a worker).
    queued: dict[str, int] = field(default_factory=dict)
    workers: int = 0
    duplicate_deliveries: int = 0


def gather(b: Backends, queues: list[str]) -> Figures:
    """What the database and Redis say now; a dependency that is down is reported as such."""
    figures = Figures()
    try:
        figures.active_jobs = _active_jobs(b)
        figures.database_up = True
    except SQLAlchemyError:
        pass
    try:
        _from_redis(b, queues, figures)
        figures.redis_up = True
    except RedisError:
        pass
    return figures


def _active_jobs(b: Backends) -> dict[str, int]:
    query = (
        select(Job.status, func.count())
        .where(col(Job.status).in_(ACTIVE))
        .group_by(col(Job.status))
    )
    with Session(b.reader) as session:
        counts = {status: int(count) for status, count in session.exec(query)}
    return {status: counts.get(status, 0) for status in ACTIVE}


def _from_redis(b: Backends, queues: list[str], figures: Figures) -> None:
    with b.redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(b.keys.status_changes)
        pipe.zcount(b.keys.workers, time.time() - WORKER_WINDOW_S, "+inf")
        pipe.get(b.keys.duplicate_deliveries)
        for queue in queues:
            pipe.llen(b.keys.dramatiq_queue(queue))
        changes, workers, duplicates, *lengths = pipe.execute()
    figures.status_changes = {key.decode(): int(value) for key, value in changes.items()}
    figures.workers = int(workers)
    figures.duplicate_deliveries = int(duplicates or 0)
    figures.queued = dict(zip(queues, (int(n) for n in lengths), strict=True))
