"""Reading streamed chunks from the bytes (actors/providers/sse.py): a reply comes out
whole and in order however the network cuts it, and an error event ends it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from actors.pipeline.errors import LLMError
from actors.providers.base import Message, Usage
from actors.providers.openai import OpenAIProvider
from actors.providers.sse import ChunkReader
from tests.openai_server import OpenAIServer, Recorded

RECORDING = Path(__file__).parent.parent / "fixtures" / "smollm2-chat.sse"
MESSAGES: list[Message] = [{"role": "user", "content": "Tell me about the lighthouse"}]
REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")


def recorded_chunks(body: bytes) -> list[str]:
    """The reply's text chunks, event by event, as the recording holds them."""
    chunks = []
    for event in body.split(b"\n\n"):
        data = event.removeprefix(b"data: ").strip()
        if data and data != b"[DONE]":
            chunks += [c["delta"].get("content") or "" for c in json.loads(data)["choices"]]
    return [chunk for chunk in chunks if chunk]


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_a_reply_cut_anywhere_by_the_network_reads_whole_and_in_order(size: int) -> None:
    body = RECORDING.read_bytes()
    reader = ChunkReader(Usage(), REQUEST)
    text = "".join(reader.feed(body[at : at + size]) for at in range(0, len(body), size))
    assert text == "".join(recorded_chunks(body)) != ""
    assert reader.finished
    assert reader.chunks == len(recorded_chunks(body))


async def test_a_recorded_real_reply_streams_through_the_provider(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    body = RECORDING.read_bytes()
    server.plan("lighthouse", Recorded(body))
    reply = provider.stream(MESSAGES, "smollm2")
    text = "".join([delta async for delta in reply])
    assert text == "".join(recorded_chunks(body))
    # llama-cpp-python's server reports no usage in a stream: the chunks are counted.
    assert reply.usage.counted
    assert reply.usage.completion_tokens == len(recorded_chunks(body)) > 10


async def test_an_error_event_mid_stream_fails_the_call_as_transient(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    first = {"choices": [{"index": 0, "delta": {"content": "The keeper "}}]}
    error = {"error": {"message": "the model server is overloaded", "type": "server_error"}}
    body = f"data: {json.dumps(first)}\n\ndata: {json.dumps(error)}\n\n".encode()
    server.plan("lighthouse", Recorded(body))
    received: list[str] = []
    with pytest.raises(LLMError) as raised:
        async for delta in provider.stream(MESSAGES, "m"):
            received.append(delta)
    assert raised.value.transient
    assert "mid-stream: the model server is overloaded" in raised.value.message
    assert "".join(received) in ("", "The keeper ")
