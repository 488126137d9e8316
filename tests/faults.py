"""Stacks for fault tests: a web process and as many `dramatiq actors` worker processes
as a test wants to kill, on a SQLite database of their own.

Everything here is a real process; a fault is a real signal, a real FLUSHALL or a real
server stop. Stacks that break Redis run on a Valkey server of their own (`own_redis`
in tests/fault_fixtures.py); the others use the suite's Redis in a namespace of their own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis import Redis
from sqlmodel import Session

from bench.freeze import frozen
from store.db import make_engine
from store.keys import Keys
from store.migrate import upgrade
from store.models import Job
from tests.stack import ROOT, free_port, wait_for_health

# Short intervals so faults heal in seconds, yet long enough to hold under CPU contention.
FAST_RECOVERY = {
    "JOBCAST_LEASE": "3",
    "JOBCAST_RECONCILE_INTERVAL": "0.5",
    "JOBCAST_RETRY_BASE": "0.2",
    "JOBCAST_RETRY_MAX": "2",
    "JOBCAST_SHUTDOWN_GRACE": "1",
}


@dataclass
class Worker:
    cli: subprocess.Popen[bytes]
    log: Path

    def processes(self) -> list[int]:
        """The processes the dramatiq CLI forked to do the work."""
        children = Path(f"/proc/{self.cli.pid}/task/{self.cli.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@dataclass
class FaultStack:
    env: dict[str, str]
    logs: Path
    redis_url: str
    namespace: str
    base_url: str = ""
    web: subprocess.Popen[bytes] | None = None
    workers: list[Worker] = field(default_factory=list)

    @property
    def keys(self) -> Keys:
        return Keys(self.namespace)

    def events_url(self, job_id: str, after: int | None = None) -> str:
        query = "" if after is None else f"?after={after}"
        return f"{self.base_url.replace('http://', 'ws://')}/jobs/{job_id}/events{query}"

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def start_web(self) -> None:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.web = self._spawn("web", [
            "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
            "--ws-max-size", "16384",
        ])  # fmt: skip

    def start_worker(
        self,
        threads: int = 4,
        wait: bool = True,
        env: dict[str, str] | None = None,
        session: bool = False,
    ) -> Worker:
        """`session`: in a session (and process group) of its own, as a service runs."""
        name = f"worker{len(self.workers)}"
        cli = self._spawn(
            name,
            ["-m", "dramatiq", "actors", "--processes", "1", "--threads", str(threads)],
            env,
            session,
        )
        worker = Worker(cli, self.logs / f"{name}.log")
        self.workers.append(worker)
        if wait:
            self.wait_worker_ready(worker)
        return worker

    def wait_worker_ready(self, worker: Worker, timeout: float = 30) -> None:
        """Until the worker process reports its heartbeat (it consumes from then on)."""

        def reported() -> bool:
            if worker.cli.poll() is not None:
                raise RuntimeError(f"worker exited:\n{worker.log.read_text()[-3000:]}")
            pids = worker.processes()
            with Redis.from_url(self.redis_url) as client:
                names = [n.decode() for n in client.zrange(self.keys.workers, 0, -1)]
            return bool(pids) and any(n.endswith(f":{pids[0]}") for n in names)

        wait_until(reported, timeout, "the worker never reported in")

    def wait_healthy(self) -> None:
        assert self.web is not None
        wait_for_health(self.base_url, {"web": self.web}, self.logs)

    @contextlib.contextmanager
    def paused(self, worker: Worker) -> Iterator[None]:
        """Freeze the worker (SIGSTOP) so that jobs stay where they are until the block ends."""
        pids = worker.processes()
        assert pids, "the worker has no worker processes"
        with frozen(pids, self.env["DATABASE_URL"]):
            yield

    def duplicates_seen(self) -> int:
        with Redis.from_url(self.redis_url) as client:
            return int(client.get(self.keys.duplicate_deliveries) or 0)

    def worker_running(self, job_id: str) -> Worker:
        """The worker whose process holds the job's current attempt (from the row)."""
        engine = make_engine(self.env["DATABASE_URL"])
        try:
            with Session(engine) as session:
                job = session.get(Job, job_id)
        finally:
            engine.dispose()
        assert job is not None and job.worker is not None, "the job is not running"
        pid = int(job.worker.rsplit(":", 1)[1])
        return next(w for w in self.workers if pid in w.processes())

    @contextlib.contextmanager
    def supervised(self) -> Iterator[None]:
        """Start a new worker whenever the last one exits, as Docker's `restart:` does."""
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                if self.workers[-1].cli.poll() is not None:
                    self.start_worker(wait=False)
                done.wait(0.1)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def kill_worker(self, worker: Worker) -> None:
        """SIGKILL the process doing the work, as the OOM killer or a power cut would."""
        pids = worker.processes()
        assert pids, "the worker has no worker processes"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        worker.cli.wait(timeout=30)  # the CLI notices and exits, as it does in production

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None, session: bool = False
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {}), "PYTHONUNBUFFERED": "1"},
            stdout=(self.logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=session,
        )

    def stop(self) -> None:
        processes = [w.cli for w in self.workers] + ([self.web] if self.web else [])
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_fault_stack(
    tmp: Path,
    redis_url: str,
    env: dict[str, str] | None = None,
    *,
    workers: int = 1,
    threads: int = 4,
    database_dir: str = ".",
    database_url: str | None = None,
    sessions: bool = False,
) -> FaultStack:
    """Web and `workers` worker CLIs on `redis_url` and a fresh SQLite database (or the
    migrated `database_url`)."""
    (tmp / database_dir).mkdir(exist_ok=True)
    database = database_url or f"sqlite:///{tmp / database_dir / 'jobs.db'}"
    if database_url is None:
        upgrade(database)
    namespace = f"jobcast-fault-{uuid.uuid4().hex[:8]}"
    full_env = {
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": namespace,
        "JOBCAST_LLM": "simulated",
        "JOBCAST_SIM_TTFT": "0.05",
        "JOBCAST_SIM_TPS": "40",
        "JOBCAST_WORKER_HEARTBEAT": "0.5",
        "JOBCAST_JOB_MODULES": "tests.jobtypes",
        **(env or {}),
    }
    stack = FaultStack(full_env, tmp, redis_url, namespace)
    try:
        stack.start_web()
        for _ in range(workers):
            stack.start_worker(threads=threads, wait=False, session=sessions)
        for worker in stack.workers:
            stack.wait_worker_ready(worker)
        stack.wait_healthy()
    except Exception:
        stack.stop()
        raise
    return stack


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy (for state with no event to await)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {what}")
        time.sleep(every)


def job_of(stack: FaultStack, job_id: str) -> dict[str, Any]:
    with stack.api() as api:
        response = api.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def submit_job(stack: FaultStack, job_type: str, params: dict[str, Any], **extra: Any) -> str:
    with stack.api() as api:
        response = api.post("/jobs", json={"type": job_type, "params": params, **extra})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def wait_status(
    stack: FaultStack, job_id: str, statuses: set[str], timeout: float = 30
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        job = job_of(stack, job_id)
        return job if job["status"] in statuses else None

    found: dict[str, Any] = wait_until(reached, timeout, f"job {job_id} never {statuses}")
    return found
