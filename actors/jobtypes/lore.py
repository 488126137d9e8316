"""`generate_lore`: characters, factions, settings, events or relics for a theme.

A brief of the theme first (0 → 20), then every item in parallel through its kind's
stages, one model call each (20 → 90, one step per item and stage: "Generated
backstories…"), then 90 "Finalizing…". Later stages see what earlier ones produced.
The brief and each item's stages are checkpointed: a new attempt resumes at the first
stage that had not finished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.pipeline.fanout import ItemProgress
from actors.pipeline.prompts import ask
from actors.registry import JobType, register

Kind = Literal["characters", "factions", "settings", "events", "relics"]
SINGULAR = {
    "characters": "character",
    "factions": "faction",
    "settings": "setting",
    "events": "event",
    "relics": "relic",
}


class LoreParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="What to create")
    theme: str = Field(min_length=1, max_length=500, description="The world or genre")
    count: int = Field(default=3, ge=1, le=10, description="How many items, generated in parallel")


class Name(BaseModel):
    name: str = Field(min_length=1, max_length=80)


class Traits(BaseModel):
    traits: list[str] = Field(min_length=3, max_length=5)


class Skill(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    level: int = Field(ge=1, le=10)


class Skills(BaseModel):
    skills: list[Skill] = Field(min_length=3, max_length=5)


class Stats(BaseModel):
    strength: int = Field(ge=1, le=20)
    dexterity: int = Field(ge=1, le=20)
    constitution: int = Field(ge=1, le=20)
    intelligence: int = Field(ge=1, le=20)
    wisdom: int = Field(ge=1, le=20)
    charisma: int = Field(ge=1, le=20)


@dataclass(frozen=True)
class Stage:
    name: str  # the item's field, and the progress stage
    done: str  # what has been generated, for the progress message
    ask: str
    schema: type[BaseModel] | None = None  # a structured answer; prose when None


NAME = Stage("name", "names", "Give it a fitting, original name.", Name)
SUMMARY = Stage("summary", "summaries", "Sum it up in two sentences.")
DESCRIPTION = Stage("description", "descriptions", "Describe it in three or four sentences.")
HISTORY = Stage("history", "histories", "Tell its history in three or four sentences.")
APPEARANCE = Stage("appearance", "appearances", "Describe how it looks in three sentences.")
STAGES: dict[str, tuple[Stage, ...]] = {
    "characters": (
        NAME,
        APPEARANCE,
        Stage("backstory", "backstories", "Write a backstory of four or five sentences."),
        Stage("traits", "traits", "List three to five personality traits.", Traits),
        Stage("skills", "skills", "List three to five skills with a level from 1 to 10.", Skills),
        Stage("stats", "stats", "Give ability scores from 1 to 20.", Stats),
    ),
    "settings": (
        NAME,
        Stage("landscape", "landscapes", "Describe its landscape in three sentences."),
        Stage("culture", "cultures", "Describe the culture of its people in three sentences."),
        HISTORY,
        Stage("economy", "economies", "Describe its economy in three sentences."),
        SUMMARY,
    ),
    "factions": (
        NAME,
        Stage("ideology", "ideologies", "Describe what it believes and wants."),
        APPEARANCE,
        SUMMARY,
    ),
    "events": (NAME, DESCRIPTION, Stage("impact", "impacts", "Describe its consequences.")),
    "relics": (NAME, DESCRIPTION, HISTORY),
}


async def run(ctx: JobContext, params: LoreParams) -> dict[str, Any]:
    stages = STAGES[params.kind]
    one = SINGULAR[params.kind]
    await ctx.progress(0, f"Sketching the world of “{params.theme[:60]}”…", "brief")
    brief = await ctx.checkpoint(
        "brief",
        lambda: ctx.llm.text(
            ask(
                "You are a worldbuilding writer. Be concrete and consistent.",
                f"Write a short brief (five sentences) of a world with this theme: {params.theme}",
            ),
            stage="brief",
            tier="small",
        ),
    )
    await ctx.progress(20, f"Generating {params.count} {params.kind}…", stages[0].name)

    async def item(index: int, progress: ItemProgress) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for stage in stages:
            fields[stage.name] = await ctx.checkpoint(
                f"{stage.name}/{index}",
                partial(_generate, ctx, params, brief, index, dict(fields), stage),
            )
            await progress.step_done(f"Generated {stage.done}…", stage.name)
        return fields

    done = await ctx.fan_out(
        range(params.count),
        item,
        span=(20, 90),
        steps=len(stages),
        label=lambda index, _: f"{one} {index + 1}",
    )
    await ctx.progress(90, "Finalizing…", "finalize")
    return {
        "kind": params.kind,
        "theme": params.theme,
        "brief": brief.strip(),
        "items": done.succeeded,
        "failed_items": done.failed,
    }


async def _generate(
    ctx: JobContext,
    params: LoreParams,
    brief: str,
    index: int,
    so_far: dict[str, Any],
    stage: Stage,
) -> Any:
    one = SINGULAR[params.kind]
    messages = ask(
        f"You are a worldbuilding writer. The world: {brief}",
        f"We are creating {one} {index + 1} of {params.count} for the theme “{params.theme}”. "
        f"What we have so far: {json.dumps(so_far, ensure_ascii=False)}\n{stage.ask}",
    )
    if stage.schema is None:
        return (await ctx.llm.text(messages, stage=stage.name)).strip()
    value = (await ctx.llm.json(messages, stage.schema, stage=stage.name)).model_dump()
    # A one-field answer ({"name": …}) is that field's value; ability scores stay an object.
    return value[stage.name] if set(value) == {stage.name} else value


register(
    JobType(
        name="generate_lore",
        title="Generate lore",
        description="Characters, factions, settings, events or relics for a theme, "
        "each item through its own stages, in parallel.",
        params=LoreParams,
        run=run,
        time_limit=900,
    )
)
