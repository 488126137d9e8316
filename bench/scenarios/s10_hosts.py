"""S10: scaling out over worker hosts: 1, 2, 3 hosts in network namespaces (tests/hosts/).

One bed per broker: PostgreSQL on `db`, Valkey on `redis`, one web process on `web1`,
and worker hosts added one at a time (`dramatiq actors`, one process each). At each
step: no-op jobs/s (a burst of submissions to the last `completed`), then streamed
tokens/s (chat jobs submitted while the workers are frozen, one WebSocket client each,
from the first to the last event once they thaw). The load generators run on `web1`'s
host and talk to its loopback. The ratio is each step's figure over one host's.

The RabbitMQ half runs when `actors/broker.py` knows `JOBCAST_BROKER=rabbitmq`, against
the root namespace's RabbitMQ (127.0.0.1:5672, reached through a relay on the bridge),
in a virtual host of the run's own.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

from bench.env import NO_LIMITS, BenchEnv
from bench.freeze import freeze, thaw
from bench.load.burst import accepted, submit_burst
from bench.load.child import Child
from bench.load.events import Finished
from bench.result import Check, Result, fmt
from bench.sizes import Sizes
from bench.workload import chat, noop
from store.settings import Settings
from tests.hosts import Bed, NamespacesUnavailable, probe, up
from tests.hosts.bed import WEB_PORT
from tests.hosts.net import in_netns

WORKERS = ("work1", "work2", "work3")
TIMEOUT_S = 300


def rabbitmq_known() -> bool:
    """Whether this build's settings offer JOBCAST_BROKER=rabbitmq (issue 11)."""
    field = Settings.model_fields.get("broker")
    return field is not None and "rabbitmq" in str(field.annotation)


