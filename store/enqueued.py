"""Which jobs have a `run_job` message on its way, so the reconciler can find lost ones.

A mark is set just before a message is sent and removed when a worker receives it. A
pending or retrying job without a mark (Redis was flushed or restarted, or the send
failed) has no message: the reconciler sends it again. Marks expire, so a stale one
can hide a lost message for at most `MARK_TTL_S` (and a duplicate message is harmless:
claiming is conditional).
"""

from __future__ import annotations

import contextlib

from redis.exceptions import RedisError

from store.backends import Backends

MARK_TTL_S = 600


def mark(b: Backends, job_id: str, delay_s: float = 0.0) -> None:
    b.redis.set(b.keys.enqueued(job_id), "1", ex=MARK_TTL_S + int(delay_s))


def forget_mark(b: Backends, job_id: str) -> None:
    b.redis.delete(b.keys.enqueued(job_id))


def received(b: Backends, job_id: str) -> None:
    """A worker got the job's message; best effort (the mark expires anyway)."""
    with contextlib.suppress(RedisError):
        forget_mark(b, job_id)


def received_many(b: Backends, job_ids: list[str]) -> None:
    """`received` for several jobs, in one command."""
    with contextlib.suppress(RedisError):
        b.redis.delete(*[b.keys.enqueued(job_id) for job_id in job_ids])


def unmarked(b: Backends, job_ids: list[str]) -> list[str]:
    """The jobs among `job_ids` that have no message on its way."""
    if not job_ids:
        return []
    with b.redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.exists(b.keys.enqueued(job_id))
        found = pipe.execute()
    return [job_id for job_id, exists in zip(job_ids, found, strict=True) if not exists]
