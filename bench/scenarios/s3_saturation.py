"""S3: saturation: no-op jobs through the whole path, beside bare Dramatiq messages.

Ours: a load generator process submits N jobs over HTTP (16 at a time) while one
worker process runs them; the rate is N over the time from the first submission to the
last `completed` event. The bare actor gets N messages enqueued as fast as one process
can, drained by a worker with the same processes, threads and polling. Database writes
per job are counted over the whole run (see dbwrites.py), apart from the worker
processes' heartbeat rows, which come per beat whatever runs.
"""

from __future__ import annotations

import json
import time

from redis import Redis

from bench import dbwrites
from bench.baselines import bare_actor
from bench.env import BenchEnv
from bench.load.burst import accepted, submit_burst
from bench.load.events import Finished
from bench.measure import CpuWindow, children
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import noop
from store.models import WorkerProcess
from store.settings import Settings

PROCESSES, THREADS = 1, 8
WORKER_TABLE = str(WorkerProcess.__tablename__)
CPU_OF = ("worker", "web", "Valkey")


def _ours(env: BenchEnv, sizes: Sizes) -> dict[str, float]:
    work = noop()
    database = env.new_database("s3")
    dbwrites.install(database)
    settings = env.settings("s3", database, **work.settings)
    web = env.uvicorn("s3-web", "web.app:app", settings)
    worker = env.dramatiq("s3-worker", "actors", settings, PROCESSES, THREADS)
    finished = Finished(env.redis_url, settings["JOBCAST_REDIS_NAMESPACE"])
    finished.start()
    try:
        env.wait_web(web)
        warm = submit_burst(web.port, work.body, 20, 4)
        warm.result(timeout=60)
        finished.wait_for(20, timeout=60)
        [process] = children(worker.pid)  # PROCESSES is 1
        cpu = CpuWindow({"worker": process, "web": web.pid, "Valkey": env.valkey_pid}).start()
        child = submit_burst(web.port, work.body, sizes.s3_jobs, 16)
        submitted = child.result(timeout=300)
        accepted(submitted, sizes.s3_jobs)
        finished.wait_for(20 + sizes.s3_jobs, timeout=300)
        used = cpu.stop()
        last = max(finished.times[job_id] for job_id in submitted["ids"])
    finally:
        finished.stop()
        env.stop(web, worker)
    # A worker process's heartbeat row is renewed per beat, not per job: counted apart.
    writes = dbwrites.count(database, without=(WORKER_TABLE,))
    beats = dbwrites.by_table(database).get(WORKER_TABLE, 0)
    return {
        "jobs": len(submitted["ids"]),
        "rate": len(submitted["ids"]) / (last - submitted["start"]),
        "submit_rate": len(submitted["ids"]) / (submitted["end"] - submitted["start"]),
        "writes_per_job": writes / (20 + sizes.s3_jobs),
        "worker_rows": beats,
        "errors": submitted["errors"],
        # CPU per job, ms, from the first submission to the last event seen.
        **{f"cpu_ms_{name}": 1000 * used[name] / sizes.s3_jobs for name in used},
    }


def _bare(env: BenchEnv, sizes: Sizes) -> dict[str, float]:
    namespace = "bench-s3-bare"
    poll_ms = Settings.model_fields["worker_poll_ms"].default
    settings = env.settings(
        "s3-bare",
        "sqlite://",
        BENCH_BARE_ACTOR="1",
        BENCH_NAMESPACE=namespace,
        dramatiq_worker_timeout=str(poll_ms),
    )
    worker = env.dramatiq("s3-bare", "bench.baselines.bare_actor", settings, PROCESSES, THREADS)
    broker = bare_actor.broker(env.redis_url, namespace)
    _, done = bare_actor.keys(namespace)
    redis = Redis.from_url(env.redis_url)
    try:
        for _ in range(20):  # warm-up
            broker.enqueue(bare_actor.message())
        _wait_count(redis, done, 20, worker.check_alive)
        start = time.time()
        for _ in range(sizes.s3_jobs):
            broker.enqueue(bare_actor.message())
        sent = time.time()
        _wait_count(redis, done, 20 + sizes.s3_jobs, worker.check_alive)
        end = time.time()
    finally:
        broker.close()
        redis.close()
        env.stop(worker)
    return {
        "jobs": sizes.s3_jobs,
        "rate": sizes.s3_jobs / (end - start),
        "submit_rate": sizes.s3_jobs / (sent - start),
    }


def _wait_count(redis: Redis, key: str, count: int, alive: object) -> None:
    deadline = time.monotonic() + 300
    while int(redis.get(key) or 0) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bare actor ran {redis.get(key)!r} of {count} messages")
        assert callable(alive)
        alive()
        time.sleep(0.005)


def run(env: BenchEnv, sizes: Sizes) -> Result:
    ours, bare = _ours(env, sizes), _bare(env, sizes)
    rows = [
        [
            "jobcast: POST /jobs → worker → completed",
            str(int(ours["jobs"])),
            fmt(ours["rate"]),
            fmt(ours["submit_rate"]),
            fmt(ours["writes_per_job"], 2),
        ],
        [
            "bare Dramatiq no-op messages",
            str(int(bare["jobs"])),
            fmt(bare["rate"]),
            fmt(bare["submit_rate"]),
            "–",
        ],
    ]
    checks = [
        Check(
            "no-op jobs/s through the whole path",
            ours["rate"],
            "≥ 25 % of the bare rate",  # issue 16's target (was 50 %)
            ours["rate"] >= 0.25 * bare["rate"],
            unit="/s",
            baseline=bare["rate"],
        ),
        Check(
            "database rows written per job (the workers' heartbeat rows apart)",
            ours["writes_per_job"],
            "≤ 3",  # insert, claim, complete (issue 16)
            ours["writes_per_job"] <= 3,
        ),
    ]
    return Result(
        "S3",
        "Saturation: no-op jobs through HTTP, database, queue and events",
        ["path", "jobs", "jobs/s end to end", "sent/s", "DB rows written per job"],
        rows,
        checks,
        setup=(
            f"Job: {noop().name}. One web process; one worker process with {THREADS} "
            f"threads for both (polling as in S2). {sizes.s3_jobs} jobs after 20 to warm up."
        ),
        notes=[
            f"Rows written to the `{WORKER_TABLE}` table (each worker process's heartbeat, "
            f"renewed every few seconds whatever it runs): {ours['worker_rows']:g}, not "
            "counted per job.",
            "CPU per job (ms, from the first submission to the last `completed`): "
            + ", ".join(f"{name} {ours[f'cpu_ms_{name}']:.2f}" for name in CPU_OF),
        ],
        data={"ours": ours, "bare": bare, "details": json.dumps(ours)},
    )
