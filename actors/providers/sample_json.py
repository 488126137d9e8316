"""A JSON value valid for a JSON Schema, drawn from a seeded RNG: the simulated model's
structured answers.

Covers what pydantic models and our job types produce: objects, arrays (`minItems`,
`maxItems`, `uniqueItems` of enums), strings (`enum`, `const`, `minLength`,
`maxLength`), integers and numbers with inclusive or exclusive bounds, booleans, null,
`$ref` into `$defs`, and `anyOf`/`oneOf`/`allOf` (the first branch that is not null).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

WORDS = (
    "amber", "harbor", "lantern", "quiet", "river", "stone", "ember", "willow", "north",
    "signal", "meadow", "copper", "tide", "ledger", "orchard", "falcon", "summit", "velvet",
    "cinder", "grove", "beacon", "silver", "hollow", "thistle", "marble", "raven", "crystal",
    "juniper", "canyon", "frost", "harvest", "island",
)  # fmt: skip
# Properties with these names read better as a few capitalised words.
TITLE_LIKE = {"name", "title", "label", "heading"}
DEFAULT_ARRAY_SPAN = 2  # unbounded arrays get minItems … minItems + 2 items
DEFAULT_NUMBER_SPAN = 100


def sample(schema: dict[str, Any], rng: random.Random) -> Any:
    return _Sampler(schema, rng).value(schema, None)


class _Sampler:
    def __init__(self, root: dict[str, Any], rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def value(self, schema: dict[str, Any], name: str | None) -> Any:
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        kind = _type_of(schema)
        if kind == "object":
            properties = schema.get("properties", {})
            return {key: self.value(sub, key) for key, sub in properties.items()}
        if kind == "array":
            return self._array(schema)
        if kind == "integer":
            low, high = _bounds(schema, integer=True)
            return self.rng.randint(math.ceil(low), math.floor(high))
        if kind == "number":
            low, high = _bounds(schema, integer=False)
            return round(self.rng.uniform(low, high), 2)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema, name)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in schema:
                schema = self._lookup(schema["$ref"])
            elif "allOf" in schema and len(schema["allOf"]) == 1:
                schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
            elif "anyOf" in schema or "oneOf" in schema:
                options = schema.get("anyOf") or schema.get("oneOf") or []
                not_null = [o for o in options if o.get("type") != "null"]
                schema = (not_null or options)[0]
            else:
                return schema

    def _lookup(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        result: dict[str, Any] = node
        return result

    def _array(self, schema: dict[str, Any]) -> list[Any]:
        low = schema.get("minItems", 1)
        high = schema.get("maxItems", low + DEFAULT_ARRAY_SPAN)
        count = self.rng.randint(low, min(high, low + DEFAULT_ARRAY_SPAN))
        items = self._resolve(schema.get("items", {}))
        if schema.get("uniqueItems") and "enum" in items:
            choices = list(items["enum"])
            return self.rng.sample(choices, min(count, len(choices)))
        values = [self.value(items, None) for _ in range(count)]
        if schema.get("uniqueItems"):
            values = _distinct(values)
        return values

    def _string(self, schema: dict[str, Any], name: str | None) -> str:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength", max(low, 80))
        title = name in TITLE_LIKE
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randint(2, 3 if title else 8))]
        text = " ".join(w.capitalize() for w in words) if title else " ".join(words).capitalize()
        while len(text) < low:
            text += " " + self.rng.choice(WORDS)
        text = text[:high]
        return text.rstrip() if len(text.rstrip()) >= low else text


def _distinct(values: list[Any]) -> list[Any]:
    """`values` without repeats (a repeated string gets a number; other repeats are dropped)."""
    seen: set[str] = set()
    result = []
    for number, value in enumerate(values, start=1):
        if isinstance(value, str) and json.dumps(value) in seen:
            value = f"{value} {number}"
        if json.dumps(value, sort_keys=True) not in seen:
            seen.add(json.dumps(value, sort_keys=True))
            result.append(value)
    return result


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        return "object" if "properties" in schema else "string"
    return str(kind)


def _bounds(schema: dict[str, Any], *, integer: bool) -> tuple[float, float]:
    step = 1 if integer else 0.01
    low = schema.get("minimum")
    if low is None and "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + step
    high = schema.get("maximum")
    if high is None and "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - step
    if low is None:
        low = 0 if high is None or high >= 0 else high - DEFAULT_NUMBER_SPAN
    if high is None:
        high = low + DEFAULT_NUMBER_SPAN
    return low, high
