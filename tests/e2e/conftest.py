"""Fixtures the end-to-end modules share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_server import OpenAIServer


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    """The module's OpenAI-protocol server on loopback (tests/openai_server.py)."""
    running = OpenAIServer().start()
    yield running
    running.stop()
