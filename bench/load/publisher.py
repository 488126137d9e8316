"""A worker stand-in for S4 and S5: running jobs whose progress events the bench paces.

It makes jobs `running` through the lifecycle (`store.jobs`) and reports progress
through the worker's own `Reporter`, so each event takes the path a worker's does (one
Lua step: seq, replay log, live view, PUBLISH). Pacing them here, rather than in a
pipeline, lets a scenario offer exact event rates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from redis.asyncio import Redis as AsyncRedis

from store import jobs
from store.async_events import AsyncEventChannel
from store.backends import Backends, connect
from store.reporter import Reporter
from store.settings import Settings

# The row copies progress once (the first report); these jobs exist to be watched.
PERSIST_EVERY_S = 3600.0


class Publisher:
    def __init__(self, env: dict[str, str]) -> None:
        settings = Settings(
            DATABASE_URL=env["DATABASE_URL"],
            REDIS_URL=env["REDIS_URL"],
            JOBCAST_REDIS_NAMESPACE=env["JOBCAST_REDIS_NAMESPACE"],
        )
        self.b: Backends = connect(settings, name="bench-publisher")
        self.redis_url = env["REDIS_URL"]
        self.ttl = settings.job_ttl
        self.reporters: dict[str, Reporter] = {}

    def running_jobs(self, count: int) -> list[str]:
        ids = []
        for _ in range(count):
            job = jobs.create(self.b, type="chat", params={"prompt": "watched"})
            jobs.claim(self.b, job.id)
            ids.append(job.id)
        return ids

    def run(self, schedule: Iterable[tuple[float, str, str]]) -> int:
        """Publish a progress event per (due time.monotonic(), job, stage), in order."""
        return asyncio.run(self._run(schedule))

    async def _run(self, schedule: Iterable[tuple[float, str, str]]) -> int:
        redis = AsyncRedis.from_url(self.redis_url)
        events = AsyncEventChannel(redis, self.b.keys, self.ttl)
        sent = 0
        try:
            for due, job_id, stage in schedule:
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                reporter = self._reporter(job_id, events)
                await reporter.progress(
                    min(98, reporter.progress_value + 1), f"event {sent}", stage
                )
                sent += 1
        finally:
            await redis.aclose()
        return sent

    def _reporter(self, job_id: str, events: AsyncEventChannel) -> Reporter:
        """The job's reporter, publishing on this run's loop (each run() has its own)."""
        reporter = self.reporters.get(job_id)
        if reporter is None:
            reporter = Reporter(self.b, events, job_id, 1, persist_every=PERSIST_EVERY_S)
            self.reporters[job_id] = reporter
        reporter.events = events
        return reporter

    def finish(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            jobs.complete(self.b, job_id, 1, {"text": ""}, {})

    def close(self) -> None:
        self.b.redis.close()
        self.b.engine.dispose()
