"""S2: pickup on an idle system: submit → `running` seen on a WebSocket, beside a bare actor.

One job at a time, each after the worker has idled for a while. Ours is what a user
sees: from sending `POST /jobs` to the WebSocket message that shows the job running
(the snapshot, when the worker was quicker than the connection, else the status
event), broken down into its stages. The bare actor's is Dramatiq's own send → start,
polling (Dramatiq has no wake-up): at jobcast's idle poll interval, and at the 20 ms
jobcast polled at before it had wake-ups; the target is checked against the faster.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import datetime

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

# The bare actor's fast polling: what jobcast's workers polled at before wake-ups.
FAST_POLL_MS = 20
# Stages of our path, in ms from sending POST /jobs (the last is the figure itself).
STAGES = {
    "answered": "`202` received",
    "open": "WebSocket open",
    "snapshot": "snapshot received",
    "running": "`running` received",
}


def _ms_between(earlier: str, later: str) -> float:
    delta = datetime.fromisoformat(later) - datetime.fromisoformat(earlier)
    return delta.total_seconds() * 1000


async def _one(port: int, body: bytes) -> dict[str, float]:
    """Our stages, and the server's own pickup (row created → `running` recorded)."""
    loop = asyncio.get_running_loop()
    _, http = await loop.create_connection(HttpConnection, "127.0.0.1", port)
    t0 = time.perf_counter()
    stage: dict[str, float] = {}

    def mark(name: str) -> None:
        stage[name] = (time.perf_counter() - t0) * 1000

    status, answer = await http.request(request_bytes("POST", "/jobs", body, port))
    mark("answered")
    assert status == 202, answer
    job = json.loads(answer)
    async with connect(f"ws://127.0.0.1:{port}/jobs/{job['id']}/events", compression=None) as ws:
        mark("open")
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "snapshot":
                mark("snapshot")
                view = message["job"]
                status, started = view["status"], view["started_at"]
            else:
                status, started = message.get("status"), message["ts"]
            if status not in (None, "pending"):
                mark("running")
                stage["server"] = _ms_between(job["created_at"], started)
                break
    assert http.transport is not None
    http.transport.close()
    return stage


def _ours(
    env: BenchEnv, sizes: Sizes, work: Workload, rng: random.Random
) -> tuple[list[dict[str, float]], dict[str, float]]:
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
    """What an idle worker costs: Redis commands/s and CPU (polling, heartbeats, threads)."""
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


def _stage_note(stages: list[dict[str, float]]) -> str:
    p50 = {name: summary([s[name] for s in stages])["p50"] for name in [*STAGES, "server"]}
    path = ", ".join(f"{label} {fmt(p50[name])}" for name, label in STAGES.items())
    return (
        f"Where our time goes (p50 of each stage, ms from sending POST /jobs): {path}. "
        f"On the server, from the row's creation to `running` recorded (enqueue, wake-up, "
        f"claim): {fmt(p50['server'])} ms."
    )


def run(env: BenchEnv, sizes: Sizes) -> Result:
    rng = random.Random(2)
    work = noop()
    poll_ms = Settings.model_fields["worker_poll_ms"].default
    stages, idle = _ours(env, sizes, work, rng)
    runs = {
        f"jobcast (woken on enqueue; polls every {poll_ms} ms)": [s["running"] for s in stages],
        f"bare Dramatiq actor, polling every {FAST_POLL_MS} ms": _bare(
            env, sizes, FAST_POLL_MS, rng
        ),
        f"bare Dramatiq actor, polling every {poll_ms} ms": _bare(env, sizes, poll_ms, rng),
    }
    stats = {name: summary(samples) for name, samples in runs.items()}
    rows = [
        [name, str(s["n"]), fmt(s["p50"]), fmt(s["p99"]), fmt(s["max"])]
        for name, s in stats.items()
    ]
    ours, fast, _ = stats.values()
    checks = [
        Check("pickup p50", ours["p50"], "≤ 20 ms", ours["p50"] <= 20, unit="ms"),
        Check(
            f"pickup p50 vs the bare actor polling every {FAST_POLL_MS} ms",
            ours["p50"],
            "≤ 1.5× the bare actor",
            ours["p50"] <= 1.5 * fast["p50"],
            unit="ms",
            baseline=fast["p50"],
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
            "actor's from `enqueue` to the actor's first line. Our worker is woken by a "
            "PUBLISH after each enqueue (actors/worker/wakeup.py) and polls only as a safety net. "
            "The bare actor is stock Dramatiq, which has no wake-up: it polls, with "
            "jobcast's broker settings, at jobcast's interval and at "
            f"{FAST_POLL_MS} ms (what jobcast polled at before wake-ups); the target is "
            "checked against the faster."
        ),
        notes=[
            _stage_note(stages),
            f"What an idle worker process costs (woken on enqueue, polling every "
            f"{poll_ms} ms): {idle['commands_per_s']:.0f} Redis commands/s and "
            f"{idle['worker_cores']:.1%} of a core (Valkey {idle['valkey_cores']:.1%}), "
            f"measured over {sizes.s2_idle_cost_s:g} s of idling. Before wake-ups it polled "
            "every 20 ms: 900–1,300 commands/s and 5–9 % of a core in the runs of "
            "2026-11-24 (bench/README.md).",
        ],
        data={"samples": runs, "stages": stages, "idle_cost": idle},
    )
