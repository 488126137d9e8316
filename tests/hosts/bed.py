"""A bed: hosts in network namespaces running a whole jobcast, and the faults done to it.

A bed's id names everything it makes (namespaces, bridge, veths, its directory under
/tmp/jobcast-hosts/). Its directory holds `owner`: the pid of the process that made it,
or `manual` for a bed made by `scripts/hosts.py up`, kept until `down`. `sweep()`
removes beds whose owner has died, so a killed test run leaves nothing behind for long.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from redis import Redis

from bench.freeze import frozen
from store.keys import Keys
from tests.hosts import net, servers
from tests.hosts.relay import Relay
from tests.processes import alive, children_of
from tests.stack import wait_for_health

BEDS = Path("/tmp/jobcast-hosts")
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


def up(
    hosts: tuple[str, ...],
    env: dict[str, str] | None = None,
    *,
    relay_database: bool = True,
    rabbitmq_vhost: str | None = None,
    owner: str | None = None,
) -> Bed:
    """Make the network, start PostgreSQL on `db` and Valkey on `redis`, migrate (the
    Procfile's release line, from the first other host). Roles start on demand.

    `relay_database`: the hosts reach PostgreSQL through a relay that can delay it.
    `rabbitmq_vhost`: the hosts get RABBITMQ_URL for that virtual host of the root
    namespace's RabbitMQ (which listens on loopback only), through a relay."""
    sweep()
    bed = empty(owner or str(os.getpid()))
    try:
        bed.network.create()
        _build(bed, hosts, env or {}, relay_database, rabbitmq_vhost)
    except BaseException:
        bed.down()
        raise
    return bed


def empty(owner: str) -> Bed:
    """A bed's id, directory and owner mark; nothing made on the network yet."""
    bed_id = f"{net.PREFIX}{random.randrange(16**6):06x}"
    workdir = BEDS / bed_id
    (workdir / "logs").mkdir(parents=True)
    workdir.chmod(0o755)  # PostgreSQL's user must reach its data directory
    (workdir / "owner").write_text(owner)
    return Bed(net.Network(bed_id, net.free_subnet()), workdir, {})


def _build(
    bed: Bed, hosts: tuple[str, ...], env: dict[str, str], relay_db: bool, vhost: str | None
) -> None:
    network = bed.network
    for name in ("db", "redis", *hosts):
        network.add_host(name)
    subnet = str(network.subnet)
    bed.servers["db"] = servers.start_postgres(network.hosts["db"], bed.workdir, subnet)
    bed.servers["redis"] = servers.start_valkey(network.hosts["redis"], bed.workdir)
    database_url = bed.database_url
    if relay_db:
        relay = Relay((network.gateway, RELAY_PORT), (bed.address("db"), 5432))
        relay.start()
        bed.relays.append(relay)
        database_url = f"postgresql+psycopg://postgres@{network.gateway}:{RELAY_PORT}/postgres"
    if vhost is not None:
        rabbit = Relay((network.gateway, RABBIT_PORT), ("127.0.0.1", 5672))
        rabbit.start()
        bed.relays.append(rabbit)
        where = f"{network.gateway}:{RABBIT_PORT}/{quote(vhost, safe='')}"
        env = {"RABBITMQ_URL": f"amqp://guest:guest@{where}", **env}
    bed.env = {
        "HOME": "/tmp",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": bed.redis_url,
        "JOBCAST_REDIS_NAMESPACE": f"jobcast-{bed.id}",
        "JOBCAST_LLM": "simulated",
        "JOBCAST_JOB_MODULES": "tests.jobtypes,bench.jobtypes",
        "HOST": "0.0.0.0",
        "PORT": str(WEB_PORT),
        **env,
    }
    servers.wait_postgres(bed.database_url.replace("+psycopg", ""), bed.servers["db"])
    servers.wait_valkey(bed.redis_url, bed.servers["redis"])
    _release(bed, hosts[0])
    (bed.workdir / "bed.json").write_text(json.dumps(describe(bed), indent=2))


def _release(bed: Bed, host: str) -> None:
    log = bed.logs / "release.log"
    release = servers.role(bed.network.hosts[host], "release", "", bed.env, log)
    if release.wait(120) != 0:
        raise RuntimeError(f"the release step failed:\n{log.read_text()[-2000:]}")


def describe(bed: Bed) -> dict[str, object]:
    return {
        "id": bed.id,
        "subnet": str(bed.network.subnet),
        "hosts": {
            h.name: {"namespace": h.namespace, "address": h.address}
            for h in bed.network.hosts.values()
        },
        "env": bed.env,
        "workdir": str(bed.workdir),
    }


def teardown(bed_id: str) -> None:
    """Kill whatever runs in the bed's namespaces, delete them and the bridge, and the
    bed's directory. Safe to call on a half-built or already removed bed."""
    for namespace in net.namespaces():
        if namespace.startswith(f"{bed_id}-"):
            for pid in net.pids_in(namespace):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    net.remove(bed_id)
    shutil.rmtree(BEDS / bed_id, ignore_errors=True)


def sweep() -> list[str]:
    """Tear down the beds whose owner process is gone (or never wrote its mark)."""
    ids = {ns.split("-", 1)[0] for ns in net.namespaces() if ns.startswith(net.PREFIX)}
    ids |= {d.name for d in BEDS.glob(f"{net.PREFIX}*")} if BEDS.exists() else set()
    stale = [bed_id for bed_id in sorted(ids) if not _owned(bed_id)]
    for bed_id in stale:
        teardown(bed_id)
    return stale


def _owned(bed_id: str) -> bool:
    mark = BEDS / bed_id / "owner"
    if not mark.exists():  # a bed made this very moment writes its mark first thing
        folder = BEDS / bed_id
        return folder.exists() and time.time() - folder.stat().st_mtime < 60
    owner = mark.read_text().strip()
    return owner == "manual" or (owner.isdigit() and alive(int(owner)))
