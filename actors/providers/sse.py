"""A streamed chat completion read straight from its bytes: server-sent events, each a
JSON chunk of OpenAI's `chat.completion.chunk` shape, then `data: [DONE]`.

The `openai` SDK builds a `ChatCompletionChunk` object tree for every chunk; on a recorded
SmolLM2 reply that cost four to six times what reading the bytes costs (docs/PERFORMANCE.md,
"Tokens: from the model to Redis"). The provider lets the SDK send the request and raise
its status errors, and reads the body here, where every event that one network read
completes becomes part of one delta: a server that sends faster than the worker reads
costs a loop iteration per read, not per token.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from actors.providers.base import Usage


class ChunkReader:
    """Feed it the body's bytes as they come; it returns the text they complete, takes
    the usage the server reports, and notes whether the reply finished."""

    def __init__(self, usage: Usage, request: httpx2.Request) -> None:
        self.usage = usage
        self.request = request
        self.chunks = 0  # chunks with text: the local count when no usage is reported
        self.finished = False  # a finish_reason or the usage chunk came
        self._pending = b""  # the start of an event whose end has not arrived yet

    def feed(self, data: bytes) -> str:
        """The text of the events `data` completes (empty when it completes none)."""
        events = (self._pending + data).replace(b"\r\n", b"\n").split(b"\n\n")
        self._pending = events.pop()
        parts: list[str] = []
        for event in events:
            payload = _data(event)
            if payload and payload != b"[DONE]":
                self._take(json.loads(payload), parts)
        return "".join(parts)

    def _take(self, chunk: Any, parts: list[str]) -> None:
        if not isinstance(chunk, dict):
            return
        if chunk.get("error"):  # as the SDK: an error event ends the stream
            raise _error_event(chunk["error"], self.request)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.usage.completion_tokens = int(usage.get("completion_tokens") or 0)
            self.finished = True
        for choice in chunk.get("choices") or ():
            self.finished |= choice.get("finish_reason") is not None
            content = (choice.get("delta") or {}).get("content")
            if content:
                parts.append(content)
                self.chunks += 1


async def received(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body as it arrives; a timeout or a broken connection as the SDK's own errors."""
    try:
        async for data in response.aiter_bytes():
            yield data
    except httpx2.TimeoutException as error:
        raise openai.APITimeoutError(request=response.request) from error
    except httpx2.RequestError as error:
        raise openai.APIConnectionError(request=response.request) from error


def _data(event: bytes) -> bytes:
    """The event's data (its `data:` lines joined); comments and other fields ignored."""
    lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines)


def _error_event(error: Any, request: httpx2.Request) -> openai.APIError:
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = "An error occurred during streaming"
    return openai.APIError(message, request, body=error)
