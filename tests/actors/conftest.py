"""A loopback OpenAI-protocol server per test, and a provider pointed at it.

`actors` is imported lazily here: pytest may load this file before the root conftest
has pointed the environment at the test Redis and database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.openai_server import OpenAIServer

if TYPE_CHECKING:
    from actors.providers.openai import OpenAIProvider, ResponseFormat

API_KEY = "sk-loopback-Secret-1234567890"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer().start()
    yield running
    running.stop()


def make_provider(
    server: OpenAIServer,
    *,
    read_timeout: float = 5.0,
    stream_usage: bool = True,
    response_format: ResponseFormat = "json_schema",
) -> OpenAIProvider:
    from actors.providers.openai import OpenAIOptions, OpenAIProvider

    options = OpenAIOptions(
        base_url=server.url,
        api_key=API_KEY,
        read_timeout=read_timeout,
        stream_usage=stream_usage,
        response_format=response_format,
    )
    return OpenAIProvider(options)


@pytest.fixture
async def provider(server: OpenAIServer) -> AsyncIterator[OpenAIProvider]:
    made = make_provider(server)
    yield made
    await made.aclose()
