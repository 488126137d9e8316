"""S9: fair share: a small owner's start delay behind a large owner's backlog.

Owner `big` submits a burst of short jobs (8 clients at once); right after, owner
`small` submits a few, one at a time at a steady pace, while the backlog drains. A small
job's start delay is its `started_at − created_at`. The same run with JOBCAST_FAIR_SHARE
off is the baseline: the small owner's jobs then wait behind the whole backlog. Both runs
also give the rate at which all the jobs complete, and the scheduler's own cost per job
is timed apart: the Redis steps a fair-share job adds (join the owner's pending set, the
pick, the slot's release), with 3 owners and with 100 owners waiting. (A worker also
reads the message's own job once per message, not timed here.)
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
from redis import Redis

from bench.env import BenchEnv
from bench.load.events import Finished
from bench.measure import summary
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import chat
from store import fairshare
from store.backends import Backends
from store.fairshare import FairPolicy
from store.keys import Keys

KEYS = {"big": "bench-fairness-key-big", "small": "bench-fairness-key-small"}
TTFT, TPS, TOKENS = 0.05, 100.0, 20
# The burst is sent this many at a time, so a backlog builds faster than it drains.
BURST_CLIENTS = 8


def _submit(url: str, owner: str, count: int, every_s: float = 0.0) -> list[str]:
    body = {"type": "chat", "params": {"prompt": "fair"}}
    headers = {"Authorization": f"Bearer {KEYS[owner]}"}
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        for _ in range(count):
            answer = api.post("/jobs", json=body)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
            time.sleep(every_s)
    return ids


def _burst(url: str, count: int) -> list[str]:
    shares = [count // BURST_CLIENTS + (n < count % BURST_CLIENTS) for n in range(BURST_CLIENTS)]
    with ThreadPoolExecutor(BURST_CLIENTS) as pool:
        return [
            job_id for ids in pool.map(lambda n: _submit(url, "big", n), shares) for job_id in ids
        ]


def _delays_s(url: str, ids: list[str]) -> list[float]:
    headers = {"Authorization": f"Bearer {KEYS['small']}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        jobs = [api.get(f"/jobs/{job_id}").json() for job_id in ids]
    return [_at(job["started_at"]) - _at(job["created_at"]) for job in jobs]


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _run(env: BenchEnv, sizes: Sizes, fair: bool) -> dict[str, Any]:
    name = "s8-fair" if fair else "s8-fifo"
    work = chat(TTFT, TPS, TOKENS)
    api_keys = ",".join(f"{owner}:{key}" for owner, key in KEYS.items())
    extra = {"JOBCAST_FAIR_SHARE": str(fair).lower(), "JOBCAST_API_KEYS": api_keys}
    settings = env.settings(name, env.new_database(name), **work.settings, **extra)
    web = env.uvicorn(f"{name}-web", "web.app:app", settings)
    worker = env.dramatiq(f"{name}-worker", "actors", settings, 1, sizes.s9_threads)
    finished = Finished(env.redis_url, settings["JOBCAST_REDIS_NAMESPACE"])
    finished.start()
    try:
        env.wait_web(web)
        start = time.time()
        with ThreadPoolExecutor(BURST_CLIENTS) as pool:
            shares = [
                sizes.s9_big // BURST_CLIENTS + (n < sizes.s9_big % BURST_CLIENTS)
                for n in range(BURST_CLIENTS)
            ]
            big = [i for ids in pool.map(lambda n: _submit(web.url, "big", n), shares) for i in ids]
        small = _submit(web.url, "small", sizes.s9_small, sizes.s9_every_s)
        finished.wait_for(len(big) + len(small), timeout=600)
        end = max(finished.times.values())
        delays = _delays_s(web.url, small)
    finally:
        finished.stop()
        env.stop(web, worker)
    return {"delays": summary(delays), "rate": (len(big) + len(small)) / (end - start)}


def _scheduler_cost_us(env: BenchEnv, owners: int, jobs: int) -> float:
    """Microseconds of Redis steps per job: add, pick, release."""
    redis = Redis.from_url(env.redis_url)
    keys = Keys(f"bench-s8-cost-{uuid.uuid4().hex[:6]}")
    b = Backends(None, None, redis, keys, None)  # type: ignore[arg-type]  # only Redis is used
    policy = FairPolicy(caps={"*": jobs})
    try:
        t0 = time.perf_counter()
        for n in range(jobs):
            fairshare.add(b, f"owner-{n % owners}", f"job-{n}", 0)
        for _ in range(jobs):
            picked = fairshare.pick(b, policy, 60)
            assert isinstance(picked, fairshare.Picked)
            fairshare.release(b, picked.owner, picked.job_id)
        return (time.perf_counter() - t0) / jobs * 1e6
    finally:
        redis.close()


def run(env: BenchEnv, sizes: Sizes) -> Result:
    fair, fifo = _run(env, sizes, True), _run(env, sizes, False)
    cost = {n: _scheduler_cost_us(env, n, sizes.s9_cost_jobs) for n in (3, 100)}
    rows = [
        [label, fmt(r["delays"]["p50"], 2), fmt(r["delays"]["p99"], 2), fmt(r["rate"])]
        for label, r in (("fair share on", fair), ("fair share off (FIFO)", fifo))
    ]
    checks = [
        Check(
            "small owner's start delay p50",
            fair["delays"]["p50"],
            "≤ 25 % of FIFO's",
            fair["delays"]["p50"] <= 0.25 * fifo["delays"]["p50"],
            unit=" s",
            baseline=fifo["delays"]["p50"],
        ),
        Check(
            "small owner's start delay p99",
            fair["delays"]["p99"],
            "≤ 25 % of FIFO's",
            fair["delays"]["p99"] <= 0.25 * fifo["delays"]["p99"],
            unit=" s",
            baseline=fifo["delays"]["p99"],
        ),
        Check(
            "jobs/s with fair share on",
            fair["rate"],
            "≥ 90 % of FIFO's",
            fair["rate"] >= 0.9 * fifo["rate"],
            unit="/s",
            baseline=fifo["rate"],
        ),
        Check("scheduler cost per job, 3 owners", cost[3], "≤ 1000 µs", cost[3] <= 1000, " µs"),
        Check(
            "scheduler cost per job, 100 owners", cost[100], "≤ 2000 µs", cost[100] <= 2000, " µs"
        ),
    ]
    return Result(
        "S9",
        "Fair share: a small owner behind a large owner's backlog",
        ["run", "small owner's start delay p50 (s)", "p99 (s)", "jobs/s, all jobs"],
        rows,
        checks,
        setup=(
            f"Job: {chat(TTFT, TPS, TOKENS).name}. One web process, one worker process with "
            f"{sizes.s9_threads} threads. Owner big submits {sizes.s9_big} jobs, then owner "
            f"small {sizes.s9_small}, one every {sizes.s9_every_s:g} s. Scheduler cost: "
            f"{sizes.s9_cost_jobs} jobs through add, pick and release, from the bench process."
        ),
        data={"fair": fair, "fifo": fifo, "cost_us": cost},
    )
