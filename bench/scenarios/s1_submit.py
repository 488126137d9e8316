"""S1: `POST /jobs` (validate, insert, enqueue) at constant rates, beside two baselines.

The same-work baseline (bench/baselines/same_work.py) validates, inserts the row and sends
the message the plain way, one request at a time; fixed JSON answers without any work.
All servers are the same uvicorn command line; no worker runs, so the queues only grow.
Each server gets the same warm-up pass just before its ladder: a process just started is
slower for its first few hundred requests, which punished whichever server went first.
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


def _run_ladder(
    server: Proc, rates: tuple[float, ...], seconds: float, pause: float, limit_ms: float
) -> list[dict[str, Any]]:
    child = Child(
        "bench.load.ladder",
        *("--port", str(server.port), "--rates", ",".join(f"{r:g}" for r in rates)),
        *("--seconds", str(seconds), "--pause", str(pause), "--limit-ms", str(limit_ms)),
        *("--body", chat_body("Describe a lighthouse").decode()),
    )
    try:
        return child.records(timeout=len(rates) * (seconds + 30))
    finally:
        child.stop()


def _warm_up(server: Proc, sizes: Sizes) -> None:
    """The same pass for every server, its figures dropped (no p99 limit stops it)."""
    _run_ladder(server, sizes.s1_warmup_rates, sizes.s1_warmup_s, sizes.s1_pause_s, math.inf)


def _ladder(server: Proc, sizes: Sizes) -> list[dict[str, Any]]:
    _warm_up(server, sizes)
    cpu_before = cpu_seconds(server.pid)
    steps = _run_ladder(server, sizes.s1_rates, sizes.s1_step_s, sizes.s1_pause_s, P99_LIMIT_MS)
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
        setup=_setup(sizes, fixed_rate),
        data={"ladders": ladders},
    )


def _setup(sizes: Sizes, fixed_rate: float) -> str:
    warmup = " then ".join(f"{rate:g}/s" for rate in sizes.s1_warmup_rates)
    return (
        "One uvicorn process each (the Procfile's command line, access log off); no "
        f"worker. Each server first gets the same warm-up pass ({warmup}, "
        f"{sizes.s1_warmup_s:g} s each; its figures dropped), then its ladder. Baselines: "
        "the same work done plainly (bench/baselines/same_work.py: validate, one INSERT "
        f"and COMMIT, send the message), and fixed JSON (sustainable {fixed_rate:g}/s). "
        f"Each rate is offered for {sizes.s1_step_s:g} s by a load generator process "
        "(open loop: latency counts from when a request was due)."
    )
