"""S7: concurrent model calls: how close the workers get to their ceiling.

The worker runs CONCURRENCY jobs at once (2 processes × CONCURRENCY/2 threads: Dramatiq
holds a thread per in-flight message, async or not). Every job is one chat call on the
simulated model, so a job lasts ttft + tokens ÷ tps seconds and the ceiling is
CONCURRENCY ÷ that many jobs per second. Twice CONCURRENCY jobs are submitted while the
worker processes are paused (SIGSTOP, as in S6), so what is measured is the workers'
concurrency, not how fast POST /jobs takes jobs (S1's subject); the achieved rate is
their number over the time from the first start to the last finish (from the rows).
Memory per in-flight job is the worker processes' peak RSS over their idle RSS, divided
by CONCURRENCY.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx

from bench import dbwrites
from bench.env import BenchEnv
from bench.freeze import frozen
from bench.load.burst import accepted, submit_burst
from bench.measure import PeakRss, children, rss_mib
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import chat


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run(env: BenchEnv, sizes: Sizes) -> Result:
    work = chat(sizes.s7_ttft, sizes.s7_tps, sizes.s7_tokens)
    concurrency = sizes.s7_concurrency
    database = env.new_database("s7")
    dbwrites.install(database)
    settings = env.settings("s7", database, **work.settings)
    web = env.uvicorn("s7-web", "web.app:app", settings)
    worker = env.dramatiq("s7-worker", "actors", settings, 2, concurrency // 2)
    jobs_count = 2 * concurrency
    try:
        env.wait_web(web)
        while len(children(worker.pid)) < 2 or httpx.get(f"{web.url}/health").status_code != 200:
            worker.check_alive()
            time.sleep(0.1)
        time.sleep(1.0)  # the worker processes finish booting
        pids = children(worker.pid)
        idle = sum(rss_mib(pid) for pid in pids)
        peak = PeakRss(pids)
        peak.start()
        with frozen(pids, database):
            burst = submit_burst(web.port, work.body, jobs_count, 32)
            ids = accepted(burst.result(timeout=300), jobs_count)
        rows = _wait_all(web.url, ids, timeout=300)
        peak_mib = peak.stop()
    finally:
        env.stop(web, worker)
    writes = dbwrites.count(database) / jobs_count
    duration = sizes.s7_ttft + sizes.s7_tokens / sizes.s7_tps
    ceiling = concurrency / duration
    starts = sorted(_stamp(row["started_at"]) for row in rows)
    first = starts[0]
    last = max(_stamp(row["finished_at"]) for row in rows)
    # Where the time beyond the ceiling goes: the first wave starting late (as fast as
    # the workers claim), and jobs running longer than the model takes.
    first_wave_s = starts[min(concurrency, len(starts)) - 1] - first
    lengths = sorted(_stamp(row["finished_at"]) - _stamp(row["started_at"]) for row in rows)
    median_length = lengths[len(lengths) // 2]
    achieved = jobs_count / (last - first)
    completed = sum(row["status"] == "completed" for row in rows)
    per_job_mib = (peak_mib - idle) / concurrency
    checks = [
        Check(
            "achieved ÷ ceiling",
            achieved / ceiling,
            "≥ 90 %",
            achieved >= 0.9 * ceiling,
            baseline=None,
        ),
        Check(
            "RSS per in-flight job",
            per_job_mib,
            "≤ 1 MB",
            per_job_mib * 1.048576 <= 1.0,
            unit="MiB",
        ),
    ]
    return Result(
        "S7",
        f"Concurrent model calls: {concurrency} jobs in flight",
        [
            "jobs",
            "completed",
            "job length s",
            "ceiling jobs/s",
            "achieved jobs/s",
            "achieved ÷ ceiling",
            "worker RSS idle → peak MiB",
            "RSS per in-flight job MiB",
            "DB rows written per job",
        ],
        [
            [
                str(jobs_count),
                str(completed),
                fmt(duration, 2),
                fmt(ceiling),
                fmt(achieved),
                f"{achieved / ceiling:.0%}",
                f"{idle:.0f} → {peak_mib:.0f}",
                fmt(per_job_mib, 2),
                fmt(writes, 2),
            ]
        ],
        checks,
        setup=(
            f"Job: {work.name}. 2 worker processes × {concurrency // 2} threads; "
            f"{jobs_count} jobs submitted by a load generator process while the worker "
            f"processes were paused, then resumed; nobody watches. "
            f"The first {concurrency} jobs started within {first_wave_s:.2f} s of each other; "
            f"the median job ran {median_length:.2f} s (claim to completion)."
        ),
        data={
            "achieved": achieved,
            "ceiling": ceiling,
            "per_job_mib": per_job_mib,
            "writes_per_job": writes,
        },
    )


def _wait_all(base_url: str, ids: list[str], timeout: float) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while True:
            rows: list[dict[str, str]] = []
            cursor = None
            while True:
                page = http.get(
                    "/jobs", params={"limit": 200, **({"cursor": cursor} if cursor else {})}
                ).json()
                rows += page["jobs"]
                cursor = page["next"]
                if not cursor:
                    break
            mine = [row for row in rows if row["id"] in set(ids)]
            if all(row["status"] in ("completed", "failed") for row in mine) and len(mine) == len(
                ids
            ):
                return mine
            if time.monotonic() > deadline:
                raise TimeoutError("S7's jobs did not all finish")
            time.sleep(0.5)
