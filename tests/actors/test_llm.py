"""ctx.llm against the loopback server: tiers, streamed output, usage per stage, one repair
round for structured output, and closing the request when the step is cancelled."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel, Field

from actors.pipeline.errors import InvalidOutput
from actors.pipeline.llm import LLM, LLMSetup, ModelTiers
from actors.pipeline.output import OutputStream
from actors.pipeline.usage import UsageTotals
from actors.providers.base import Message
from actors.providers.openai import OpenAIProvider
from tests.openai_server import OpenAIServer, Stream

MESSAGES: list[Message] = [{"role": "user", "content": "Describe the ship Albatross"}]
TIERS = ModelTiers(default="loop-default", small="loop-small", large="loop-large")


class Ship(BaseModel):
    name: str = Field(min_length=1)
    crew: int = Field(ge=3, le=12)


class Published:
    def __init__(self) -> None:
        self.chunks: list[tuple[str, str]] = []

    def open(self, stage: str) -> OutputStream:
        async def publish(chunk: str) -> None:
            self.chunks.append((stage, chunk))

        return OutputStream(publish, interval=0.01)


def make_llm(provider: OpenAIProvider, published: Published | None = None) -> LLM:
    usage = UsageTotals(provider=provider.name)
    return LLM(LLMSetup(provider, TIERS), usage, (published or Published()).open)


async def test_each_tier_calls_its_model_and_usage_adds_up_per_stage(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Stream("a b", usage=(10, 2)), Stream("c d e", usage=(20, 3)))
    llm = make_llm(provider)
    assert await llm.text(MESSAGES, stage="analyze", tier="small") == "a b"
    assert await llm.text(MESSAGES, stage="generate", tier="large") == "c d e"
    assert [r.body["model"] for r in server.seen("Albatross")] == ["loop-small", "loop-large"]
    usage = llm.usage.as_json()
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["llm_calls"]) == (30, 5, 2)
    assert usage["stages"]["analyze"]["model"] == "loop-small"
    assert usage["stages"]["generate"]["completion_tokens"] == 3
    assert usage["tokens_counted_locally"] is False
    assert "json_mode" not in usage and "json_mode" not in usage["stages"]["analyze"]


async def test_streamed_text_reaches_clients_as_output_of_its_stage(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Stream("one two three four", delay=0.005))
    published = Published()
    text = await make_llm(provider, published).stream_text(MESSAGES, stage="answer")
    assert text == "one two three four"
    assert "".join(chunk for _, chunk in published.chunks) == text
    assert {stage for stage, _ in published.chunks} == {"answer"}


async def test_an_invalid_answer_is_repaired_once(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    invalid = json.dumps({"name": "", "crew": 40})
    server.plan("Albatross", Stream(invalid), Stream(json.dumps({"name": "Albatross", "crew": 9})))
    llm = make_llm(provider)
    ship = await llm.json(MESSAGES, Ship, stage="ship")
    assert ship == Ship(name="Albatross", crew=9)
    first, repair = server.seen("Albatross")
    # Asked for JSON in the request and in the prompt; the repair shows what was wrong.
    assert first.body["response_format"]["json_schema"]["schema"] == Ship.model_json_schema()
    assert "JSON Schema" in first.body["messages"][0]["content"]
    assert repair.body["messages"][-2] == {"role": "assistant", "content": invalid}
    said = repair.body["messages"][-1]["content"]
    assert "name: String should have at least 1 character" in said
    assert "crew: Input should be less than or equal to 12" in said
    usage = llm.usage.as_json()
    assert usage["stages"]["ship"]["llm_calls"] == 2
    # Which mode asked for the JSON, and that this answer needed its repair round.
    json_fields = ("json_mode", "json_answers", "json_clamped", "json_repaired")
    assert [usage["stages"]["ship"][f] for f in json_fields] == ["json_schema", 1, 0, 1]
    assert [usage[f] for f in json_fields] == ["json_schema", 1, 0, 1]


async def test_numbers_outside_their_bounds_are_clamped_without_a_repair_round(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    # As llama-cpp-python's grammars let through: bounded lengths, unbounded numbers.
    server.plan("Albatross", Stream(json.dumps({"name": "Albatross", "crew": 40})))
    llm = make_llm(provider)
    assert await llm.json(MESSAGES, Ship, stage="ship") == Ship(name="Albatross", crew=12)
    assert len(server.seen("Albatross")) == 1
    usage = llm.usage.as_json()
    assert (usage["json_answers"], usage["json_clamped"], usage["json_repaired"]) == (1, 1, 0)


async def test_a_newline_typed_inside_a_string_is_still_that_string(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Stream('{"name": "The\nAlbatross", "crew": 9}'))
    ship = await make_llm(provider).json(MESSAGES, Ship, stage="ship")
    assert ship == Ship(name="The\nAlbatross", crew=9)
    assert len(server.seen("Albatross")) == 1


async def test_a_second_invalid_answer_is_invalid_output_with_the_validation_error(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Stream("I would rather not."), Stream('```json\n{"name": ""}\n```'))
    with pytest.raises(InvalidOutput) as raised:
        await make_llm(provider).json(MESSAGES, Ship, stage="ship")
    assert raised.value.as_json()["code"] == "invalid_output"
    assert "not valid JSON" in server.seen("Albatross")[1].body["messages"][-1]["content"]
    assert "name: String should have at least 1 character" in raised.value.message
    assert "crew: Field required" in raised.value.message
    assert len(server.seen("Albatross")) == 2  # one repair round, no more


async def test_a_json_schema_dict_works_like_a_model(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}
    server.plan("Albatross", Stream('{"n": "5"}'), Stream('{"n": 2}'), Stream('{"n": 7}'))
    llm = make_llm(provider)
    assert await llm.json(MESSAGES, schema, stage="count") == {"n": 2}
    assert "n: '5' is not of type 'integer'" in server.seen("Albatross")[1].prompt
    assert await llm.json(MESSAGES, schema, stage="count") == {"n": 3}  # clamped


async def test_cancelling_a_step_closes_its_request_and_charges_only_what_arrived(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Stream(" ".join(["wave"] * 300), delay=0.01))
    published = Published()
    llm = make_llm(provider, published)
    task = asyncio.create_task(llm.stream_text(MESSAGES, stage="answer"))
    seen = await asyncio.to_thread(server.request, "Albatross")
    await asyncio.to_thread(server.wait_for, lambda: seen.chunks_sent >= 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(server.wait_for, lambda: seen.client_closed_at is not None)
    stage = llm.usage.as_json()["stages"]["answer"]
    assert stage["llm_calls"] == 1
    assert 0 < stage["completion_tokens"] < 300
    # What was charged is what clients were shown, not what the server could have sent.
    shown = "".join(chunk for _, chunk in published.chunks)
    assert stage["completion_tokens"] == len(shown.split())
