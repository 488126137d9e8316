"""The simulated model's structured answers are valid for the schema they were asked for."""

from __future__ import annotations

import random
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from actors.jobtypes.backlog import Epic, Story, task_list
from actors.jobtypes.canvas import CanvasParams, drawing_schema
from actors.jobtypes.lore import Skills, Stats, Traits
from actors.jobtypes.personas import batch_schema
from actors.jobtypes.workflow import Analysis, Workflow
from actors.providers.sample_json import sample

EVERY_FEATURE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"const": "fixed"},
        "mood": {"enum": ["calm", "stormy"]},
        "tags": {
            "type": "array",
            "items": {"enum": ["a", "b", "c"]},
            "uniqueItems": True,
            "minItems": 2,
            "maxItems": 3,
        },
        "words": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "code": {"type": "string", "minLength": 30, "maxLength": 32},
        "short": {"type": "string", "maxLength": 3},
        "odds": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "level": {"type": "integer", "minimum": -5, "maximum": -1},
        "depth": {"type": "integer", "exclusiveMinimum": 10},
        "maybe": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]},
        "points": {"type": "array", "items": {"$ref": "#/$defs/Point"}, "minItems": 25},
        "flag": {"type": "boolean"},
        "nothing": {"type": "null"},
        "either": {"type": ["null", "integer"], "minimum": 1, "maximum": 1},
    },
    "$defs": {
        "Point": {
            "type": "object",
            "properties": {"x": {"type": "number", "maximum": -100}, "y": {"type": "integer"}},
            "required": ["x", "y"],
            "additionalProperties": False,
        }
    },
    "required": ["id", "mood", "tags", "code", "odds", "level", "points"],
}

MODELS: list[type[BaseModel]] = [
    Traits, Skills, Stats, Analysis, Workflow, Epic, Story, task_list(3), batch_schema(20),
]  # fmt: skip


def valid(schema: dict[str, Any], value: Any) -> None:
    jsonschema.Draft202012Validator(schema).validate(value)


@pytest.mark.parametrize("seed", range(30))
def test_every_supported_keyword_is_honoured(seed: int) -> None:
    value = sample(EVERY_FEATURE, random.Random(seed))
    valid(EVERY_FEATURE, value)
    assert len(value["points"]) >= 25


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_job_types_schemas_get_valid_answers(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    for seed in range(20):
        model.model_validate(sample(schema, random.Random(seed)))


def test_the_canvas_schema_is_bounded_by_the_canvas() -> None:
    schema = drawing_schema(CanvasParams(request="a boat", width=120, height=100, max_objects=2))
    for seed in range(20):
        drawing = sample(schema, random.Random(seed))
        valid(schema, drawing)
        assert all(obj["x"] <= 120 and obj["h"] <= 100 for obj in drawing["objects"])


def test_the_same_seed_gives_the_same_value_and_another_seed_another() -> None:
    schema = Workflow.model_json_schema()
    assert sample(schema, random.Random(1)) == sample(schema, random.Random(1))
    assert sample(schema, random.Random(1)) != sample(schema, random.Random(2))
