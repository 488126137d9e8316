"""`python -m bench.openai_stream`: the client's CPU per streamed chunk of a real reply.

A recorded reply of a real model server (tests/fixtures/*.sse, raw SSE bytes) is replayed
by the loopback OpenAI server of the tests (tests/openai_server.py, on its own thread),
as many times as asked, and read three ways on this thread's event loop:
- `http`: httpx2 alone, reading the body (the floor: HTTP and the socket);
- `sdk`: the `openai` client's stream, every chunk parsed into its objects;
- `ours`: `OpenAIProvider.stream()`, what a worker runs (the SDK plus our handling).
It prints this thread's CPU (the server's thread is not counted) per chunk for each.
Events go back to back by default, so one network read often carries several; with
`--pace` they are that far apart, one a read, as from a model generating live.

    python -m bench.openai_stream                                  # the SmolLM2 recording
    python -m bench.openai_stream --recording other.sse --calls 500
    python -m bench.openai_stream --calls 10 --pace 0.002          # one event a read
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx2
import openai

from tests.openai_server import OpenAIServer, Recorded

RECORDING = Path(__file__).parent.parent / "tests" / "fixtures" / "smollm2-chat.sse"
MESSAGES = [{"role": "user", "content": "benchmark"}]


async def _http(url: str, calls: int) -> None:
    async with httpx2.AsyncClient() as client:
        for _ in range(calls):
            body = {"model": "m", "messages": MESSAGES, "stream": True}
            request = client.build_request("POST", f"{url}/chat/completions", json=body)
            response = await client.send(request, stream=True)
            async for _ in response.aiter_lines():
                pass
            await response.aclose()


async def _sdk(url: str, calls: int) -> None:
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
    for _ in range(calls):
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "benchmark"}], stream=True
        )
        async for _ in stream:
            pass
    await client.close()


async def _ours(url: str, calls: int) -> None:
    from actors.providers.openai import OpenAIOptions, OpenAIProvider

    provider = OpenAIProvider(OpenAIOptions(base_url=url, api_key="bench"))
    for _ in range(calls):
        async for _ in provider.stream([{"role": "user", "content": "benchmark"}], "m"):
            pass
    await provider.aclose()


def _cpu_per_chunk(
    read: Callable[[str, int], Coroutine[Any, Any, None]], url: str, calls: int
) -> float:
    asyncio.run(read(url, 3))  # warm up: imports, connections, the SDK's lazy set-up
    started = time.thread_time()
    asyncio.run(read(url, calls))
    return time.thread_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recording", type=Path, default=RECORDING)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="each way is measured this often")
    parser.add_argument(
        "--pace", type=float, default=0.0, help="seconds between events (0: back to back)"
    )
    args = parser.parse_args()
    # `actors` reads the settings when imported; nothing here connects to them.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:9/0")
    os.environ.setdefault("DATABASE_URL", "sqlite://")
    reply = Recorded.load(args.recording, args.pace)
    chunks = len(reply.events())
    server = OpenAIServer().start()
    server.plan("benchmark", *[reply] * ((args.rounds * 3 + 1) * (args.calls + 3)))
    ways = {"http": _http, "sdk": _sdk, "ours": _ours}
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for _ in range(args.rounds):
            for name, read in ways.items():
                seconds[name].append(_cpu_per_chunk(read, server.url, args.calls))
    finally:
        server.stop()
    pace = f"{args.pace * 1e3:g} ms apart" if args.pace else "back to back"
    print(f"{args.recording.name}: {chunks} SSE events a reply ({pace}), {args.calls} a round")
    for name, runs in seconds.items():
        best = min(runs) / (args.calls * chunks)
        print(f"{name:>5}: {best * 1e6:6.1f} µs/chunk (best of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
