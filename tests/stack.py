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

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 30.0


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
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

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


def start_stack(env: dict[str, str], logs: Path) -> Stack:
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    web = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "web.app:app",
            "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
        ],
        cwd=ROOT, env=full_env,
        stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "actors", "--processes", "1", "--threads", "8"],
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
    """Poll /health until web and worker are both up (a process start has no event)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        for name, process in (("web", stack.web), ("worker", stack.worker)):
            if process.poll() is not None:
                log = (stack.logs / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log}")
        try:
            response = httpx.get(f"{stack.base_url}/health", timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.1)
    raise RuntimeError(f"stack not healthy after {READY_TIMEOUT_S} s: {last}")
