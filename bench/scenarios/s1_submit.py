"""S1: `POST /jobs` (validate, insert, enqueue) at constant rates, beside two baselines.

The same-work baseline (bench/baselines/same_work.py) validates, inserts the row and sends
the message the plain way, one request at a time; fixed JSON answers without any work.
All servers are the same uvicorn command line; no worker runs, so the queues only grow.
A load generator process offers each rate for a few seconds (open loop) until p99
reaches 100 ms; the highest rate below that is the sustainable one.
"""

from __future__ import annotations

import math
from typing import Any

from bench.env import BenchEnv, Proc
from bench.load.child import Child
from bench.measure import cpu_seconds, percentile
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import chat_body

P99_LIMIT_MS = 100.0


def _ladder(server: Proc, sizes: Sizes) -> list[dict[str, Any]]:
    rates = ",".join(f"{r:g}" for r in sizes.s1_rates)
    child = Child(
        "bench.load.ladder",
        *("--port", str(server.port), "--rates", rates, "--seconds", str(sizes.s1_step_s)),
        *("--pause", str(sizes.s1_pause_s), "--limit-ms", str(P99_LIMIT_MS)),
        *("--body", chat_body("Describe a lighthouse").decode()),
    )
    cpu_before = cpu_seconds(server.pid)
    try:
        steps = child.records(timeout=len(sizes.s1_rates) * (sizes.s1_step_s + 30))
    finally:
        child.stop()
    for step in steps:
        step["p50"] = percentile(step["latencies_ms"], 50)
        step["p99"] = percentile(step["latencies_ms"], 99)
        step["max"] = max(step["latencies_ms"], default=math.nan)
        step["ok"] = step["p99"] < P99_LIMIT_MS and not step["errors"]
        del step["latencies_ms"]
    steps[0]["server_cpu_s"] = cpu_seconds(server.pid) - cpu_before
    return steps


def sustainable(steps: list[dict[str, Any]]) -> float:
    passing = [step["rate"] for step in steps if step["ok"]]
    return max(passing) if passing else 0.0


def run(env: BenchEnv, sizes: Sizes) -> Result:
    settings = env.settings("s1", env.new_database("s1"))
    ours = env.uvicorn("s1-web", "web.app:app", settings)
    # Its own database: neither server's inserts slow the other's by a growing table.
    same_work_settings = env.settings("s1-same", env.new_database("s1_same"))
    same = env.uvicorn("s1-same-work", "bench.baselines.same_work:app", same_work_settings)
    fixed = env.uvicorn("s1-fixed-json", "bench.baselines.fixed_json:app", settings)
    env.wait_web(ours)
    env.wait_http(same)
    env.wait_http(fixed)
    ladders = {
        "jobcast POST /jobs": _ladder(ours, sizes),
        "same work": _ladder(same, sizes),
        "fixed JSON": _ladder(fixed, sizes),
    }
    env.stop(ours, same, fixed)

    rows = []
    for name, steps in ladders.items():
        for step in steps:
            rows.append(
                [
                    name,
                    f"{step['rate']:g}",
                    fmt(step["p50"]),
                    fmt(step["p99"]),
                    fmt(step["max"]),
                    str(step["errors"]),
                    "yes" if step["ok"] else "no",
                ]
            )
    ours_steps, base_steps, fixed_steps = ladders.values()
    reference = ours_steps[0]
    ours_rate, base_rate = sustainable(ours_steps), sustainable(base_steps)
    checks = [
        Check(
            f"p99 of POST /jobs at {reference['rate']:g}/s",
            reference["p99"],
            "≤ 25 ms",
            reference["p99"] <= 25,
            unit="ms",
            baseline=base_steps[0]["p99"],
        ),
        Check(
            "sustainable rate (p99 < 100 ms)",
            ours_rate,
            "≥ 60 % of the same-work baseline's",
            base_rate > 0 and ours_rate >= 0.6 * base_rate,
            unit="/s",
            baseline=base_rate,
        ),
    ]
    fixed_rate = sustainable(fixed_steps)
    return Result(
        "S1",
        "Submit latency: POST /jobs at constant rates",
        ["server", "rate /s", "p50 ms", "p99 ms", "max ms", "errors", "p99 < 100 ms"],
        rows,
        checks,
        setup=(
            "One uvicorn process each (the Procfile's command line, access log off); no "
            "worker. Baselines: the same work done plainly (bench/baselines/same_work.py: "
            "validate, one INSERT and COMMIT, send the message), and fixed JSON "
            f"(sustainable {fixed_rate:g}/s). Each rate is offered for {sizes.s1_step_s:g} s "
            "by a load generator process (open loop: latency counts from when a request was due)."
        ),
        data={"ladders": ladders},
    )
