"""S6's baseline: the same token streams relayed in-process, with no Redis and no worker.

A Starlette app under the same uvicorn command line. Each WebSocket at
`/jobs/{n}/events` gets a snapshot; once `POST /start` is called, every connection runs
the simulated model (the same settings, so the same text at the same pace), coalesces
its tokens with jobcast's own `OutputStream` and sends each chunk as an `output`
event, then the terminal `status` event with the result, then closes with 1000.
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from actors.pipeline.output import OutputStream
from actors.providers.simulated import SimulatedProvider
from store.settings import get_settings
from store.times import now_iso

START = asyncio.Event()


def _provider() -> SimulatedProvider:
    settings = get_settings()
    return SimulatedProvider(
        settings.sim_ttft, settings.sim_tps, seed=settings.sim_seed, tokens=settings.sim_tokens
    )


async def events(ws: WebSocket) -> None:
    job_id = ws.path_params["job_id"]
    await ws.accept()
    seq = 0

    async def send(kind: str, **fields: object) -> None:
        nonlocal seq
        seq += 1
        event = {"seq": seq, "job_id": job_id, "type": kind, "ts": now_iso(), **fields}
        await ws.send_text(json.dumps(event))

    await ws.send_text(json.dumps({"type": "snapshot", "seq": 0, "job": {"output": None}}))
    await START.wait()
    reply = _provider().stream([{"role": "user", "content": "benchmark"}], "simulated-1")

    async def publish(chunk: str) -> None:
        await send("output", stage="answer", delta=chunk)

    text = ""
    async with OutputStream(publish) as out:
        async for token in reply.deltas:
            text += token
            await out.write(token)
    await send("status", status="completed", attempt=1, result={"text": text})
    await ws.close(1000)


async def start(request: Request) -> JSONResponse:
    START.set()
    return JSONResponse({"started": True})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        WebSocketRoute("/jobs/{job_id}/events", events),
        Route("/start", start, methods=["POST"]),
        Route("/", health),
    ]
)
