"""`python -m bench`: run S1–S10 with their baselines; write docs/BENCHMARKS.md and its plots.

python -m bench                        # what `make bench` runs (about 10 minutes)
python -m bench --sizes smoke --out /tmp/b.md --no-plots   # seconds; the test suite's
python -m bench --only S4,S5           # some scenarios only
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import traceback
from pathlib import Path

from bench import machine, plots, report
from bench.env import ROOT, BenchEnv
from bench.result import Result
from bench.scenarios import (
    s1_submit,
    s2_pickup,
    s3_saturation,
    s4_push_poll,
    s5_fanout,
    s6_streaming,
    s7_model_calls,
    s8_batch,
    s9_fairness,
    s10_hosts,
)
from bench.sizes import FULL, SMOKE

SCENARIOS = {
    "S1": s1_submit.run,
    "S2": s2_pickup.run,
    "S3": s3_saturation.run,
    "S4": s4_push_poll.run,
    "S5": s5_fanout.run,
    "S6": s6_streaming.run,
    "S7": s7_model_calls.run,
    "S8": s8_batch.run,
    "S9": s9_fairness.run,
    "S10": s10_hosts.run,
}
PLOTS = {
    "S4": ("bench-s4-staleness.png", plots.s4_staleness),
    "S5": ("bench-s5-latency.png", plots.s5_latency),
}

LIMITS = [
    "Two cores carry everything: the servers under test, Valkey, the database, and the load "
    "generators (separate processes, lean clients on asyncio's protocol layer). Where a "
    "server saturates, part of what it lacks is the load generator's CPU; the baselines "
    "carry the same handicap, so ratios stay meaningful, absolute rates are low.",
    "Other work on the machine (see the load averages above) adds noise to tails (p99, max).",
    "The simulated model stands in for a model server; no real model ran.",
]


def _database_choice(arg: str) -> str:
    if arg != "auto":
        return arg
    return os.environ.get("TEST_DATABASE_URL") or "auto"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", choices=["full", "smoke"], default="full")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--database", default="auto", help="auto, sqlite or a PostgreSQL URL")
    args = parser.parse_args()
    sizes = FULL if args.sizes == "full" else SMOKE

    facts = machine.describe()
    env = BenchEnv(database=_database_choice(args.database))
    results: list[Result] = []
    failed: list[str] = []
    started = time.monotonic()
    try:
        for key in args.only.split(","):
            print(f"bench: {key} …", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            try:
                result = SCENARIOS[key](env, sizes)
            except Exception:
                traceback.print_exc()
                failed.append(key)
                continue
            result.seconds = time.monotonic() - t0
            results.append(result)
            for check in result.checks:
                mark = "met" if check.met else "MISSED"
                print(f"  {check.name}: {check.ours:.4g} ({check.target}) {mark}", file=sys.stderr)
        extra = {
            "database": env.database_kind,
            "load_after": machine.load_average(),
            "run time": f"{time.monotonic() - started:.0f} s",
            "sizes": args.sizes,
        }
    finally:
        env.close()

    shown = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        for result in results:
            if result.key in PLOTS:
                name, draw = PLOTS[result.key]
                draw(result, args.out.parent / name)
                shown[result.key] = name
    args.out.write_text(report.render(results, facts, extra, LIMITS, shown))
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in results], default=str))
    print(f"bench: wrote {args.out} in {extra['run time']}", file=sys.stderr)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
