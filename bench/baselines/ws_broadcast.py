"""S5's baseline: a bare `websockets` broadcast server, compression off.

`python -m bench.baselines.ws_broadcast --port P --clients N --rates 2,5 --step-s 3`
accepts N connections, prints READY, waits for GO on stdin, then broadcasts messages
shaped like jobcast's progress events (with their `ts`) to every connection at each
rate in turn, and closes every connection with 1000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection, broadcast, serve


def event(seq: int, stage: str) -> str:
    ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = {
        "seq": seq,
        "job_id": "0" * 32,
        "type": "progress",
        "ts": ts,
        "progress": seq % 99,
        "message": f"event {seq}",
        "stage": stage,
    }
    return json.dumps(body)


async def main(args: argparse.Namespace) -> None:
    clients: set[ServerConnection] = set()
    everyone = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "snapshot", "seq": 0, "job": {"output": None}}))
        clients.add(ws)
        if len(clients) >= args.clients:
            everyone.set()
        await ws.wait_closed()

    async with serve(
        handler,
        "127.0.0.1",
        args.port,
        compression=None,
        backlog=8192,
        ping_interval=None,
        max_queue=None,
    ):
        await everyone.wait()
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        seq = 0
        loop = asyncio.get_running_loop()
        for rate in args.rates:
            start = loop.time()
            for n in range(int(rate * args.step_s)):
                delay = start + n / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                seq += 1
                broadcast(clients, event(seq, f"{rate:g}"))
            await asyncio.sleep(args.pause_s)
        await asyncio.gather(*(ws.close(1000) for ws in list(clients)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], required=True)
    parser.add_argument("--step-s", type=float, default=3.0)
    parser.add_argument("--pause-s", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
