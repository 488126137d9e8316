"""S4: push vs poll: 1,000 clients watching running jobs, by WebSocket, then by polling.

One web process. A worker stand-in (load/publisher.py) reports progress on every job
every few seconds, on a random phase; the same schedule runs for both phases. Push:
each client holds a WebSocket to its job; staleness is arrival − the event's `ts`.
Poll: each client fetches `GET /jobs/{id}` every second; staleness is the time a new
state is first seen − its `updated_at`. Server CPU is the web process plus Valkey.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.env import BenchEnv
from bench.load.child import Child
from bench.load.publisher import Publisher
from bench.measure import CpuWindow, summary
from bench.result import Check, Result, fmt
from bench.sizes import Sizes


def schedule(
    ids: list[str], every: float, seconds: float, stage: str
) -> list[tuple[float, str, str]]:
    rng = random.Random(3)
    start = time.monotonic() + 0.2
    events = []
    for job_id in ids:
        due = start + rng.uniform(0, every)
        while due < start + seconds:
            events.append((due, job_id, stage))
            due += every
    return sorted(events)


def _push(
    env: BenchEnv, port: int, ids: list[str], publisher: Publisher, sizes: Sizes, cpu: CpuWindow
) -> dict[str, Any]:
    urls = env.workdir / "s4-urls.txt"
    urls.write_text("".join(f"ws://127.0.0.1:{port}/jobs/{job_id}/events\n" for job_id in ids))
    watchers = Child("bench.load.watchers", "--urls", str(urls))
    try:
        watchers.wait_for("READY", timeout=120)
        cpu.start()
        publisher.run(schedule(ids, sizes.s4_every_s, sizes.s4_seconds, "push"))
        time.sleep(0.5)
        cpu.stop()
        watchers.say("STOP")
        return watchers.result(timeout=60)
    finally:
        watchers.stop()


def _poll(
    env: BenchEnv, port: int, ids: list[str], publisher: Publisher, sizes: Sizes, cpu: CpuWindow
) -> dict[str, Any]:
    id_file = env.workdir / "s4-ids.txt"
    id_file.write_text("".join(f"{job_id}\n" for job_id in ids))
    seconds = sizes.s4_seconds + 2
    pollers = Child(
        "bench.load.pollers", "--port", str(port), "--ids", str(id_file), "--seconds", str(seconds)
    )
    try:
        time.sleep(1.0)  # every poller has polled once
        cpu.start()
        publisher.run(schedule(ids, sizes.s4_every_s, sizes.s4_seconds, "poll"))
        cpu.stop()
        return pollers.result(timeout=seconds + 60)
    finally:
        pollers.stop()


def run(env: BenchEnv, sizes: Sizes) -> Result:
    settings = env.settings("s4", env.new_database("s4"))
    web = env.uvicorn("s4-web", "web.app:app", settings)
    publisher = Publisher(settings)
    try:
        env.wait_web(web)
        ids = publisher.running_jobs(sizes.s4_clients)
        pids = {"web": web.pid, "valkey": env.valkey_pid}
        push_cpu, poll_cpu = CpuWindow(pids), CpuWindow(pids)
        push = _push(env, web.port, ids, publisher, sizes, push_cpu)
        poll = _poll(env, web.port, ids, publisher, sizes, poll_cpu)
    finally:
        publisher.close()
        env.stop(web)
    push_stats = {k: push["steps"]["push"][k] for k in ("p50", "p95", "p99", "max", "events")}
    poll_stats = poll["staleness"]
    cores = {
        name: sum(window.used.values()) / window.seconds
        for name, window in (("push", push_cpu), ("poll", poll_cpu))
    }
    rows = [
        [
            "push (WebSocket)",
            str(push_stats["events"]),
            fmt(push_stats["p50"]),
            fmt(push_stats["p99"]),
            fmt(push_stats["max"]),
            fmt(push_cpu.share("web"), 2),
            fmt(cores["push"], 2),
        ],
        [
            "poll every 1 s",
            str(poll_stats["n"]),
            fmt(poll_stats["p50"]),
            fmt(poll_stats["p99"]),
            fmt(poll_stats["max"]),
            fmt(poll_cpu.share("web"), 2),
            fmt(cores["poll"], 2),
        ],
    ]
    checks = [
        Check("push staleness p99", push_stats["p99"], "≤ 50 ms", push_stats["p99"] <= 50, "ms"),
        Check(
            "staleness p50, push vs poll",
            push_stats["p50"],
            "≥ 10× fresher (ratio ≤ 0.1)",
            push_stats["p50"] * 10 <= poll_stats["p50"],
            unit="ms",
            baseline=poll_stats["p50"],
        ),
        Check(
            "server CPU (web + Valkey), push vs poll",
            cores["push"],
            "≤ 1/5 of polling's (ratio ≤ 0.2)",
            cores["push"] * 5 <= cores["poll"],
            unit="cores",
            baseline=cores["poll"],
        ),
    ]
    return Result(
        "S4",
        f"Push vs poll: {sizes.s4_clients:,} clients watching running jobs",
        [
            "clients get state by",
            "changes seen",
            "staleness p50 ms",
            "p99 ms",
            "max ms",
            "web CPU (cores)",
            "web + Valkey CPU (cores)",
        ],
        rows,
        checks,
        setup=(
            f"{sizes.s4_clients:,} running jobs, one client each; every job reports progress "
            f"every {sizes.s4_every_s:g} s (random phase) for {sizes.s4_seconds:g} s per "
            "phase. One web process; clients in one load generator process."
        ),
        data={
            "push_sample": push["steps"]["push"]["sample"],
            "poll_sample": poll["staleness_sample"],
            "polls_per_s": poll["polls_per_s"],
            "poll_request_ms": poll["request_ms"],
            "push_summary": summary(push["steps"]["push"]["sample"]),
        },
    )
