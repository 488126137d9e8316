"""Building a bed: the network, PostgreSQL on `db`, Valkey on `redis`, the relays, the
release step. Roles start later, on demand (`Bed.start_web`, `Bed.start_worker`).
"""

from __future__ import annotations

import json
import os
import random
from urllib.parse import quote

from tests.hosts import net, servers
from tests.hosts.bed import RABBIT_PORT, RELAY_PORT, WEB_PORT, Bed
from tests.hosts.relay import Relay
from tests.hosts.sweep import BEDS, sweep


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
