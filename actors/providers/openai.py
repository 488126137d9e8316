"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio, llama.cpp) through the
`openai` SDK.

The SDK's own retries are off (`max_retries=0`): a failed call becomes one `LLMError`
(see `http_errors`), and the job attempt is the only retry layer. The one exception is
a server refusing the `response_format` of a structured call: the same call is sent again
at once in the next JSON mode (see `json_modes`). The SDK sends the request and raises
its status errors; the streamed body is read by `sse.ChunkReader`, not parsed into the
SDK's objects (the CPU it saves: docs/PERFORMANCE.md). Closing the reply closes the HTTP
response, which drops the connection mid-stream, so the server stops generating.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

from actors.pipeline.errors import LLMError
from actors.pipeline.structured import Schema
from actors.providers.base import Message, Provider, Reply, Usage, count_tokens
from actors.providers.http_errors import classify
from actors.providers.json_modes import (
    JsonModes,
    ResponseFormat,
    refuses_response_format,
    response_format,
)
from actors.providers.sse import ChunkReader, received

__all__ = ["PLACEHOLDER_KEY", "OpenAIOptions", "OpenAIProvider", "ResponseFormat"]

# Ollama, vLLM and LM Studio ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "jobcast-no-key"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str | None = None
    api_key: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    stream_usage: bool = True  # ask for usage in the last chunk (some servers refuse)
    response_format: ResponseFormat = "auto"


class OpenAIProvider(Provider):
    name = "openai"
    default_model = "gpt-4o-mini"

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self.json_modes = JsonModes(options.response_format)
        self._client = openai.AsyncOpenAI(
            base_url=options.base_url,
            api_key=options.api_key or PLACEHOLDER_KEY,
            max_retries=0,
            timeout=openai.Timeout(options.read_timeout, connect=options.connect_timeout),
        )

    def stream(
        self, messages: list[Message], model: str, schema: Schema[Any] | None = None
    ) -> Reply:
        usage = Usage()
        return Reply(self._deltas(self._request(messages, model), schema, usage), usage)

    async def aclose(self) -> None:
        await self._client.close()

    def _request(self, messages: list[Message], model: str) -> dict[str, Any]:
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if self.options.stream_usage:
            request["stream_options"] = {"include_usage": True}
        return request

    async def _open(
        self, request: dict[str, Any], schema: Schema[Any] | None, usage: Usage
    ) -> httpx2.Response:
        """The streamed response; a structured call steps down the JSON modes the
        server refuses, and `usage.json_mode` names the one it was sent in."""
        if schema is None:
            return await self._create(request)
        mode = self.json_modes.current
        while True:
            usage.json_mode = mode
            fmt = response_format(mode, schema)
            try:
                return await self._create({**request, "response_format": fmt} if fmt else request)
            except openai.APIStatusError as error:
                following = self.json_modes.after_refusal(mode, error)
                if following is None and refuses_response_format(error):
                    raise _format_refused(error, self.options.api_key) from None
                if following is None:
                    raise
                log.warning(
                    "the model server refused response_format %s (%s); using %s from now on",
                    mode, error.status_code, following,
                )  # fmt: skip
                mode = following

    async def _create(self, request: dict[str, Any]) -> httpx2.Response:
        """The SDK sends the request and raises its status errors; the body, still
        unread, is read by `sse.ChunkReader` rather than parsed into the SDK's objects."""
        raw = await self._client.chat.completions.with_raw_response.create(**request)
        response: httpx2.Response = raw.http_response
        return response

    async def _deltas(
        self, request: dict[str, Any], schema: Schema[Any] | None, usage: Usage
    ) -> AsyncGenerator[str, None]:
        key = self.options.api_key
        try:
            response = await self._open(request, schema, usage)
        except openai.APIError as error:
            raise classify(error, key) from None
        reader = ChunkReader(usage, response.request)
        try:
            async for data in received(response):
                text = reader.feed(data)
                if text:
                    yield text
        except openai.APIError as error:
            raise classify(error, key) from None
        finally:
            # Also on cancellation or an early close: drops the connection mid-stream.
            await response.aclose()
            if not usage.prompt_tokens and not usage.completion_tokens:
                _count(request["messages"], reader.chunks, usage)
        if not reader.finished:
            raise LLMError(
                "the model server ended the stream before the reply was complete", transient=True
            )


def _format_refused(error: openai.APIStatusError, api_key: str | None) -> LLMError:
    failure = classify(error, api_key)
    hint = "JOBCAST_OPENAI_RESPONSE_FORMAT=auto uses a format the server takes"
    return LLMError(f"{failure.message} ({hint})", transient=failure.transient)


def _count(messages: list[Message], chunks: int, usage: Usage) -> None:
    """The server reported no usage: estimate the prompt, count the streamed chunks."""
    usage.prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
    usage.completion_tokens = chunks
    usage.counted = True
