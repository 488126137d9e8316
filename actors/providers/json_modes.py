"""How a structured call asks an OpenAI-compatible server for JSON, and stepping down.

    json_schema  {"type": "json_schema", "json_schema": {"name", "schema"}}
                 OpenAI, vLLM, Ollama, LM Studio, llama.cpp's own llama-server
    json_object  {"type": "json_object", "schema": {...}}
                 llama-cpp-python's server (a grammar made from the schema)
    prompt       no `response_format`: the schema is in the prompt only, and an
                 answer that fails it gets one repair round

Every mode but `prompt` is constrained decoding: the server can only emit JSON of the
schema's shape. With the setting `auto` a provider starts at `json_schema` and steps down
when a server refuses a format (400, 422 or 500 whose body names `response_format`); the
step is remembered for the provider's life, so a worker probes once, not on every call.
A fixed setting uses that mode only.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Literal

import openai

from actors.pipeline.structured import Schema

JsonMode = Literal["json_schema", "json_object", "prompt"]
ResponseFormat = Literal["auto", "json_schema", "json_object", "off"]

LADDERS: dict[ResponseFormat, tuple[JsonMode, ...]] = {
    "auto": ("json_schema", "json_object", "prompt"),
    "json_schema": ("json_schema",),
    "json_object": ("json_object",),
    "off": ("prompt",),
}
REFUSAL_STATUSES = {400, 422, 500}


class JsonModes:
    """The modes one provider may use, and the one that works on its server so far."""

    def __init__(self, setting: ResponseFormat) -> None:
        self._ladder = LADDERS[setting]
        self._index = 0
        self._lock = threading.Lock()  # calls of one worker run on several threads

    @property
    def current(self) -> JsonMode:
        return self._ladder[self._index]

    def after_refusal(self, mode: JsonMode, error: openai.APIStatusError) -> JsonMode | None:
        """The mode to try next when the server answered a request in `mode` with `error`;
        None when `error` is not a refusal of the format, or there is nothing left."""
        if not refuses_response_format(error):
            return None
        with self._lock:
            position = self._ladder.index(mode)
            # Calls that probed at the same time all come here: step down once per mode.
            self._index = max(self._index, position + 1)
            if self._index >= len(self._ladder):
                self._index = len(self._ladder) - 1
                return None
            return self._ladder[self._index]


def refuses_response_format(error: openai.APIStatusError) -> bool:
    """The server said it cannot take this request's `response_format`."""
    return error.status_code in REFUSAL_STATUSES and "response_format" in _body_text(error)


def response_format(mode: JsonMode, schema: Schema[Any]) -> dict[str, Any] | None:
    """The request's `response_format` in `mode` (None: leave it out)."""
    if mode == "json_schema":
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", schema.name)[:64] or "answer"  # OpenAI's rule
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema.json_schema}}
    if mode == "json_object":
        return {"type": "json_object", "schema": schema.json_schema}
    return None


def _body_text(error: openai.APIStatusError) -> str:
    if error.body is not None:
        return json.dumps(error.body) if not isinstance(error.body, str) else error.body
    return error.message
