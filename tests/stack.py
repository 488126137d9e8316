"""A running jobcast: a uvicorn web process and a `dramatiq actors` worker, as subprocesses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.freeze import frozen

ROOT = Path(__file__).resolve().parent.parent
# Generous: on a busy machine (xdist workers, other jobs) a start can take half a minute.
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    logs: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")

    def events_url(self, job_id: str, after: int | None = None) -> str:
        query = "" if after is None else f"?after={after}"
        return f"{self.ws_url}/jobs/{job_id}/events{query}"

    def worker_processes(self) -> list[int]:
        """The dramatiq CLI forks the processes that do the work; signal those."""
        children = Path(f"/proc/{self.worker.pid}/task/{self.worker.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    @contextlib.contextmanager
    def worker_paused(self) -> Iterator[None]:
        """Freeze the worker (SIGSTOP) so jobs stay pending until the block ends."""
        pids = self.worker_processes()
        assert pids, "the worker has no worker processes"
        with frozen(pids, self.env.get("DATABASE_URL", "")):
            yield

    def restart_web(self) -> None:
        """Kill the web process (SIGKILL: its clients get no goodbye) and start it again
        on the same port; returns once it is healthy."""
        command = self.web.args
        self.web.kill()
        self.web.wait()
        self.web = subprocess.Popen(
            command, cwd=ROOT, env=self.env,
            stdout=(self.logs / "web.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_healthy(self)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_stack(env: dict[str, str], logs: Path, processes: int = 1) -> Stack:
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    web = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "web.app:app",
            "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
            "--ws-max-size", "16384",
        ],
        cwd=ROOT, env=full_env,
        stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "dramatiq", "actors",
            "--processes", str(processes), "--threads", "8",
        ],
        cwd=ROOT, env=full_env,
        stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    stack = Stack(f"http://127.0.0.1:{port}", full_env, web, worker, logs)
    try:
        wait_healthy(stack)
    except Exception:
        stack.stop()
        raise
    return stack


def wait_healthy(stack: Stack) -> None:
    processes = {"web": stack.web, "worker": stack.worker}
    wait_for_health(stack.base_url, processes, stack.logs)


def wait_for_health(
    base_url: str,
    processes: dict[str, subprocess.Popen[bytes]],
    logs: Path | None = None,
    timeout: float = READY_TIMEOUT_S,
) -> None:
    """Poll /health until it answers 200 (a process start has no event to await).

    Fails at once if one of `processes` exits; its log (`logs/NAME.log`) says why.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                log_file = logs / f"{name}.log" if logs else None
                log = log_file.read_text()[-3000:] if log_file and log_file.exists() else ""
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log}")
        try:
            response = httpx.get(f"{base_url}/health", timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} not healthy after {timeout} s: {last}")
