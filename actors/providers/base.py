"""The model-provider interface: a streamed chat completion, and what it cost.

A provider classifies its own failures once, into `LLMError(transient=…, retry_after=…)`;
nothing above it retries a single call (the job attempt is the one retry layer).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from actors.pipeline.errors import LLMError

if TYPE_CHECKING:
    from actors.pipeline.structured import Schema

__all__ = ["LLMError", "Message", "Provider", "Reply", "Usage"]


class Message(TypedDict):
    role: str
    content: str


@dataclass
class Usage:
    """Tokens of one call; `counted` is True when we counted them, not the server.

    `json_mode` is how a structured call asked for JSON (`providers.json_modes`).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    counted: bool = False
    json_mode: str | None = None


@dataclass
class Reply:
    """A streamed reply: iterate it for text deltas; `usage` is filled as it goes.

    Closing it (`aclose`, or cancelling the task that iterates it) closes the request,
    so the server stops generating and nothing more is counted.
    """

    deltas: AsyncGenerator[str, None]
    usage: Usage = field(default_factory=Usage)

    def __aiter__(self) -> AsyncIterator[str]:
        return self.deltas

    async def aclose(self) -> None:
        await self.deltas.aclose()


class Provider(ABC):
    name: str
    default_model: str

    @abstractmethod
    def stream(
        self, messages: list[Message], model: str, schema: Schema[Any] | None = None
    ) -> Reply:
        """Start a streamed chat completion; with `schema`, ask for JSON valid for it."""


def count_tokens(text: str) -> int:
    """A local estimate when the server reports none: about four characters a token."""
    return max(1, round(len(text) / 4)) if text else 0
