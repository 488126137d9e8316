"""Every job type runs to `completed` on the simulated model through the real worker,
with the progress its table row names, read from the event stream as a browser reads it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.e2e.follow import Finished, run_job
from tests.stack import Stack

LORE_STAGES = {
    "characters": ["name", "appearance", "backstory", "traits", "skills", "stats"],
    "settings": ["name", "landscape", "culture", "history", "economy", "summary"],
    "factions": ["name", "ideology", "appearance", "summary"],
    "events": ["name", "description", "impact"],
    "relics": ["name", "description", "history"],
}
LORE_COUNT = {"characters": 3, "settings": 1, "factions": 2, "events": 2, "relics": 1}


def assert_completed(done: Finished) -> dict[str, Any]:
    assert done.statuses == ["running", "completed"], done.job["error"]
    assert (done.job["status"], done.job["progress"]) == ("completed", 100)
    values = [e["progress"] for e in done.progress]
    assert values == sorted(values)
    assert done.job["usage"]["provider"] == "simulated"
    assert done.events[-1]["result"] == done.job["result"]
    result: dict[str, Any] = done.job["result"]
    return result


@pytest.fixture(scope="module")
def lore_jobs(stack: Stack) -> dict[str, Finished]:
    async def all_kinds() -> list[Finished]:
        return await asyncio.gather(
            *(
                run_job(
                    stack, "generate_lore", {"kind": kind, "theme": "a drowned empire", "count": n}
                )
                for kind, n in LORE_COUNT.items()
            )
        )

    return dict(zip(LORE_COUNT, asyncio.run(all_kinds()), strict=True))


# The seed systems' own type names: each a lore kind, `kind` fixed by the name.
SEED_NAMES = {
    "generate_characters": "characters",
    "generate_factions": "factions",
    "generate_settings": "settings",
    "generate_events": "events",
    "generate_relics": "relics",
    "create_world": "worlds",
}


def test_each_lore_kind_runs_under_its_seed_name(stack: Stack) -> None:
    async def all_names() -> list[Finished]:
        return await asyncio.gather(
            *(
                run_job(stack, name, {"theme": "a drowned empire", "count": 1})
                for name in SEED_NAMES
            )
        )

    for name, done in zip(SEED_NAMES, asyncio.run(all_names()), strict=True):
        result = assert_completed(done)
        kind = SEED_NAMES[name]
        assert (done.job["type"], result["kind"], len(result["items"])) == (name, kind, 1)
        stages = LORE_STAGES.get(kind, ["name", "regions", "factions", "history"])
        assert list(result["items"][0]) == stages


def test_create_world_has_named_regions_and_factions(stack: Stack) -> None:
    done = asyncio.run(run_job(stack, "create_world", {"theme": "islands of glass"}))
    world = assert_completed(done)["items"][0]
    assert isinstance(world["name"], str) and world["history"]
    for part in ("regions", "factions"):
        assert 2 <= len(world[part]) <= 5
        assert all(place["name"] and place["description"] for place in world[part])
    assert "Generated regions…" in {p["message"] for p in done.progress}


@pytest.mark.parametrize("kind", LORE_STAGES)
def test_generate_lore_moves_through_items_times_stages(
    lore_jobs: dict[str, Finished], kind: str
) -> None:
    done = lore_jobs[kind]
    result = assert_completed(done)
    stages, count = LORE_STAGES[kind], LORE_COUNT[kind]
    progress = done.progress
    assert (progress[0]["progress"], progress[0]["stage"]) == (0, "brief")
    assert progress[1]["progress"] == 20
    steps = [p for p in progress if p["message"].startswith("Generated ")]
    assert len(steps) == count * len(stages)  # 3 characters × 6 stages = 18 steps
    assert all(20 < p["progress"] <= 90 for p in steps)
    assert steps[-1]["progress"] == 90
    assert {p["stage"] for p in steps} == set(stages)
    assert (progress[-1]["progress"], progress[-1]["message"]) == (90, "Finalizing…")
    assert len(result["items"]) == count
    assert result["failed_items"] == []
    for item in result["items"]:
        assert list(item) == stages
        assert all(item[stage] for stage in stages)
    usage = done.job["usage"]
    assert set(usage["stages"]) == {"brief", *stages}
    assert usage["llm_calls"] == 1 + count * len(stages)
    assert usage["completion_tokens"] == sum(
        s["completion_tokens"] for s in usage["stages"].values()
    )


def test_generated_characters_are_structured_for_a_frontend(
    lore_jobs: dict[str, Finished],
) -> None:
    done = lore_jobs["characters"]
    assert "Generated backstories…" in {p["message"] for p in done.progress}
    for character in done.job["result"]["items"]:
        assert isinstance(character["name"], str) and isinstance(character["backstory"], str)
        assert 3 <= len(character["traits"]) <= 5
        assert all(1 <= skill["level"] <= 10 for skill in character["skills"])
        assert set(character["stats"]) == {
            "strength", "dexterity", "constitution", "intelligence", "wisdom", "charisma",
        }  # fmt: skip


async def test_generate_workflow_analyzes_generates_and_validates(stack: Stack) -> None:
    requirements = "Onboard a new employee: accounts, equipment, a buddy, a first-week plan."
    done = await run_job(stack, "generate_workflow", {"requirements": requirements})
    result = assert_completed(done)
    phases = [(p["progress"], p["stage"]) for p in done.progress]
    assert phases == [(0, "analyze"), (30, "generate"), (90, "validate")]
    # The workflow JSON streamed to the client as the model wrote it.
    streamed = json.loads(done.output("generate"))
    assert [step["name"] for step in streamed["steps"]] == [
        step["name"] for step in result["workflow"]["steps"]
    ]
    steps = result["workflow"]["steps"]
    assert [s["id"] for s in steps] == [f"step-{n}" for n in range(1, len(steps) + 1)]
    assert [s["next"] for s in steps] == [[t["id"]] for t in steps[1:]] + [[]]
    assert result["analysis"]["goal"]
    stages = done.job["usage"]["stages"]
    assert set(stages) == {"analyze", "generate", "validate"}
    assert stages["analyze"]["llm_calls"] == stages["generate"]["llm_calls"] == 1
    assert stages["validate"]["llm_calls"] == 0  # the simulated model's JSON is valid
    assert stages["analyze"]["seconds"] > 0 and stages["generate"]["seconds"] > 0
    assert stages["validate"]["seconds"] >= 0


async def test_generate_personas_makes_each_persona_with_a_bio_per_platform(stack: Stack) -> None:
    done = await run_job(stack, "generate_personas", {"count": 3, "audience": "sailors"})
    result = assert_completed(done)
    assert (result["count"], result["requested"], result["batches"]) == (3, 3, 1)
    assert result["failed_items"] == []
    assert [p["id"] for p in result["personas"]] == [1, 2, 3]
    for persona in result["personas"]:
        assert persona["gender"] in {"female", "male", "non-binary"}
        assert persona["name"] == f"{persona['first_name']} {persona['last_name']}"
        assert set(persona["bios"]) == {"facebook", "instagram", "x", "tiktok"}
        assert len(persona["bios"]["tiktok"]) <= 80
    assert "Generated batch 1/1…" in [p["message"] for p in done.progress]


async def test_generate_backlog_goes_epic_then_stories_then_tasks(stack: Stack) -> None:
    params = {"description": "A tide table app for harbours", "stories": 2, "tasks_per_story": 2}
    done = await run_job(stack, "generate_backlog", params)
    result = assert_completed(done)
    seen = [(p["progress"], p["message"]) for p in done.progress]
    title = result["epic"]["title"]
    assert seen[:4] == [
        (0, "Generating Epic…"),
        (30, f"Epic created: {title}"),
        (30, "Generating Stories 1/2…"),
        (45, "Generating Stories 2/2…"),
    ]
    assert seen[4] == (60, "Stories created: 2 stories")
    assert seen[-1] == (99, "Backlog generation complete")
    tasks = [(pct, m) for pct, m in seen[5:] if m.startswith("Generating Tasks for Story")]
    assert sorted(m for _, m in tasks) == [
        "Generating Tasks for Story 1/2…",
        "Generating Tasks for Story 2/2…",
    ]
    assert all(60 <= pct < 100 for pct, _ in seen[4:])
    assert result["counts"] == {
        "stories": 2,
        "tasks": 4,
        "points": sum(s["points"] for s in result["epic"]["stories"]),
    }
    for story in result["epic"]["stories"]:
        assert len(story["tasks"]) == 2
        assert story["acceptance_criteria"]


async def test_create_canvas_parses_validates_and_saves(stack: Stack) -> None:
    params = {"request": "a lighthouse on a cliff at night", "width": 400, "height": 300}
    done = await run_job(stack, "create_canvas", params)
    result = assert_completed(done)
    assert [p["stage"] for p in done.progress] == ["parse", "validate", "save"]
    assert json.loads(done.output("parse"))["title"] == result["title"]
    assert result["objects"]
    for n, obj in enumerate(result["objects"], 1):
        assert set(obj) == {"id", "z", "kind", "x", "y", "w", "h", "text", "color"}
        assert (obj["id"], obj["z"]) == (f"obj-{n}", n)
        assert obj["x"] + obj["w"] <= 400 and obj["y"] + obj["h"] <= 300
        assert obj["color"].startswith("#")
