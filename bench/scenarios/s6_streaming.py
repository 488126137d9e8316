"""S6: token streaming: many concurrent chat jobs on the simulated model, each followed live.

Ours: the jobs are submitted while the worker is paused (SIGSTOP), one WebSocket client
per job connects, then the worker resumes and runs them all at once (2 processes with
enough threads for every job). The baseline relays the same streams in one process
(load/../baselines/inproc_relay.py): the same simulated model and coalescing, no Redis,
no worker. Tokens delivered/s counts the tokens every client received over the time
from the start signal to the last event; latency is arrival − the `output` event's `ts`
(when the worker published the coalesced chunk); tokens lost compare each client's text
with the job's result, and texts that differ from it count duplicates too (an attempt
retried after its lease went stale streams its text again: tokens received then exceed
the result's, and nothing is "lost"). The setup line says how the jobs spread over the
two worker processes (Dramatiq prefetches twice its threads per process) and the CPU
each process used while the jobs streamed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench import dbwrites
from bench.env import BenchEnv
from bench.freeze import freeze, thaw
from bench.load.burst import accepted, submit_burst
from bench.load.child import Child
from bench.measure import CpuWindow, children
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import Workload, chat


def _watch(env: BenchEnv, urls: list[str], go: Any) -> dict[str, Any]:
    url_file = env.workdir / "s6-urls.txt"
    url_file.write_text("".join(f"{url}\n" for url in urls))
    watchers = Child("bench.load.watchers", "--urls", str(url_file))
    try:
        watchers.wait_for("READY", timeout=180)
        go()
        return watchers.result(timeout=600)
    finally:
        watchers.stop()


def _ours(env: BenchEnv, sizes: Sizes, work: Workload) -> dict[str, Any]:
    database = env.new_database("s6")
    dbwrites.install(database)
    settings = env.settings("s6", database, **work.settings)
    web = env.uvicorn("s6-web", "web.app:app", settings)
    threads = -(-sizes.s6_jobs // 2)
    worker = env.dramatiq("s6-worker", "actors", settings, processes=2, threads=threads)
    try:
        env.wait_web(web)
        submit = submit_burst(web.port, work.body, 1, 1)
        warm = accepted(submit.result(timeout=60), 1)
        _wait_finished(web.url, warm)
        pids = children(worker.pid)
        freeze(pids, database)
        try:
            burst = submit_burst(web.port, work.body, sizes.s6_jobs, 32)
            ids = accepted(burst.result(timeout=300), sizes.s6_jobs)
            urls = [f"ws://127.0.0.1:{web.port}/jobs/{job_id}/events" for job_id in ids]
        finally:
            servers = {"web": web.pid, "Valkey": env.valkey_pid}
            cpu = CpuWindow({**{f"worker {pid}": pid for pid in pids}, **servers})

            def resume() -> None:
                cpu.start()
                thaw(pids)

        result = _watch(env, urls, resume)
        used = cpu.stop()
    finally:
        env.stop(web, worker)
    result["writes_per_job"] = dbwrites.count(database) / (sizes.s6_jobs + 1)
    result["cpu_s"] = {
        "workers": sum(v for name, v in used.items() if name.startswith("worker")),
        **{name: used[name] for name in servers},
    }
    result["jobs_per_worker"] = _jobs_per_worker(database, len(pids))
    result["claims_s"], result["median_run_s"] = _timeline(database)
    return result


def _timeline(database: str) -> tuple[float, float]:
    """How long claiming every job took after the start signal, and the median job's
    run (claim to completion): where the time beyond the model's own pace went."""
    engine = create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT started_at, finished_at FROM job ORDER BY started_at"))
        spans = [(_when(start), _when(end)) for start, end in rows][1:]  # [0]: the warm-up
    engine.dispose()
    if not spans:
        return 0.0, 0.0
    claims = (spans[-1][0] - spans[0][0]).total_seconds()
    runs = sorted((end - start).total_seconds() for start, end in spans)
    return claims, runs[len(runs) // 2]


def _jobs_per_worker(database: str, processes: int) -> list[int]:
    """How the jobs spread over the worker processes (Dramatiq's prefetch decides)."""
    engine = create_engine(database)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM job GROUP BY worker ORDER BY 1 DESC"))
        counts = [int(count) for (count,) in rows]
    engine.dispose()
    return counts + [0] * (processes - len(counts))


def _when(value: Any) -> datetime:
    """A timestamp as the database returned it (SQLite: text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _wait_finished(base_url: str, ids: list[str]) -> None:
    import time

    deadline = time.monotonic() + 60
    for job_id in ids:
        while httpx.get(f"{base_url}/jobs/{job_id}").json()["status"] != "completed":
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} did not complete")
            time.sleep(0.05)


def _baseline(env: BenchEnv, sizes: Sizes, work: Workload) -> dict[str, Any]:
    # Importing actors.pipeline.output loads the `actors` package, which reads the settings and
    # builds the broker without connecting: the relay needs no database (nor Redis).
    unused = f"sqlite:///{env.workdir / 's6_relay_unused.db'}"
    settings = env.settings("s6-relay", unused, **work.settings)
    server = env.uvicorn("s6-relay", "bench.baselines.inproc_relay:app", settings)
    try:
        env.wait_http(server)
        urls = [f"ws://127.0.0.1:{server.port}/jobs/{n}/events" for n in range(sizes.s6_jobs)]
        return _watch(env, urls, lambda: httpx.post(f"{server.url}/start"))
    finally:
        env.stop(server)


def _figures(result: dict[str, Any]) -> dict[str, float]:
    window = result["last_event_at"] - result["first_event_at"]
    stream = result["steps"].get("answer", {})
    return {
        "tokens": result["tokens"],
        "tokens_per_s": result["tokens"] / window if window > 0 else 0.0,
        "p50": stream.get("p50", float("nan")),
        "p99": stream.get("p99", float("nan")),
        "max": stream.get("max", float("nan")),
        "lost": result["tokens_lost"],
        "differ": result["texts_differ"],
        "checked": result["texts_checked"],
        "seconds": window,
    }


def run(env: BenchEnv, sizes: Sizes) -> Result:
    work = chat(sizes.s6_ttft, sizes.s6_tps, sizes.s6_tokens)
    ours_raw = _ours(env, sizes, work)
    cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in ours_raw["cpu_s"].items())
    ours, base = _figures(ours_raw), _figures(_baseline(env, sizes, work))
    rows = [
        [
            name,
            str(f["checked"]),
            f"{f['tokens']:,}",
            fmt(f["seconds"]),
            fmt(f["tokens_per_s"]),
            fmt(f["p50"]),
            fmt(f["p99"]),
            fmt(f["max"]),
            str(f["lost"]),
            str(f["differ"]),
        ]
        for name, f in (("jobcast (worker → Redis → web)", ours), ("in-process relay", base))
    ]
    checks = [
        Check(
            "tokens lost", ours["lost"], "0", ours["lost"] == 0 and ours["checked"] == sizes.s6_jobs
        ),
        Check(
            "texts that differ from the result (duplicates)",
            ours["differ"],
            "0",
            ours["differ"] == 0,
        ),
        Check(
            "emit → client p99",
            ours["p99"],
            "≤ 100 ms",
            ours["p99"] <= 100,
            unit="ms",
            baseline=base["p99"],
        ),
        Check(
            "tokens delivered/s",
            ours["tokens_per_s"],
            "≥ 50 % of the baseline's",
            ours["tokens_per_s"] >= 0.5 * base["tokens_per_s"],
            unit="/s",
            baseline=base["tokens_per_s"],
        ),
    ]
    return Result(
        "S6",
        f"Token streaming: {sizes.s6_jobs:,} concurrent jobs",
        [
            "path",
            "jobs followed",
            "tokens received",
            "seconds",
            "tokens/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "tokens lost",
            "texts ≠ result",
        ],
        rows,
        checks,
        setup=(
            f"Job: {work.name}; {sizes.s6_jobs:,} jobs, one WebSocket client each (one load "
            f"generator process). One web process; 2 worker processes × "
            f"{-(-sizes.s6_jobs // 2)} threads; jobs each worker process ran: "
            f"{' / '.join(str(n) for n in ours_raw['jobs_per_worker'])} (warm-up job included). "
            f"All jobs were claimed within {ours_raw['claims_s']:.2f} s of the first; the "
            f"median job ran {ours_raw['median_run_s']:.2f} s (claim to completion; the "
            f"model alone takes {sizes.s6_ttft + sizes.s6_tokens / sizes.s6_tps:.2f} s). "
            f"Database rows written per job: {ours_raw['writes_per_job']:.2f}. CPU seconds "
            f"from the start signal to the last event: {cpu}."
        ),
        data={"ours": ours, "baseline": base, "writes_per_job": ours_raw["writes_per_job"]},
    )
