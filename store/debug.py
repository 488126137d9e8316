"""What an operator sees at `GET /debug`: the worker processes, the jobs running on them,
how many jobs are in each status, and the latest failures. Read-only."""

from __future__ import annotations

import time
from typing import Any, cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.backends import Backends
from store.metrics import WORKER_WINDOW_S
from store.models import Job
from store.times import iso

# Running jobs and failures listed at most: the page stays small on a busy cluster.
MAX_RUNNING = 200
RECENT_FAILURES = 20


def snapshot(b: Backends) -> dict[str, Any]:
    with Session(b.reader) as session:
        counts = dict(session.exec(select(Job.status, func.count()).group_by(Job.status)).all())
        running = [_running(job) for job in session.exec(_running_query()).all()]
        failures = [_failure(job) for job in session.exec(_failures_query()).all()]
    return {
        "workers": _workers(b, running),
        "jobs": {"counts": counts, "running": running},
        "recent_failures": failures,
    }


def _running_query() -> Any:
    started = col(Job.started_at)
    return select(Job).where(Job.status == "running").order_by(started).limit(MAX_RUNNING)


def _failures_query() -> Any:
    finished = col(Job.finished_at)
    return (
        select(Job).where(Job.status == "failed").order_by(finished.desc()).limit(RECENT_FAILURES)
    )


def _running(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "type": job.type,
        "owner": job.owner,
        "worker": job.worker,
        "attempt": job.attempts,
        "progress": job.progress,
        "stage": job.stage,
        "started_at": iso(job.started_at),
        "heartbeat_at": iso(job.heartbeat_at),
    }


def _failure(job: Job) -> dict[str, Any]:
    error = job.error or {}
    return {
        "id": job.id,
        "type": job.type,
        "owner": job.owner,
        "code": error.get("code"),
        "message": error.get("message"),
        "attempts": job.attempts,
        "finished_at": iso(job.finished_at),
    }


def _workers(b: Backends, running: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each process that reported in (Redis heartbeats), with the jobs it runs; a process
    silent for WORKER_WINDOW_S is shown as not alive until the reconciler forgets it."""
    now = time.time()
    # redis-py types the pairs loosely: (member, score) with the member as bytes.
    listed = cast(list[tuple[bytes, float]], b.redis.zrange(b.keys.workers, 0, -1, withscores=True))
    beats = {name.decode(): float(at) for name, at in listed}
    names = sorted(set(beats) | {job["worker"] for job in running if job["worker"]})
    return [
        {
            "name": name,
            "seconds_since_heartbeat": round(now - beats[name], 1) if name in beats else None,
            "alive": name in beats and now - beats[name] < WORKER_WINDOW_S,
            "running": [job["id"] for job in running if job["worker"] == name],
        }
        for name in names
    ]
