"""`key=value` params on the command line become the JSON the type's schema asks for."""

from __future__ import annotations

import pytest

from client.commands.submit import parse_params

SCHEMA = {
    "properties": {
        "prompt": {"type": "string"},
        "count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "system": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "strict": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
    }
}


def test_strings_stay_strings_and_the_rest_is_json() -> None:
    pairs = ["prompt=42", "count=3", 'tags=["a","b"]', "system=be brief", "strict=true"]
    assert parse_params(pairs, SCHEMA) == {
        "prompt": "42",
        "count": 3,
        "tags": ["a", "b"],
        "system": "be brief",
        "strict": True,
    }


def test_key_colon_equals_forces_json_and_values_may_hold_equals_signs() -> None:
    assert parse_params(["prompt:=null", "system=a=b"], SCHEMA) == {"prompt": None, "system": "a=b"}


@pytest.mark.parametrize(("pair", "message"), [("prompt", "key=value"), ("count=three", "JSON")])
def test_bad_pairs_say_what_is_wrong(pair: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_params([pair], SCHEMA)
