"""The cancel signal: how a worker on any host learns that its job was cancelled.

The database row is the truth (`cancelled`, written by store/jobs/); this pub/sub
message only makes the worker hear of it at once. A worker that misses it (Redis blip)
still stops when it next renews the attempt's lease and finds the attempt over.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from store.backends import Backends

log = logging.getLogger(__name__)


def announce(b: Backends, job_id: str) -> None:
    try:
        b.redis.publish(b.keys.cancel_channel, job_id)
    except RedisError as error:
        log.warning("job %s cancelled; its worker will notice at its next lease: %s", job_id, error)
