"""S2: pickup on an idle system: submit → `running` seen on a WebSocket, beside a bare actor.

One job at a time, each after the worker has idled for a while. Ours is what a user
sees: from sending `POST /jobs` to the WebSocket message that shows the job running
(the snapshot, when the worker was quicker than the connection, else the status
event). The bare actor's is Dramatiq's own send → start.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

from redis import Redis
from websockets.asyncio.client import connect

from bench.baselines import bare_actor
from bench.env import BenchEnv
from bench.load.http import HttpConnection, request_bytes
from bench.measure import CpuWindow, children, summary
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import Workload, noop
from store.settings import Settings


async def _one(port: int, body: bytes) -> float:
    loop = asyncio.get_running_loop()
    _, http = await loop.create_connection(HttpConnection, "127.0.0.1", port)
    t0 = time.perf_counter()
    status, answer = await http.request(request_bytes("POST", "/jobs", body, port))
    assert status == 202, answer
    job_id = json.loads(answer)["id"]
    async with connect(f"ws://127.0.0.1:{port}/jobs/{job_id}/events", compression=None) as ws:
        async for raw in ws:
            message = json.loads(raw)
            status = (
                message["job"]["status"] if message["type"] == "snapshot" else message.get("status")
            )
            if status not in (None, "pending"):
                elapsed = (time.perf_counter() - t0) * 1000
                break
    assert http.transport is not None
    http.transport.close()
    return elapsed


def _ours(
    env: BenchEnv, sizes: Sizes, work: Workload, rng: random.Random
) -> tuple[list[float], dict[str, float]]:
    settings = env.settings("s2", env.new_database("s2"), **work.settings)
    web = env.uvicorn("s2-web", "web.app:app", settings)
    worker = env.dramatiq("s2-worker", "actors", settings, processes=1, threads=8)
    try:
        env.wait_web(web)
        asyncio.run(_one(web.port, work.body))  # warm-up; also waits for the worker
        samples = []
        for _ in range(sizes.s2_jobs):
            time.sleep(rng.uniform(*sizes.s2_idle_s))  # the scenario: an idle worker
            samples.append(asyncio.run(_one(web.port, work.body)))
        return samples, _idle_cost(env, worker.pid, sizes.s2_idle_cost_s)
    finally:
        env.stop(web, worker)


def _idle_cost(env: BenchEnv, worker_pid: int, seconds: float) -> dict[str, float]:
    """What an idle worker costs: Redis commands/s and CPU of its polling."""
    redis = Redis.from_url(env.redis_url)
    pids = {"worker": children(worker_pid)[0], "valkey": env.valkey_pid}
    before = int(redis.info("stats")["total_commands_processed"])
    cpu = CpuWindow(pids).start()
    time.sleep(seconds)
    cpu.stop()
    commands = int(redis.info("stats")["total_commands_processed"]) - before - 1
    redis.close()
    return {
        "commands_per_s": commands / cpu.seconds,
        "worker_cores": cpu.share("worker"),
        "valkey_cores": cpu.share("valkey"),
    }


def _bare(env: BenchEnv, sizes: Sizes, poll_ms: int, rng: random.Random) -> list[float]:
    namespace = f"bench-s2-bare-{poll_ms}"
    settings = env.settings(
        "s2-bare",
        "sqlite://",
        BENCH_BARE_ACTOR="1",
        BENCH_NAMESPACE=namespace,
        dramatiq_worker_timeout=str(poll_ms),
    )
    worker = env.dramatiq(f"s2-bare-{poll_ms}", "bench.baselines.bare_actor", settings, 1, 8)
    broker = bare_actor.broker(env.redis_url, namespace)
    started, _ = bare_actor.keys(namespace)
    redis = Redis.from_url(env.redis_url)
    try:
        samples = []
        for index in range(sizes.s2_jobs + 1):
            if index:
                time.sleep(rng.uniform(*sizes.s2_idle_s))
            broker.enqueue(bare_actor.message(time.time()))
            reply = redis.blpop([started], timeout=60)
            worker.check_alive()
            assert reply is not None, "the bare actor did not run"
            sent, start = json.loads(reply[1])
            if index:  # the first one is a warm-up, like ours
                samples.append((start - sent) * 1000)
        return samples
    finally:
        broker.close()
        redis.close()
        env.stop(worker)


def run(env: BenchEnv, sizes: Sizes) -> Result:
    rng = random.Random(2)
    work = noop()
    poll_ms = Settings.model_fields["worker_poll_ms"].default
    ours_samples, idle = _ours(env, sizes, work, rng)
    runs = {
        f"jobcast (worker polls ≤ {poll_ms} ms)": ours_samples,
        f"bare Dramatiq actor, same polling ({poll_ms} ms)": _bare(env, sizes, poll_ms, rng),
        "bare Dramatiq actor, Dramatiq's default polling (1000 ms)": _bare(env, sizes, 1000, rng),
    }
    stats = {name: summary(samples) for name, samples in runs.items()}
    rows = [
        [name, str(s["n"]), fmt(s["p50"]), fmt(s["p99"]), fmt(s["max"])]
        for name, s in stats.items()
    ]
    ours, bare, _ = stats.values()
    checks = [
        Check("pickup p50", ours["p50"], "≤ 20 ms", ours["p50"] <= 20, unit="ms"),
        Check(
            "pickup p50 vs the bare actor (same polling)",
            ours["p50"],
            "≤ 1.5× the bare actor",
            ours["p50"] <= 1.5 * bare["p50"],
            unit="ms",
            baseline=bare["p50"],
        ),
    ]
    return Result(
        "S2",
        "Pickup on an idle system: submit → running",
        ["path", "jobs", "p50 ms", "p99 ms", "max ms"],
        rows,
        checks,
        setup=(
            f"Job: {work.name}. One web process and one worker process (8 threads). Each "
            f"job is submitted after {sizes.s2_idle_s[0]:g}–{sizes.s2_idle_s[1]:g} s of idle "
            "worker (random). Ours counts from sending POST /jobs to the WebSocket message "
            "showing `running` (HTTP, WebSocket handshake and snapshot included); the bare "
            "actor's from `enqueue` to the actor's first line."
        ),
        notes=[
            f"The price of polling every {poll_ms} ms: an idle worker process sent "
            f"{idle['commands_per_s']:.0f} Redis commands/s and used "
            f"{idle['worker_cores']:.1%} of a core (Valkey {idle['valkey_cores']:.1%}), "
            f"measured over {sizes.s2_idle_cost_s:g} s of idling."
        ],
        data={"samples": runs, "idle_cost": idle},
    )
