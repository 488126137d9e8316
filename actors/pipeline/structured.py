"""Structured output: what a step asks the model for, and checking what came back.

A step names a pydantic model or a JSON Schema (a dict). `Schema` carries the JSON
Schema sent to the model (in the request where the server supports it, and in the
prompt always), and turns the model's text into a checked value or a `SchemaMismatch`
whose message is short enough to send back to the model in a repair round.

Two slips of constrained decoding are forgiven without a repair round: raw control
characters (a newline) inside strings, and, with `parse_clamped`, numbers outside their
schema's bounds, moved to the nearest bound. llama-cpp-python's grammars bound lengths
and item counts but neither of those.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeGuard, TypeVar, cast, overload

import jsonschema
from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:  # the providers import Schema from here
    from actors.providers.base import Message

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# A model often wraps JSON in a Markdown fence despite being told not to.
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
MAX_ERRORS_SHOWN = 5


class SchemaMismatch(Exception):
    """The text is not JSON, or not JSON valid for the schema; the message says where."""


@dataclass(frozen=True)
class Schema(Generic[T]):
    name: str
    json_schema: dict[str, Any]
    model: type[BaseModel] | None = None

    def parse(self, text: str) -> T:
        """The checked value of the model's answer `text`."""
        return self._checked(_load(text))

    def parse_clamped(self, text: str) -> T:
        """`parse`, after numbers outside their bounds are moved to the nearest bound."""
        data = _load(text)
        for error in jsonschema.Draft202012Validator(self.json_schema).iter_errors(data):
            _clamp(data, error)
        return self._checked(data)

    def _checked(self, data: Any) -> T:
        if self.model is not None:
            try:
                value = self.model.model_validate(data)
            except ValidationError as error:
                raise SchemaMismatch(_pydantic_errors(error)) from None
            return cast(T, value)  # schema_of() pairs T with the model
        errors = sorted(
            jsonschema.Draft202012Validator(self.json_schema).iter_errors(data),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            raise SchemaMismatch(_schema_errors(errors))
        result: T = data
        return result

    def instructions(self) -> str:
        """What the prompt says about the expected answer."""
        schema = json.dumps(self.json_schema, separators=(",", ":"))
        return (
            "Answer with one JSON value only (no prose, no Markdown fence) that is valid "
            f"for this JSON Schema:\n{schema}"
        )


@overload
def schema_of(spec: type[M], name: str | None = None) -> Schema[M]: ...
@overload
def schema_of(spec: dict[str, Any], name: str | None = None) -> Schema[Any]: ...
def schema_of(spec: type[BaseModel] | dict[str, Any], name: str | None = None) -> Schema[Any]:
    """The `Schema` of a pydantic model (values are its instances) or of a JSON Schema."""
    if isinstance(spec, dict):
        return Schema(name or str(spec.get("title", "answer")), spec)
    return Schema(name or spec.__name__, spec.model_json_schema(), spec)


def with_instructions(messages: list[Message], schema: Schema[Any]) -> list[Message]:
    """`messages` with the schema described in a system message of their own."""
    return [{"role": "system", "content": schema.instructions()}, *messages]


def repair_messages(messages: list[Message], answer: str, problem: str) -> list[Message]:
    """The conversation of a repair round: the invalid answer and what is wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": f"That answer is invalid: {problem}\nReply with the corrected JSON only.",
        },
    ]


def _load(text: str) -> Any:
    fenced = _FENCE.match(text)
    try:
        # strict=False: a newline typed inside a string is still plainly that string.
        return json.loads(fenced.group(1) if fenced else text, strict=False)
    except json.JSONDecodeError as error:
        raise SchemaMismatch(f"not valid JSON ({error})") from None


def _clamp(data: Any, error: jsonschema.ValidationError) -> None:
    """Move the number `error` is about to the bound it crossed (an exclusive bound of
    an integer to the nearest integer inside; of a fraction, not at all)."""
    value, bound = error.instance, error.validator_value
    if not (_is_number(value) and _is_number(bound)) or not error.path:
        return
    if error.validator in ("minimum", "maximum"):
        clamped = bound
    elif error.validator in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, int):
        clamped = bound + 1 if error.validator == "exclusiveMinimum" else bound - 1
    else:
        return
    *parents, last = error.path
    container = data
    for part in parents:
        container = container[part]
    container[last] = clamped


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _where(path: list[Any]) -> str:
    return "/".join(str(part) for part in path) or "the top level"


def _pydantic_errors(error: ValidationError) -> str:
    items = error.errors(include_url=False)
    shown = [f"{_where(list(item['loc']))}: {item['msg']}" for item in items[:MAX_ERRORS_SHOWN]]
    more = f" (and {len(items) - MAX_ERRORS_SHOWN} more)" if len(items) > MAX_ERRORS_SHOWN else ""
    return "; ".join(shown) + more


def _schema_errors(errors: list[jsonschema.ValidationError]) -> str:
    shown = [f"{_where(list(e.absolute_path))}: {e.message}" for e in errors[:MAX_ERRORS_SHOWN]]
    more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
    return "; ".join(shown) + more
