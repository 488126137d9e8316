"""S8: `POST /jobs/batch` of 1,000 jobs in one request, beside the same jobs sent one
`POST /jobs` at a time.

One web process, no worker (the queue only grows). Requests go one after another over
one keep-alive connection, so each latency is the server's own work for that request.
"""

from __future__ import annotations

import json
import time

import httpx

from bench.env import BenchEnv
from bench.measure import cpu_seconds, percentile
from bench.result import Check, Result, fmt
from bench.sizes import Sizes

P99_TARGET_MS = 2000.0


def _batch_body(size: int, round_: int) -> bytes:
    jobs = [
        {"type": "chat", "params": {"prompt": f"item {round_}.{i}"}, "tags": [f"round:{round_}"]}
        for i in range(size)
    ]
    return json.dumps({"jobs": jobs}).encode()


def _timed(client: httpx.Client, path: str, bodies: list[bytes]) -> tuple[list[float], float]:
    """Each request's latency (ms) and the wall time of all of them (s)."""
    headers = {"Content-Type": "application/json"}
    latencies, started = [], time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        answer = client.post(path, content=body, headers=headers)
        latencies.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 202:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return latencies, time.perf_counter() - started


def run(env: BenchEnv, sizes: Sizes) -> Result:
    settings = env.settings("s8", env.new_database("s8"))
    web = env.uvicorn("s8-web", "web.app:app", settings)
    env.wait_web(web)
    batches = [_batch_body(sizes.s8_batch, r) for r in range(sizes.s8_requests)]
    singles = [
        json.dumps({"type": "chat", "params": {"prompt": f"single {i}"}}).encode()
        for i in range(sizes.s8_batch)
    ]
    with httpx.Client(base_url=web.url, timeout=120) as client:
        cpu_before = cpu_seconds(web.pid)
        batch_ms, batch_s = _timed(client, "/jobs/batch", batches)
        batch_cpu = cpu_seconds(web.pid) - cpu_before
        single_ms, single_s = _timed(client, "/jobs", singles)
    env.stop(web)
    batch_rate = sizes.s8_batch * sizes.s8_requests / batch_s
    single_rate = len(singles) / single_s
    return _result(sizes, batch_ms, batch_rate, batch_cpu, single_ms, single_rate)


def _result(
    sizes: Sizes,
    batch_ms: list[float],
    batch_rate: float,
    batch_cpu: float,
    single_ms: list[float],
    single_rate: float,
) -> Result:
    p99 = percentile(batch_ms, 99)
    rows = [
        [
            f"POST /jobs/batch ({sizes.s8_batch} jobs)",
            str(len(batch_ms)),
            fmt(percentile(batch_ms, 50)),
            fmt(p99),
            fmt(max(batch_ms)),
            fmt(batch_rate),
        ],
        [
            "POST /jobs (one job)",
            str(len(single_ms)),
            fmt(percentile(single_ms, 50)),
            fmt(percentile(single_ms, 99)),
            fmt(max(single_ms)),
            fmt(single_rate),
        ],
    ]
    checks = [
        Check(
            f"p99 of POST /jobs/batch with {sizes.s8_batch} jobs",
            p99,
            f"≤ {P99_TARGET_MS:g} ms",
            p99 <= P99_TARGET_MS,
            unit="ms",
        ),
        Check(
            "jobs accepted per second in batches",
            batch_rate,
            "≥ 2 × one at a time",
            batch_rate >= 2 * single_rate,
            unit="/s",
            baseline=single_rate,
        ),
    ]
    return Result(
        "S8",
        f"Batch of {sizes.s8_batch:,} jobs in one request",
        ["request", "requests", "p50 ms", "p99 ms", "max ms", "jobs/s"],
        rows,
        checks,
        setup=(
            f"One uvicorn process (the Procfile's command line), no worker. {sizes.s8_requests} "
            f"batches of {sizes.s8_batch} `chat` jobs (each with a tag), one request at a time "
            f"over one connection, then {sizes.s8_batch} single submits the same way. jobs/s is "
            f"jobs accepted (committed and enqueued) over the wall time of the requests."
        ),
        notes=[f"web process CPU during the batches: {batch_cpu:.1f} s"],
        data={"batch_ms": batch_ms, "single_ms": single_ms},
    )
