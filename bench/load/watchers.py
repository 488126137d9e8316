"""`python -m bench.load.watchers`: many WebSocket clients following jobs' events.

Each client records, per event, how long after the event's `ts` it arrived (ms), by
the event's `stage` (scenarios label their steps there). Output events also count the
tokens a client received; at the terminal event the text a client put together is
compared with the job's result, token by token.

Prints READY once every client has its first message (the snapshot), then one JSON
summary when every connection has been closed (by the server, or after STOP on stdin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from bench.load.ws import Watcher, open_all
from bench.measure import percentile, sample


class Client:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.text = ""
        self.result_text: str | None = None
        self.tokens = 0
        self.first = asyncio.get_running_loop().create_future()
        self.last_at = 0.0


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def make_handler(clients: dict[Watcher, Client]) -> Any:
    def on_text(watcher: Watcher, raw: str) -> None:
        now = time.time()
        client = clients[watcher]
        event = json.loads(raw)
        if event["type"] == "snapshot":
            client.text = event["job"].get("output") or ""
            if not client.first.done():
                client.first.set_result(None)
            return
        client.latencies[event.get("stage") or ""].append((now - _epoch(event["ts"])) * 1000)
        client.last_at = now
        if event["type"] == "output":
            client.text += event["delta"]
            client.tokens += len(event["delta"].split())
        elif event["type"] == "status" and isinstance(event.get("result"), dict):
            client.result_text = event["result"].get("text")

    return on_text


def summarize(clients: list[Client], started: float) -> dict[str, Any]:
    steps: dict[str, dict[str, Any]] = {}
    for stage in sorted({s for c in clients for s in c.latencies}):
        per_client = [c.latencies[stage] for c in clients if c.latencies.get(stage)]
        every = [v for values in per_client for v in values]
        p95s = [percentile(values, 95) for values in per_client]
        steps[stage] = {
            "events": len(every),
            "clients": len(per_client),
            "p50": percentile(every, 50),
            "p95": percentile(every, 95),
            "p99": percentile(every, 99),
            "max": max(every),
            "client_p95_within_100ms": sum(p <= 100 for p in p95s) / len(clients),
            "sample": sample(every, 2000),
        }
    lost = [
        max(0, len(c.result_text.split()) - len(c.text.split()))
        for c in clients
        if c.result_text is not None
    ]
    return {
        "clients": len(clients),
        "steps": steps,
        "tokens": sum(c.tokens for c in clients),
        "tokens_lost": sum(lost),
        "texts_checked": len(lost),
        "texts_differ": sum(c.result_text is not None and c.text != c.result_text for c in clients),
        "first_event_at": started,
        "last_event_at": max((c.last_at for c in clients), default=0.0),
    }


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of several load generators' summaries (their clients split a run).

    Percentiles come from the generators' evenly spread samples put together: close to
    exact when the generators had equal shares of the clients, as S5 gives them.
    """
    clients = sum(r["clients"] for r in results)
    steps = {}
    for stage in sorted({s for r in results for s in r["steps"]}):
        parts = [(r["clients"], r["steps"][stage]) for r in results if stage in r["steps"]]
        every = [v for _, part in parts for v in part["sample"]]
        steps[stage] = {
            "events": sum(part["events"] for _, part in parts),
            "clients": sum(part["clients"] for _, part in parts),
            "p50": percentile(every, 50),
            "p95": percentile(every, 95),
            "p99": percentile(every, 99),
            "max": max(part["max"] for _, part in parts),
            "client_p95_within_100ms": sum(n * part["client_p95_within_100ms"] for n, part in parts)
            / clients,
            "sample": sample(every, 2000),
        }
    return {
        "clients": clients,
        "steps": steps,
        **{
            key: sum(r[key] for r in results)
            for key in ("tokens", "tokens_lost", "texts_checked", "texts_differ")
        },
        "first_event_at": min(r["first_event_at"] for r in results),
        "last_event_at": max(r["last_event_at"] for r in results),
    }


async def watch(urls: list[str], at_once: int) -> dict[str, Any]:
    clients: dict[Watcher, Client] = {}
    handler = make_handler(clients)

    def on_text(watcher: Watcher, raw: str) -> None:
        clients.setdefault(watcher, Client())
        handler(watcher, raw)

    watchers = await open_all(urls, on_text, at_once)
    await asyncio.gather(*(clients.setdefault(w, Client()).first for w in watchers))
    print(f"READY {len(watchers)}", flush=True)
    started = time.time()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_stop, args=(loop, stop), daemon=True).start()
    closed: asyncio.Future[list[int | None]] = asyncio.gather(*(w.closed for w in watchers))
    stopped: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
    either: list[asyncio.Future[Any]] = [stopped, closed]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        for watcher in watchers:
            watcher.close()
        await asyncio.wait_for(closed, 30)
    stopped.cancel()
    return summarize([clients[w] for w in watchers], started)


def _read_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """STOP (or the end of stdin) closes every connection from the client side."""
    for line in sys.stdin:
        if line.strip() == "STOP":
            break
    loop.call_soon_threadsafe(stop.set)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True, help="a file with one URL a line")
    parser.add_argument("--at-once", type=int, default=100)
    args = parser.parse_args()
    with open(args.urls) as f:
        urls = [line.strip() for line in f if line.strip()]
    print(json.dumps(asyncio.run(watch(urls, args.at_once))), flush=True)


if __name__ == "__main__":
    main()
