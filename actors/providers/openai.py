"""Any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio) through the `openai` SDK.

The SDK's own retries are off (`max_retries=0`): a failed call becomes one `LLMError`
(see `http_errors`), and the job attempt is the only retry layer. Closing the reply
closes the HTTP response, which drops the connection mid-stream, so the server stops
generating.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletionChunk

from actors.pipeline.errors import LLMError
from actors.pipeline.structured import Schema
from actors.providers.base import Message, Provider, Reply, Usage, count_tokens
from actors.providers.http_errors import classify

# Ollama, vLLM and LM Studio ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "jobcast-no-key"
ResponseFormat = Literal["json_schema", "json_object", "off"]


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str | None = None
    api_key: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    stream_usage: bool = True  # ask for usage in the last chunk (some servers refuse)
    response_format: ResponseFormat = "json_schema"


class OpenAIProvider(Provider):
    name = "openai"
    default_model = "gpt-4o-mini"

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
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
        return Reply(self._deltas(self._request(messages, model, schema), usage), usage)

    async def aclose(self) -> None:
        await self._client.close()

    def _request(
        self, messages: list[Message], model: str, schema: Schema[Any] | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if self.options.stream_usage:
            request["stream_options"] = {"include_usage": True}
        if schema is not None and self.options.response_format == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": _schema_name(schema.name), "schema": schema.json_schema},
            }
        elif schema is not None and self.options.response_format == "json_object":
            request["response_format"] = {"type": "json_object"}
        return request

    async def _deltas(self, request: dict[str, Any], usage: Usage) -> AsyncGenerator[str, None]:
        key = self.options.api_key
        try:
            stream = await self._client.chat.completions.create(**request)
        except openai.APIError as error:
            raise classify(error, key) from None
        finished = False
        written: list[str] = []
        try:
            async for chunk in stream:
                finished |= _take_usage(chunk, usage)
                for choice in chunk.choices:
                    finished |= choice.finish_reason is not None
                    if choice.delta.content:
                        written.append(choice.delta.content)
                        yield choice.delta.content
        except openai.APIError as error:
            raise classify(error, key) from None
        finally:
            # Also on cancellation or an early close: drops the connection mid-stream.
            await stream.close()
            if not usage.prompt_tokens and not usage.completion_tokens:
                _count(request["messages"], written, usage)
        if not finished:
            raise LLMError(
                "the model server ended the stream before the reply was complete", transient=True
            )


def _take_usage(chunk: ChatCompletionChunk, usage: Usage) -> bool:
    if chunk.usage is None:
        return False
    usage.prompt_tokens = chunk.usage.prompt_tokens
    usage.completion_tokens = chunk.usage.completion_tokens
    return True


def _count(messages: list[Message], written: list[str], usage: Usage) -> None:
    """The server reported no usage: estimate the prompt, count the streamed chunks."""
    usage.prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
    usage.completion_tokens = len(written)
    usage.counted = True


def _schema_name(name: str) -> str:
    """OpenAI accepts `[a-zA-Z0-9_-]{1,64}` as a schema's name."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "answer"
