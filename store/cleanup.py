"""What goes with a deleted job: its dependent rows, and its keys in Redis.

Deleting one job (store/jobs/), the owner's finished jobs in bulk
(store/access/bulk.py) and old jobs (store/chores/retention.py) all call these, so a
new kind of per-job state is forgotten in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.exceptions import RedisError
from sqlalchemy import delete
from sqlmodel import Session, col

from store import checkpoints
from store.backends import Backends
from store.enqueued import forget_mark
from store.models import IdempotencyKey

log = logging.getLogger(__name__)


def delete_dependents(session: Session, job_ids: Sequence[str]) -> None:
    """Delete the rows that belong to these jobs, in the caller's transaction."""
    session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.job_id).in_(job_ids)))
    checkpoints.forget(session, job_ids)


def forget_live_state(b: Backends, job_ids: Sequence[str]) -> None:
    """Drop the deleted jobs' Redis keys; best effort, since they expire anyway."""
    for job_id in job_ids:
        try:
            b.events.forget(job_id)
            forget_mark(b, job_id)
        except RedisError as error:
            log.warning("job %s deleted; its Redis keys will expire instead: %s", job_id, error)
            return
