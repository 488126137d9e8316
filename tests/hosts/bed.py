"""A bed: hosts in network namespaces running a whole jobcast, and the faults done to it.

The bed's id names everything it makes (namespaces, bridge, veths, its directory);
build.py makes a bed, sweep.py removes it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from redis import Redis

from bench.freeze import frozen
from store.keys import Keys
from tests.hosts import net, servers
from tests.hosts.relay import Relay
from tests.hosts.sweep import teardown
from tests.processes import children_of
from tests.stack import wait_for_health

WEB_PORT = 8000
RELAY_PORT = 15432  # on the bridge's address: PostgreSQL, through the delaying relay
RABBIT_PORT = 15672  # on the bridge's address: the root namespace's RabbitMQ


@dataclass
class Role:
    host: net.Host
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Bed:
    network: net.Network
    workdir: Path
    env: dict[str, str]  # what every jobcast role gets
    roles: dict[str, Role] = field(default_factory=dict)
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    relays: list[Relay] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.network.bed_id

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    def address(self, host: str) -> str:
        return self.network.hosts[host].address

    @property
    def redis_url(self) -> str:
        return f"redis://{self.address('redis')}:6379/0"

    @property
    def database_url(self) -> str:
        """PostgreSQL straight on the db host (what the root namespace uses)."""
        return f"postgresql+psycopg://postgres@{self.address('db')}:5432/postgres"

    @property
    def keys(self) -> Keys:
        return Keys(self.env["JOBCAST_REDIS_NAMESPACE"])

    def url(self, web: str) -> str:
        return f"http://{self.address(web)}:{WEB_PORT}"

    def events_url(self, web: str, job_id: str, after: int | None = None) -> str:
        query = "" if after is None else f"?after={after}"
        return f"ws://{self.address(web)}:{WEB_PORT}/jobs/{job_id}/events{query}"

    # --- roles -----------------------------------------------------------------------
    def start_web(self, host: str, wait: bool = True) -> None:
        self._start(host, "web", "")
        if wait:
            self.wait_web(host)

    def wait_web(self, host: str) -> None:
        """Until the web process on `host` answers /health with 200 (a worker is seen)."""
        wait_for_health(self.url(host), {host: self.roles[host].popen}, self.logs, timeout=90)

    def start_worker(self, host: str, threads: int = 4, processes: int = 1) -> None:
        self._start(host, "worker", f"--processes {processes} --threads {threads}")

    def wait_workers(self, *hosts: str, timeout: float = 90) -> None:
        """Until each worker process of `hosts` reports in (it consumes from then on)."""
        deadline = time.monotonic() + timeout
        with Redis.from_url(self.redis_url, socket_timeout=5) as client:
            while True:
                names = client.zrange(self.keys.workers, 0, -1)
                seen = {int(name.decode().rsplit(":", 1)[-1]) for name in names}
                missing = [h for h in hosts if not set(self.worker_pids(h) or [0]) <= seen]
                if not missing:
                    return
                for host in missing:
                    if self.roles[host].popen.poll() is not None:
                        raise RuntimeError(f"{host} exited; see {self.roles[host].log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers on {missing} never reported in")
                time.sleep(0.1)

    def worker_pids(self, host: str) -> list[int]:
        """The processes the dramatiq CLI on `host` forked to do the work."""
        return children_of(self.roles[host].popen.pid)

    def host_running(self, job_id: str) -> str:
        """The host whose worker process the job's row names (`name:pid`; network
        namespaces share the pid space, so the pid finds the host)."""
        url = self.database_url.replace("+psycopg", "")
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT worker FROM job WHERE id = %s", (job_id,)).fetchone()
        assert row and row[0], f"job {job_id} names no worker"
        pid = int(row[0].rsplit(":", 1)[1])
        return next(h for h in self.roles if pid in self.worker_pids(h))

    @contextlib.contextmanager
    def workers_paused(self, *hosts: str) -> Iterator[None]:
        """The worker processes of `hosts` frozen (SIGSTOP): they take no message."""
        pids = [pid for host in hosts for pid in self.worker_pids(host)]
        with frozen(pids, self.database_url):
            yield

    def kill(self, host: str) -> None:
        """SIGKILL a role's process and its children: a host that dies at once."""
        popen = self.roles[host].popen
        for pid in [*children_of(popen.pid), popen.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        popen.wait(30)

    def stop(self, host: str) -> None:
        popen = self.roles.pop(host).popen
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()

    # --- faults ----------------------------------------------------------------------
    def cut(self, host: str) -> None:
        self.network.cut(host)

    def restore(self, host: str) -> None:
        self.network.restore(host)

    @contextlib.contextmanager
    def redis_frozen(self) -> Iterator[None]:
        """Valkey stopped (SIGSTOP): connections stay open and nothing answers."""
        pid = self.servers["redis"].pid
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def database_delayed(self, seconds: float) -> Iterator[None]:
        """Every reply of PostgreSQL to the bed's hosts `seconds` late."""
        relay = self.relays[0]
        relay.delay = seconds
        try:
            yield
        finally:
            relay.delay = 0.0

    # --- life ------------------------------------------------------------------------
    def _start(self, host: str, kind: str, extra: str) -> None:
        log = self.logs / f"{host}.log"
        popen = servers.role(self.network.hosts[host], kind, extra, self.env, log)
        self.roles[host] = Role(self.network.hosts[host], popen, log)

    def down(self) -> None:
        for role in self.roles.values():  # all at once: each may take its shutdown grace
            if role.popen.poll() is None:
                role.popen.send_signal(signal.SIGTERM)
        for host in list(self.roles):
            self.stop(host)
        for relay in self.relays:
            relay.close()
        teardown(self.id)
