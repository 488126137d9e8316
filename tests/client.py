"""Small helpers the end-to-end tests share: submit over REST, read a WebSocket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from tests.stack import Stack


def submit(stack: Stack, prompt: str = "Tell me about lighthouses", **extra: Any) -> str:
    body = {"type": "chat", "params": {"prompt": prompt}, **extra}
    response = httpx.post(f"{stack.base_url}/jobs", json=body, timeout=10)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def get_job(stack: Stack, job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.base_url}/jobs/{job_id}", timeout=10)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@dataclass
class Received:
    messages: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    close_code: int | None = None

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] != "snapshot"]

    @property
    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages]

    def text(self) -> str:
        """The output a client shows: the snapshot's output plus every later delta."""
        text = ""
        for message in self.messages:
            if message["type"] == "snapshot":
                text = message["job"]["output"] or ""
            elif message["type"] == "output":
                text += message["delta"]
        return text


def connect(url: str) -> websockets.connect:
    return websockets.connect(url, compression=None, open_timeout=10, max_queue=None)


async def read_all(ws: websockets.ClientConnection, into: Received | None = None) -> Received:
    """Read until the server closes the connection."""
    received = into or Received()
    try:
        async for raw in ws:
            assert isinstance(raw, str)
            received.raw.append(raw)
            received.messages.append(json.loads(raw))
    except websockets.ConnectionClosedError:
        pass
    received.close_code = ws.close_code
    return received


async def read_until(
    ws: websockets.ClientConnection, received: Received, done: Any
) -> dict[str, Any]:
    """Read messages until `done(message)` is true; returns that message."""
    while True:
        raw = await ws.recv()
        assert isinstance(raw, str)
        message: dict[str, Any] = json.loads(raw)
        received.raw.append(raw)
        received.messages.append(message)
        if done(message):
            return message
