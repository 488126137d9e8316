"""Building the messages of a model call."""

from __future__ import annotations

from actors.providers.base import Message


def ask(system: str, user: str) -> list[Message]:
    """A two-message conversation: instructions, then the request."""
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
