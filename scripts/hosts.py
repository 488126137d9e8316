"""`python scripts/hosts.py up|down|status`: the multi-host test bed by hand (root only).

up       db, redis, web1, web2, work1, work2, work3 in network namespaces, each role
         started with the Procfile's command; prints the addresses and leaves it running
down     removes the beds `up` made (or the one named with --id), and stale ones
status   each bed: its hosts, addresses, live processes, and what /health says

See docs/multi-host.md. A bed made here stays until `down`; a test's bed goes with its
test, and any bed whose maker died is swept at the next `up`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hosts import BEDS, net, sweep, teardown
from tests.hosts import up as build
from tests.hosts.bed import WEB_PORT

WEBS, WORKERS = ("web1", "web2"), ("work1", "work2", "work3")


def up(args: argparse.Namespace) -> int:
    net.probe()
    env = {"JOBCAST_SIM_TPS": str(args.tps)}
    bed = build((*WEBS, *WORKERS), env, relay_database=False, owner="manual")
    for host in WORKERS:
        bed.start_worker(host, threads=args.threads)
    for host in WEBS:
        bed.start_web(host)
    bed.wait_workers(*WORKERS)
    print(f"bed {bed.id} on {bed.network.subnet} (logs in {bed.logs})")
    for each in bed.network.hosts.values():
        print(f"  {each.name:6} {each.address:15} {each.namespace:16} link {each.veth}")
    print(f"  web: {bed.url('web1')}  {bed.url('web2')}")
    print(f"  DATABASE_URL={bed.database_url}\n  REDIS_URL={bed.redis_url}")
    return 0


def down(args: argparse.Namespace) -> int:
    ids = [args.id] if args.id else [b.name for b in _beds() if _owner(b) == "manual"]
    for bed_id in ids:
        teardown(bed_id)
        print(f"removed {bed_id}")
    for bed_id in sweep():
        print(f"removed stale {bed_id}")
    return 0


def status(_args: argparse.Namespace) -> int:
    for folder in _beds():
        described = folder / "bed.json"
        if not described.exists():
            print(f"{folder.name}: being built or broken (owner {_owner(folder)})")
            continue
        info = json.loads(described.read_text())
        print(f"{info['id']} on {info['subnet']} (owner {_owner(folder)})")
        for name, host in info["hosts"].items():
            pids = net.pids_in(host["namespace"])
            print(f"  {name:6} {host['address']:15} {len(pids)} processes {_health(name, host)}")
    return 0


def _health(name: str, host: dict[str, str]) -> str:
    if not name.startswith("web"):
        return ""
    try:
        return httpx.get(f"http://{host['address']}:{WEB_PORT}/health", timeout=3).text
    except httpx.HTTPError as error:
        return f"health: {error!r}"


def _beds() -> list[Path]:
    return sorted(BEDS.glob(f"{net.PREFIX}*")) if BEDS.exists() else []


def _owner(folder: Path) -> str:
    mark = folder / "owner"
    return mark.read_text().strip() if mark.exists() else "?"


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/hosts.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    started = commands.add_parser("up")
    started.add_argument("--threads", type=int, default=4, help="per worker host")
    started.add_argument("--tps", type=float, default=40, help="the simulated model's tokens/s")
    commands.add_parser("down").add_argument("--id", help="one bed (default: every manual one)")
    commands.add_parser("status")
    args = parser.parse_args()
    return {"up": up, "down": down, "status": status}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