@contextlib.contextmanager
def vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of our own on the shared server, deleted afterwards."""
    name = f"jobcast-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, timeout=60)
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            timeout=60,
        )
        yield name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False, timeout=60)


def _bed(sizes: Sizes, broker: str, vhost_name: str | None) -> Bed:
    work = chat(0.3, 50.0, sizes.s10_tokens)
    env = {**NO_LIMITS, **work.settings, **noop().settings, "JOBCAST_WORKER_HEARTBEAT": "1"}
    if broker == "rabbitmq":
        env["JOBCAST_BROKER"] = "rabbitmq"
    return up(("web1", *WORKERS), env, relay_database=False, rabbitmq_vhost=vhost_name)


def _steps(sizes: Sizes, broker: str, vhost_name: str | None = None) -> list[dict[str, Any]]:
    bed = _bed(sizes, broker, vhost_name)
    web1 = in_netns(bed.network.hosts["web1"].namespace)
    steps = []
    try:
        for count in sizes.s10_hosts:
            hosts = WORKERS[:count]
            for host in hosts:
                if host not in bed.roles:
                    bed.start_worker(host, threads=sizes.s10_threads)
            bed.wait_workers(*hosts)
            if "web1" not in bed.roles:
                bed.start_web("web1")
            steps.append(
                {
                    "hosts": count,
                    "jobs_per_s": _jobs_per_s(bed, sizes, web1),
                    **_tokens_per_s(bed, sizes, hosts, web1),
                }
            )
    finally:
        bed.down()
    return steps


def _jobs_per_s(bed: Bed, sizes: Sizes, web1: list[str]) -> float:
    finished = Finished(bed.redis_url, bed.env["JOBCAST_REDIS_NAMESPACE"])
    finished.start()
    try:
        burst = submit_burst(WEB_PORT, noop().body, sizes.s10_jobs, 16, wrap=web1)
        submitted = burst.result(timeout=TIMEOUT_S)
        ids = accepted(submitted, sizes.s10_jobs)
        finished.wait_for(len(ids), timeout=TIMEOUT_S)
        last = max(finished.times[job_id] for job_id in ids)
    finally:
        finished.stop()
    rate: float = len(ids) / (last - submitted["start"])
    return rate


def _tokens_per_s(
    bed: Bed, sizes: Sizes, hosts: tuple[str, ...], web1: list[str]
) -> dict[str, float]:
    body = chat(0.3, 50.0, sizes.s10_tokens).body
    pids = [pid for host in hosts for pid in bed.worker_pids(host)]
    freeze(pids, bed.database_url)
    try:
        burst = submit_burst(WEB_PORT, body, sizes.s10_streams, 16, wrap=web1)
        ids = accepted(burst.result(timeout=TIMEOUT_S), sizes.s10_streams)
        urls = bed.workdir / "s10-urls.txt"
        urls.write_text("".join(f"ws://127.0.0.1:{WEB_PORT}/jobs/{i}/events\n" for i in ids))
        watchers = Child("bench.load.watchers", "--urls", str(urls), wrap=web1)
        watchers.wait_for("READY", timeout=TIMEOUT_S)
    finally:
        thaw(pids)
    try:
        result = watchers.result(timeout=TIMEOUT_S)
    finally:
        watchers.stop()
    window = result["last_event_at"] - result["first_event_at"]
    return {
        "tokens": result["tokens"],
        "tokens_per_s": result["tokens"] / window if window > 0 else 0.0,
        "tokens_lost": result["tokens_lost"],
    }


def _rows(broker: str, steps: list[dict[str, Any]]) -> list[list[str]]:
    one = steps[0]
    return [
        [
            broker,
            str(step["hosts"]),
            fmt(step["jobs_per_s"]),
            f"{step['jobs_per_s'] / one['jobs_per_s']:.2f}×",
            fmt(step["tokens_per_s"]),
            f"{step['tokens_per_s'] / one['tokens_per_s']:.2f}×",
            str(step["tokens_lost"]),
        ]
        for step in steps
    ]


def _checks(broker: str, steps: list[dict[str, Any]]) -> list[Check]:
    one, most = steps[0], steps[-1]
    hosts = most["hosts"]
    # The baseline is the same bed with one worker host. No-op jobs are CPU-bound and
    # every host shares this machine's cores: more hosts should at least cost nothing.
    # Streaming jobs wait on the model: each host adds threads, so tokens/s should
    # grow nearly with the hosts.
    return [
        Check(
            f"{broker}: no-op jobs/s with {hosts} worker hosts",
            most["jobs_per_s"],
            "≥ 0.9× one host's (adding hosts costs no throughput)",
            most["jobs_per_s"] >= 0.9 * one["jobs_per_s"],
            unit="/s",
            baseline=one["jobs_per_s"],
        ),
        Check(
            f"{broker}: streamed tokens/s with {hosts} worker hosts",
            most["tokens_per_s"],
            f"≥ {0.8 * hosts:.1f}× one host's (0.8 × the hosts)",
            most["tokens_per_s"] >= 0.8 * hosts * one["tokens_per_s"],
            unit="/s",
            baseline=one["tokens_per_s"],
        ),
        Check(
            f"{broker}: tokens lost",
            sum(step["tokens_lost"] for step in steps),
            "0",
            all(step["tokens_lost"] == 0 for step in steps),
        ),
    ]


def run(env: BenchEnv, sizes: Sizes) -> Result:
    headers = ["broker", "worker hosts", "jobs/s", "× 1 host", "tokens/s", "× 1 host", "lost"]
    title = "Scaling out: 1, 2 and 3 worker hosts (network namespaces)"
    try:
        probe()
    except NamespacesUnavailable as error:
        return Result("S10", title, headers, [], [], notes=[f"Not run: {error}."],
                      data={"skipped": str(error)})  # fmt: skip
    steps = {"redis": _steps(sizes, "redis")}
    notes = []
    if rabbitmq_known():
        with vhost() as name:
            steps["rabbitmq"] = _steps(sizes, "rabbitmq", name)
    else:
        notes.append("RabbitMQ half not run: this build has no JOBCAST_BROKER=rabbitmq.")
    rows = [row for broker, found in steps.items() for row in _rows(broker, found)]
    checks = [check for broker, found in steps.items() for check in _checks(broker, found)]
    return Result(
        "S10",
        title,
        headers,
        rows,
        checks,
        setup=(
            f"Hosts are network namespaces on this machine's {os.cpu_count()} cores: PostgreSQL "
            f"(its own server, on `db`), Valkey (`redis`), one web process (`web1`), and 1 "
            f"to 3 worker hosts of one `dramatiq actors` process × {sizes.s10_threads} "
            f"threads each. Jobs/s: {sizes.s10_jobs} `bench_noop` jobs, 16 submissions at "
            f"a time. Tokens/s: {sizes.s10_streams} `chat` jobs at once on the simulated "
            f"model (0.3 s to the first token, 50 tokens/s, {sizes.s10_tokens} tokens), "
            "one WebSocket client each. Load generators run on `web1`'s host. The "
            "database is the bed's own PostgreSQL whatever `--database` says."
        ),
        notes=notes,
        data={"steps": steps},
    )
