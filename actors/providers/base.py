"""The model-provider interface: a streamed chat completion, and what it cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TypedDict

from actors.errors import LLMError

__all__ = ["LLMError", "Message", "Provider", "Reply", "Usage"]


class Message(TypedDict):
    role: str
    content: str


@dataclass
class Usage:
    """Tokens of one call; `counted` is True when we counted them, not the server."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    counted: bool = False


@dataclass
class Reply:
    """A streamed reply: iterate it for text deltas; `usage` is filled when it ends."""

    deltas: AsyncGenerator[str, None]
    usage: Usage = field(default_factory=Usage)

    def __aiter__(self) -> AsyncIterator[str]:
        return self.deltas


class Provider(ABC):
    name: str
    default_model: str

    @abstractmethod
    def stream(self, messages: list[Message], model: str) -> Reply:
        """Start a streamed chat completion; closing the iterator closes the request."""
