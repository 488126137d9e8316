"""The openai provider against a real HTTP server on loopback speaking OpenAI's protocol.

The `openai` SDK does the talking, over TCP; nothing is patched.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from pydantic import BaseModel

from actors.pipeline.errors import LLMError
from actors.pipeline.structured import schema_of
from actors.providers.base import Message, Reply
from actors.providers.http_errors import redact
from actors.providers.openai import (
    PLACEHOLDER_KEY,
    OpenAIOptions,
    OpenAIProvider,
    ResponseFormat,
)
from tests.actors.conftest import API_KEY, make_provider
from tests.openai_server import Fail, OpenAIServer, Seen, Stream
from tests.stack import free_port

MESSAGES: list[Message] = [{"role": "user", "content": "Tell me about the lighthouse"}]
LONG_TEXT = " ".join(f"word{n}" for n in range(200))


async def read(reply: Reply) -> list[str]:
    return [delta async for delta in reply]


async def failure(reply: Reply) -> LLMError:
    with pytest.raises(LLMError) as raised:
        await read(reply)
    return raised.value


async def test_tokens_stream_in_order_and_usage_comes_from_the_final_chunk(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("lighthouse", Stream("One two three", usage=(812, 344)))
    reply = provider.stream(MESSAGES, "loop-model")
    # Chunks that arrive in one network read come as one delta.
    assert "".join(await read(reply)) == "One two three"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (812, 344)
    assert not reply.usage.counted
    [seen] = server.seen("lighthouse")
    assert seen.body["model"] == "loop-model"
    assert seen.body["stream"] is True
    assert seen.body["stream_options"] == {"include_usage": True}
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"


async def test_without_stream_usage_the_tokens_are_counted_locally_and_marked(
    server: OpenAIServer,
) -> None:
    provider = make_provider(server, stream_usage=False)
    server.plan("lighthouse", Stream("One two three"))
    reply = provider.stream(MESSAGES, "loop-model")
    await read(reply)
    await provider.aclose()
    assert "stream_options" not in server.seen("lighthouse")[0].body
    assert reply.usage.counted
    assert reply.usage.completion_tokens == 3
    assert reply.usage.prompt_tokens > 0


async def test_a_base_url_alone_gets_a_placeholder_key(server: OpenAIServer) -> None:
    provider = OpenAIProvider(OpenAIOptions(base_url=server.url))
    await read(provider.stream(MESSAGES, "llama3"))
    await provider.aclose()
    assert server.seen()[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Retry-After": "3"}, 3.0, 3.0),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5, 1.5),
        # An hour ahead, as of collection: the test may run minutes later.
        ({"Retry-After": email.utils.formatdate(time.time() + 3600, usegmt=True)}, 3000, 3600),
    ],
    ids=["seconds", "milliseconds", "http-date"],
)
async def test_429_is_transient_and_carries_the_servers_retry_after(
    server: OpenAIServer,
    provider: OpenAIProvider,
    headers: dict[str, str],
    low: float,
    high: float,
) -> None:
    server.plan("lighthouse", Fail(429, "Rate limit reached for requests", headers))
    error = await failure(provider.stream(MESSAGES, "m"))
    assert error.transient
    assert error.retry_after is not None and low <= error.retry_after <= high
    assert "429" in error.message and "Rate limit reached" in error.message
    assert len(server.seen("lighthouse")) == 1  # the SDK did not retry on its own


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    server: OpenAIServer, provider: OpenAIProvider, status: int
) -> None:
    server.plan("lighthouse", Fail(status, "The server had an error"))
    error = await failure(provider.stream(MESSAGES, "m"))
    assert error.transient
    assert error.retry_after is None
    assert f"answered {status}: The server had an error" in error.message
    assert len(server.seen("lighthouse")) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_permanent_and_say_what_the_server_answered(
    server: OpenAIServer, provider: OpenAIProvider, status: int
) -> None:
    # OpenAI's own 401 echoes the key (masked); ours echoes it whole: neither may leak.
    said = f"Incorrect API key provided: {API_KEY}. Or was it sk-abc1****7890?"
    server.plan("lighthouse", Fail(status, said))
    error = await failure(provider.stream(MESSAGES, "m"))
    assert not error.transient
    assert error.message.startswith(f"the model server answered {status}: Incorrect API key")
    assert API_KEY not in error.message
    assert "sk-" not in error.message
    assert len(server.seen("lighthouse")) == 1


async def test_a_stream_cut_in_the_middle_is_transient(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("lighthouse", Stream(LONG_TEXT, cut_after=5))
    reply = provider.stream(MESSAGES, "m")
    received: list[str] = []
    with pytest.raises(LLMError) as raised:
        async for delta in reply:
            received.append(delta)
    assert raised.value.transient
    assert "connection" in raised.value.message
    assert 0 < len(received) < 200


async def test_a_stream_that_ends_before_the_reply_finished_is_transient(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("lighthouse", Stream("half a sen", finish=False))
    error = await failure(provider.stream(MESSAGES, "m"))
    assert error.transient
    assert "ended the stream before the reply was complete" in error.message


async def test_a_slow_stream_past_the_read_timeout_is_transient(server: OpenAIServer) -> None:
    provider = make_provider(server, read_timeout=0.3)
    server.plan("lighthouse", Stream(first_delay=5))
    error = await failure(provider.stream(MESSAGES, "m"))
    await provider.aclose()
    assert error.transient
    assert "did not answer in time" in error.message
    # The client gave up and hung up; the server did not get to send the reply.
    server.wait_for(lambda: server.seen("lighthouse")[0].client_closed_at is not None)


async def test_an_unreachable_server_is_transient() -> None:
    options = OpenAIOptions(base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=API_KEY)
    provider = OpenAIProvider(options)
    error = await failure(provider.stream(MESSAGES, "m"))
    await provider.aclose()
    assert error.transient
    assert API_KEY not in error.message


async def test_cancelling_the_reader_closes_the_request_and_counts_only_what_arrived(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("lighthouse", Stream(LONG_TEXT, delay=0.02))
    reply = provider.stream(MESSAGES, "m")
    received: list[str] = []

    async def consume() -> None:
        async for delta in reply:
            received.append(delta)

    task = asyncio.create_task(consume())
    seen = await asyncio.to_thread(server.request, "lighthouse")
    await asyncio.to_thread(server.wait_for, lambda: seen.chunks_sent >= 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(server.wait_for, lambda: seen.client_closed_at is not None)
    assert seen.client_closed_at is not None
    assert seen.client_closed_at - cancelled_at < 2.0  # the contract's bound for a cancel
    assert not seen.finished
    assert seen.chunks_sent < 200
    # No usage chunk came: the tokens that did arrive are counted, and only those.
    assert reply.usage.counted
    assert reply.usage.completion_tokens == len("".join(received).split()) < 200


async def test_closing_the_reply_early_closes_the_request(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("lighthouse", Stream(LONG_TEXT, delay=0.02))
    reply = provider.stream(MESSAGES, "m")
    async for _ in reply:
        break
    await reply.aclose()
    seen = server.seen("lighthouse")[0]
    await asyncio.to_thread(server.wait_for, lambda: seen.client_closed_at is not None)
    assert not seen.finished


class Answer(BaseModel):
    title: str


JSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "Answer", "schema": Answer.model_json_schema()},
}


JSON_OBJECT = {"type": "json_object", "schema": Answer.model_json_schema()}


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("auto", JSON_SCHEMA),
        ("json_schema", JSON_SCHEMA),
        ("json_object", JSON_OBJECT),
        ("off", None),
    ],
)
async def test_structured_calls_ask_for_json_as_configured(
    server: OpenAIServer, setting: ResponseFormat, expected: dict[str, object] | None
) -> None:
    provider = make_provider(server, response_format=setting)
    await read(provider.stream(MESSAGES, "m", schema_of(Answer)))
    await read(provider.stream(MESSAGES, "m"))
    await provider.aclose()
    structured, plain = server.seen()
    assert structured.body.get("response_format") == expected
    assert "response_format" not in plain.body


def formats(requests: list[Seen]) -> list[str | None]:
    return [(r.body.get("response_format") or {}).get("type") for r in requests]


async def test_auto_steps_down_to_json_object_with_the_schema_once_per_provider() -> None:
    server = OpenAIServer(response_formats={"text", "json_object"}).start()  # as llama.cpp's
    provider = make_provider(server, response_format="auto")
    try:
        server.plan("lighthouse", Stream('{"title": "One"}'), Stream('{"title": "Two"}'))
        first = provider.stream(MESSAGES, "m", schema_of(Answer))
        assert "".join(await read(first)) == '{"title": "One"}'
        second = provider.stream(MESSAGES, "m", schema_of(Answer))
        assert "".join(await read(second)) == '{"title": "Two"}'
    finally:
        await provider.aclose()
        server.stop()
    refused, *accepted = server.seen("lighthouse")
    assert formats([refused, *accepted]) == ["json_schema", "json_object", "json_object"]
    assert accepted[0].body["response_format"] == JSON_OBJECT
    assert first.usage.json_mode == second.usage.json_mode == "json_object"


async def test_a_server_that_takes_no_response_format_gets_the_schema_in_the_prompt() -> None:
    server = OpenAIServer(response_formats={"text"}).start()
    provider = make_provider(server, response_format="auto")
    try:
        replies = [provider.stream(MESSAGES, "m", schema_of(Answer)) for _ in range(3)]
        await asyncio.gather(*(read(reply) for reply in replies))  # probing side by side
        later = provider.stream(MESSAGES, "m", schema_of(Answer))
        await read(later)
    finally:
        await provider.aclose()
        server.stop()
    assert [reply.usage.json_mode for reply in [*replies, later]] == ["prompt"] * 4
    assert formats(server.seen())[-1] is None
    # Each of the three calls probed at most once per refused mode, the later one not at all.
    assert formats(server.seen()).count("json_schema") <= 3
    assert len(server.seen()) <= 3 * 3 + 1


async def test_a_fixed_format_the_server_refuses_fails_at_once_and_says_what_to_set() -> None:
    server = OpenAIServer(response_formats={"text", "json_object"}).start()
    provider = make_provider(server, response_format="json_schema")
    try:
        error = await failure(provider.stream(MESSAGES, "m", schema_of(Answer)))
    finally:
        await provider.aclose()
        server.stop()
    assert not error.transient  # a 500, but the body says the request is invalid
    assert "answered 500: 1 validation error" in error.message
    assert "JOBCAST_OPENAI_RESPONSE_FORMAT=auto" in error.message
    assert formats(server.seen()) == ["json_schema"]


@pytest.mark.parametrize(
    "refusal",
    [
        Fail(500, "1 validation error for ChatCompletionRequest\nmessages: Field required"),
        Fail(500, "messages must not be empty", error_type="invalid_request_error"),
    ],
    ids=["validation-error", "invalid-request-type"],
)
async def test_a_server_error_that_calls_the_request_invalid_is_permanent(
    server: OpenAIServer, provider: OpenAIProvider, refusal: Fail
) -> None:
    server.plan("lighthouse", refusal)
    error = await failure(provider.stream(MESSAGES, "m"))
    assert not error.transient
    assert f"answered 500: {refusal.message}" in error.message


async def test_a_one_character_key_is_redacted_only_where_it_stands_alone() -> None:
    server = OpenAIServer().start()
    options = OpenAIOptions(base_url=server.url, api_key="x", read_timeout=5)
    provider = OpenAIProvider(options)
    said = "Incorrect API key x: expected a 'text' of the exact size"
    server.plan("lighthouse", Fail(401, said))
    try:
        error = await failure(provider.stream(MESSAGES, "m"))
    finally:
        await provider.aclose()
        server.stop()
    assert error.message == (
        "the model server answered 401: Incorrect API key [redacted]: "
        "expected a 'text' of the exact size"
    )


@pytest.mark.parametrize(
    ("key", "text", "redacted"),
    [
        ("x", "'text' or 'json_object', not x", "'text' or 'json_object', not [redacted]"),
        ("x", "x-ray", "x-ray"),
        ("abc", "key=abc; abcd", "key=[redacted]; abcd"),
        ("Secret-1234567", "mySecret-1234567890", "my[redacted]890"),
        (None, "Bearer abc.def and sk-abc1****7890", "[redacted] and [redacted]"),
    ],
)
def test_redaction_keeps_the_text_around_the_key(key: str | None, text: str, redacted: str) -> None:
    assert redact(text, key) == redacted
